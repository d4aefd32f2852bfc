"""The playbook journey in a real browser, in English and in Japanese.

A manager designs a "renewal in 120 days" playbook and sees its preview (how many accounts would
enrol today) before saving; after a recompute the CSM finds the task in My book, completes it by
logging the call, and the task closes and the account's coverage turns covered, at once.

As in test_journeys_browser.py, pages are reached by URL, id and form field names, never by English
words; the language is the signed-in person's saved preference.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from coverage.models import CoverageSnapshot
from cs_platform.tasks import recompute_workspace
from playbooks.models import Playbook, PlaybookRun, Task, TaskStatus

from .factories import AccountFactory, TouchpointFactory
from .test_journeys_browser import LANGUAGES, Camera, say, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def renewals(ws, csm, csm2):
    """Three active accounts of Kenji's (csm) and one of Yui's: Hoshino renews in exactly 120 days and
    was never touched (its coverage is broken), Minato in 90 days (touched last week), Aoba in 121
    days (outside the window); Yui's Fuji renews in 30 days. The preview counts 3 (Hoshino, Minato,
    Fuji). The default library is switched off, so that only the manager's playbook enrols."""
    T = ws.today()
    Playbook.objects.for_workspace(ws).update(enabled=False)
    specs = [("Hoshino Foods KK", csm, 120, None), ("Minato Logistics KK", csm, 90, 7),
             ("Aoba Clinic KK", csm, 121, 7), ("Fuji Retail KK", csm2, 30, 7)]
    accounts = {}
    for name, owner, renews_in, touched in specs:
        account = AccountFactory(workspace=ws, owner=owner, name=name, arr=Decimal(3_000_000), licensed_seats=10,
                                 contract_start=T - dt.timedelta(days=365 - renews_in),
                                 renewal_date=T + dt.timedelta(days=renews_in))
        if touched is not None:
            TouchpointFactory(account=account, author=owner, channel="phone",
                              occurred_at=dt.datetime.combine(T - dt.timedelta(days=touched), dt.time(10),
                                                              tzinfo=ws.tz))
        accounts[name.split()[0].lower()] = account
    recompute_workspace.apply(args=[ws.pk]).get()  # coverage of today exists before the playbook does
    return accounts


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_renewal_playbook_from_design_to_a_covered_account(browser_login, page, ws, manager, csm, csm2,
                                                            language):
    accounts = renewals(ws, csm, csm2)
    hoshino = accounts["hoshino"]
    assert not CoverageSnapshot.objects.for_workspace(ws).get(account=hoshino, day=ws.today()).covered
    t = lambda message: say(language, message)  # noqa: E731
    shot = Camera(page, "playbook", language)

    # The manager designs the playbook and previews it before saving.
    start(browser_login, page, manager, language)
    page.goto("/playbooks/new/")
    form = page.locator("#playbook-form")
    form.locator("input[name=name]").fill("Renewal 120")
    form.locator("select[name=trigger_kind]").select_option("renewal_within")
    form.locator("input[name=trigger_days]").fill("120")
    form.locator("select[name=steps-0-kind]").select_option("task")
    form.locator("select[name=steps-0-type]").select_option("call")
    form.locator("input[name=steps-0-title]").fill("Renewal call with {account}")
    form.locator("[data-preview]").click()
    expect(page.locator("#playbook-preview .preview-count")).to_have_text(re.compile(r"^3 "))
    expect(page.locator("#playbook-preview")).to_contain_text(hoshino.name)
    expect(page.locator("#playbook-preview")).not_to_contain_text(accounts["aoba"].name)
    shot("preview")
    assert not Playbook.objects.for_workspace(ws).filter(name="Renewal 120").exists()  # nothing saved yet
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/playbooks/\d+/$"))
    shot("saved")
    playbook = Playbook.objects.for_workspace(ws).get(name="Renewal 120")

    # The night enrols the three accounts and creates their tasks.
    recompute_workspace.apply(args=[ws.pk]).get()
    assert PlaybookRun.objects.for_workspace(ws).filter(playbook=playbook).count() == 3
    task = Task.objects.for_workspace(ws).get(run__playbook=playbook, account=hoshino)
    assert task.assignee == csm and task.title == f"Renewal call with {hoshino.name}"

    # The CSM's morning starts from the task: My book lists it; completing it logs the call.
    page.context.clear_cookies()
    start(browser_login, page, csm, language)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("My book"))
    row = page.locator("table.book-rows tbody tr", has_text=hoshino.name)
    expect(row.locator("li.reason-task")).to_have_count(1)
    expect(page.locator("table.book-rows li.reason-task")).to_have_count(2)  # Kenji's two; Yui's is hers
    shot("my-book")
    row.locator(f"a[href*='/tasks/{task.pk}/complete/']").first.click()
    complete = page.locator("form.task-complete")
    expect(complete.locator("input[name=log_touch]")).to_be_checked()
    expect(complete.locator("select[name=channel]")).to_have_value("phone")
    complete.locator("textarea[name=outcome]").fill("更新の意向を確認" if language == "ja" else "They will renew")
    shot("complete")
    complete.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/my-book/$"))
    expect(page.locator("table.book-rows tbody tr", has_text=hoshino.name).locator("li.reason-task")).to_have_count(0)
    shot("my-book-after")

    # The task closed with the touch that did it, and the account is covered today, with no recompute.
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.touchpoint is not None
    assert task.touchpoint.channel == "phone" and task.touchpoint.author == csm
    assert CoverageSnapshot.objects.for_workspace(ws).get(account=hoshino, day=ws.today()).covered
    page.goto(f"/accounts/{hoshino.pk}/")
    expect(page.locator("#timeline")).to_contain_text(task.title)
    shot("account")
