"""The issue's two journeys in a real browser, each in English and in Japanese.

1. The CSM morning: sign in → My book lists what needs them, most urgent first → the due account's
   "log touch" → the quick-log form on the account page → back home the account is no longer due,
   the due list is empty and the coverage rate on the report has moved at once (no recompute).
2. The manager review: sign in → team home (KPI cards, one row per CSM) → the coverage report and its
   per-segment table → the matrix of one CSM, with only that CSM's accounts.

One code path for both languages: the pages are reached by URL, id, data attribute and CSS class,
never by English words; the language is the signed-in person's saved preference. Each step is
saved as a screenshot into the folder named by JOURNEY_SCREENSHOTS (nothing is saved when it is
unset), for a reviewer to read by eye; the figures are asserted, the pixels are not.

The Japanese of a message is asserted as the compiled catalogue has it (`ja()`); the strings in
TRANSLATED are also checked to be Japanese, so a page that fell back to English fails.
"""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import translation
from playwright.sync_api import expect

from coverage.models import TouchModel
from cs_platform.tasks import recompute_workspace
from segments.services import save_segment
from workspaces.services import set_user_language

from .factories import AccountFactory, TouchpointFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ja"]
# Headings and messages of these journeys that the Japanese catalogue translates: on a Japanese page
# they must not be English.
TRANSLATED = ["My book", "Touch coverage", "Priority matrix", "Coverage rate", "Per CSM", "Touchpoint logged."]


def say(language, message):
    """`message` as the page in `language` shows it."""
    with translation.override(language):
        return translation.gettext(message)


@pytest.fixture(autouse=True)
def _translated():
    for message in TRANSLATED:
        assert say("ja", message) != message, f"{message!r} has no Japanese in the catalogue"


class Camera:
    """Full-page screenshots, numbered in journey order, when JOURNEY_SCREENSHOTS names a folder.

    Each step also checks that nothing scrolls sideways on a 1280 px screen (a long English table
    header did, on the team home)."""

    def __init__(self, page, journey, language):
        folder = os.environ.get("JOURNEY_SCREENSHOTS")
        self.page, self.folder, self.prefix, self.n = page, Path(folder) if folder else None, f"{journey}-{language}", 0

    def __call__(self, step):
        self.n += 1
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], f"{step}: the page is {width} px wide"
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.folder / f"{self.prefix}-{self.n:02d}-{step}.png"), full_page=True)


def _at(ws, days_ago):
    return dt.datetime.combine(ws.today() - dt.timedelta(days=days_ago), dt.time(10), tzinfo=ws.tz)


def book(ws, manager, csm, csm2):
    """Eight active accounts, four each for Kenji (csm) and Yui (csm2), computed today.

    Tiers by ARR (high ≥ 10M every 30 days, low ≥ 1M every 90, tech every 180); the matrix counts
    licensed seats. Covered today: Hoshino, Aoba, Kawa, Fuji, Sendai (5 of 8 = 62.5%); Minato
    (Kenji's, last call 45 days ago) is 15 days overdue, Nagoya was never touched and Kobe's last
    touch is 200 days old. Kenji 3 of 4 (75.0%), Yui 2 of 4 (50.0%).
    Segments: Enterprise (ARR ≥ 10M) = Hoshino, Minato, Fuji: 2 of 3 (66.7%);
    Small business (ARR < 1M) = Kawa, Kobe: 1 of 2 (50.0%).
    """
    T = ws.today()
    specs = [  # name, owner, ARR, seats, contract start (days ago), last touch (days ago)
        ("Hoshino Foods KK", csm, 24_000_000, 40, 900, 10),
        ("Minato Logistics KK", csm, 12_000_000, 25, 200, 45),
        ("Aoba Clinic KK", csm, 3_000_000, 12, 100, 20),
        ("Kawa Design KK", csm, 600_000, 5, 60, 30),
        ("Fuji Retail KK", csm2, 18_000_000, 50, 1100, 5),
        ("Nagoya Parts KK", csm2, 5_000_000, 15, 300, None),
        ("Sendai Media KK", csm2, 2_000_000, 8, 500, 60),
        ("Kobe Travel KK", csm2, 800_000, 3, 400, 200),
    ]
    accounts = {}
    for name, owner, arr, seats, start, touched in specs:
        account = AccountFactory(workspace=ws, owner=owner, name=name, arr=Decimal(arr), licensed_seats=seats,
                                 contract_start=T - dt.timedelta(days=start),
                                 renewal_date=T - dt.timedelta(days=start) + dt.timedelta(days=365 * (start // 365 + 1)))
        if touched is not None:
            TouchpointFactory(account=account, author=owner, channel="video_meeting", occurred_at=_at(ws, touched),
                              summary="Monthly review of adoption and open requests.")
        accounts[name.split()[0].lower()] = account
    save_segment(workspace=ws, actor=manager, name="Enterprise", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 10_000_000}]})
    save_segment(workspace=ws, actor=manager, name="Small business", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "lt", "value": 1_000_000}]})
    TouchModel.objects.for_workspace(ws).update(matrix_users="seats")  # no usage events here to count
    recompute_workspace.apply(args=[ws.pk]).get()
    return SimpleNamespace(**accounts)


