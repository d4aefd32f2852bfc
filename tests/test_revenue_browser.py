"""Revenue in a real browser, in English and in Japanese: a manager opens revenue, picks a quarter,
clicks the churn bar of the waterfall and reads the churned accounts with their reasons and notes.

As in test_journeys_browser.py, pages are reached by URL, id and form field names, never by English
words; the language is the signed-in person's saved preference.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from accounts.selectors import churn_reason_names
from revenue.selectors import quarter_of

from .factories import AccountFactory, contract_line
from .test_journeys_browser import LANGUAGES, Camera, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def book(ws, csm):
    """Last quarter: Hoshino churned 20 days in (onboarding failure), Minato 40 days in (price), Aoba
    stayed flat and Kawa expanded."""
    q = quarter_of(quarter_of(ws.today()) - dt.timedelta(days=1))  # the first day of last quarter
    accounts = {}
    specs = [("Hoshino Foods KK", 20, "onboarding_failure", "Never went live."),
             ("Minato Logistics KK", 40, "price", "Found a cheaper tool."),
             ("Aoba Clinic KK", None, "", ""), ("Kawa Trading KK", None, "", "")]
    for name, churned_in, reason, note in specs:
        churned_on = q + dt.timedelta(days=churned_in) if churned_in else None
        account = AccountFactory(workspace=ws, owner=csm, name=name, status="churned" if churned_on else "active",
                                 churned_on=churned_on, churn_reason=reason, churn_note=note)
        contract_line(account, 100_000, q - dt.timedelta(days=300), churned_on)
        accounts[name.split()[0].lower()] = account
    contract_line(accounts["kawa"], 50_000, q + dt.timedelta(days=10))
    return accounts


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_manager_drills_from_the_churn_bar_to_the_reasons(browser_login, page, ws, manager, csm, language):
    accounts = book(ws, csm)
    shot = Camera(page, "revenue", language)
    start(browser_login, page, manager, language)
    page.goto("/revenue/?preset=this_quarter")
    expect(page.locator("#preset-this_quarter")).to_have_attribute("aria-current", "true")

    # The manager picks last quarter: the window, its cards and the waterfall.
    page.locator("#preset-last_quarter").click()
    expect(page.locator("#preset-last_quarter")).to_have_attribute("aria-current", "true")
    last_quarter = quarter_of(quarter_of(ws.today()) - dt.timedelta(days=1))
    expect(page.locator("#window")).to_contain_text(last_quarter.isoformat())
    expect(page.locator("#metric-start_logos .value")).to_have_text("4")
    expect(page.locator("#metric-churned_logos .value")).to_have_text("2")
    shot("window")

    # The churn bar leads to the churned accounts, with their reasons and notes.
    page.locator("#waterfall-churn").click()
    expect(page).to_have_url(re.compile(r"/revenue/movements/\?.*kind=churn"))
    rows = page.locator("#movement-rows tbody tr")
    expect(rows).to_have_count(2)
    table = page.locator("#movement-rows")
    expect(table).to_contain_text(accounts["hoshino"].name)
    # Reasons are the workspace's own list, named in the workspace's language (not the reader's).
    reasons = churn_reason_names(ws)
    expect(table).to_contain_text(reasons["onboarding_failure"])
    expect(table).to_contain_text("Never went live.")
    expect(table).to_contain_text(accounts["minato"].name)
    expect(table).to_contain_text(reasons["price"])
    expect(table).not_to_contain_text(accounts["aoba"].name)
    shot("churned")