def start(browser_login, page, member, language):
    set_user_language(user=member.user, language=language)
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(member)
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_csm_morning(browser_login, page, ws, manager, csm, csm2, language):
    data = book(ws, manager, csm, csm2)
    t = lambda message: say(language, message)  # noqa: E731
    shot = Camera(page, "csm-morning", language)
    start(browser_login, page, csm, language)

    # Home: My book, the overdue account among what needs Kenji today.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My book"))
    rows = page.locator("table.book-rows tbody tr")
    expect(rows.first).to_be_visible()
    due = rows.filter(has_text=data.minato.name)
    expect(due).to_have_count(1)
    expect(due.locator("li.reason-touch")).to_have_count(1)
    expect(page.locator(".kpis [data-kpi=overdue] .value")).to_have_text("1")  # breaking coverage
    expect(rows.filter(has_text=data.fuji.name)).to_have_count(0)  # Yui's, not in Kenji's book
    shot("home")

    # The due list agrees.
    page.goto("/coverage/due/")
    expect(page.locator("table.due-list tbody tr")).to_have_count(1)
    expect(page.locator("table.due-list")).to_contain_text(data.minato.name)
    shot("due-list")

    # The coverage report before: 5 of 8.
    page.goto("/coverage/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Touch coverage"))
    expect(page.locator("#kpi-rate .value")).to_have_text("62.5%")
    shot("coverage-before")

    # The row's log-touch action opens the account page's quick-log form with the channel that covers it.
    page.goto("/")
    due.locator("a[href*='quicklog-title']").first.click()
    expect(page).to_have_url(re.compile(rf"/accounts/{data.minato.pk}/\?channel=phone#quicklog-title$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(data.minato.name)
    form = page.locator("form.quicklog-form")
    expect(form.locator("select[name=channel]")).to_have_value("phone")  # the cadence's first qualifying channel
    summary = "定例ミーティングで利用状況を確認" if language == "ja" else "Monthly review with the project lead"
    form.locator("textarea[name=summary]").fill(summary)
    shot("quick-log")
    form.locator("button[type=submit]").click()
    expect(page.locator(".message-success")).to_contain_text(t("Touchpoint logged."))
    expect(page.locator("#timeline")).to_contain_text(summary)
    shot("logged")

    # Home again: no longer due, nothing breaks coverage.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My book"))
    expect(page.locator(".kpis [data-kpi=overdue] .value")).to_have_text("0")
    expect(page.locator("table.book-rows li.reason-touch")).to_have_count(0)
    shot("home-after")
    page.goto("/coverage/due/")
    expect(page.locator("table.due-list")).to_have_count(0)
    expect(page.locator(".empty")).to_have_text(t("Nothing due: every account is covered for the next two weeks."))
    shot("due-list-after")

    # And the report moved at once, no recompute pressed: 6 of 8, Kenji 4 of 4.
    page.goto("/coverage/")
    expect(page.locator("#kpi-rate .value")).to_have_text("75.0%")
    kenji = page.locator("table.coverage-groups").first.locator("tbody tr", has_text=csm.display_name)
    expect(kenji.locator("td").nth(3)).to_have_text("100.0%")
    shot("coverage-after")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_manager_review(browser_login, page, ws, manager, csm, csm2, language):
    book(ws, manager, csm, csm2)
    t = lambda message: say(language, message)  # noqa: E731
    shot = Camera(page, "manager-review", language)
    start(browser_login, page, manager, language)

    # Team home: the KPI cards and one row per CSM.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Team"))
    coverage = page.locator("#kpi-coverage-all")
    expect(coverage.locator("h2")).to_contain_text(t("Coverage rate"))
    expect(coverage.locator(".value")).to_have_text("62.5%")
    expect(page.locator(".kpi-cards > *")).not_to_have_count(0)
    team = page.locator(".team-table tbody tr")
    expect(team).to_have_count(2)
    kenji, yui = team.filter(has_text=csm.display_name), team.filter(has_text=csm2.display_name)
    expect(kenji.locator("td").nth(1)).to_have_text("4")
    expect(kenji.locator("td").nth(3)).to_contain_text("75.0%")
    expect(yui.locator("td").nth(3)).to_contain_text("50.0%")
    expect(page.locator(".team-table tfoot th").nth(1)).to_have_text("8")
    expect(page.locator(".team-table h2")).to_have_text(t("Per CSM"))
    shot("team-home")

    # The coverage report: the total, per CSM and per segment.
    page.goto("/coverage/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Touch coverage"))
    expect(page.locator("#kpi-rate .value")).to_have_text("62.5%")
    expect(page.locator("#drill-down")).to_have_text("3")
    segments = page.locator("#per-segment table.coverage-groups tbody tr")
    expect(segments).to_have_count(2)
    enterprise = segments.filter(has_text="Enterprise")
    expect(enterprise.locator("td").nth(1)).to_have_text("3")
    expect(enterprise.locator("td").nth(3)).to_have_text("66.7%")
    small = segments.filter(has_text="Small business")
    expect(small.locator("td").nth(1)).to_have_text("2")
    expect(small.locator("td").nth(3)).to_have_text("50.0%")
    expect(page.locator("#per-segment h2")).to_have_text(t("Per segment"))
    shot("coverage-report")

    # The matrix: the whole team, then Kenji's alone through the report's owner filter.
    page.goto("/coverage/matrix/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Priority matrix"))
    counts = page.locator("table.matrix .cell-count")
    assert sum(int(n) for n in counts.all_inner_texts()) == 8
    shot("matrix-team")
    page.locator("form.filters select[name=owner]").select_option(str(csm.pk))
    page.locator("form.filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/coverage/matrix/\?.*owner={csm.pk}"))
    expect(page.locator("form.filters select[name=owner]")).to_have_value(str(csm.pk))
    assert sum(int(n) for n in counts.all_inner_texts()) == 4
    # Minato (25 seats, 6 months: A-b) breaks coverage; A-d holds Hoshino (40 seats, 30 months), not Yui's Fuji.
    expect(page.locator('td[data-cell="A-b"] .cell-count')).to_have_text("1")
    expect(page.locator('td[data-cell="A-b"] .cell-rate')).to_have_text("0.0%")
    expect(page.locator('td[data-cell="A-d"] .cell-count')).to_have_text("1")  # Hoshino, 30 months
    expect(page.locator('td[data-cell="A-d"] .cell-rate')).to_have_text("100.0%")
    shot("matrix-kenji")

    # Or straight from the team table: Yui's row links to the matrix of her book.
    page.goto("/")
    page.locator(".team-table tbody tr", has_text=csm2.display_name).locator(
        f'a[href="/coverage/matrix/?owner={csm2.pk}"]').click()
    expect(page.locator("form.filters select[name=owner]")).to_have_value(str(csm2.pk))
    assert sum(int(n) for n in counts.all_inner_texts()) == 4
    shot("matrix-yui")
