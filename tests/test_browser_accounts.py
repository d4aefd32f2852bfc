"""The CSM's morning path in a real browser: log in, filter the list, open an account, log a call."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .factories import AccountFactory, ContactFactory, TouchpointFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_log_a_touchpoint_from_the_filtered_list(browser_login, ws, csm, csm2, account):
    AccountFactory(workspace=ws, owner=csm2, name="Sakura Foods KK")
    AccountFactory(workspace=ws, owner=csm, name="Fuji Trading KK")
    ContactFactory(account=account, name="Haruto Sato", role="champion")
    TouchpointFactory(account=account, author=csm, summary="Earlier check-in",
                      occurred_at=timezone.now() - dt.timedelta(days=10))

    page = browser_login(csm)
    page.goto("/accounts/")
    rows = page.locator("table.accounts tbody tr")
    expect(rows).to_have_count(3)

    page.fill("form.filters input[name=q]", "Sakura")
    page.select_option("form.filters select[name=owner]", str(csm.pk))
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("account-count")).to_contain_text("1 account")

    page.get_by_role("link", name="Sakura Logistics KK").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sakura Logistics KK")

    form = page.locator("form.quicklog-form")
    form.locator("select[name=channel]").select_option("video_meeting")
    form.get_by_label("Haruto Sato").check()
    form.locator("select[name=sentiment]").select_option("positive")
    form.locator("textarea[name=summary]").fill("Agreed the rollout plan for the Osaka office")
    form.get_by_role("button", name="Log touchpoint").click()

    expect(page.locator(".message-success")).to_contain_text("Touchpoint logged.")
    first = page.locator("#timeline ol.timeline > li").first
    expect(first).to_contain_text("Agreed the rollout plan for the Osaka office")
    expect(first).to_contain_text("Video meeting")
    expect(first).to_contain_text("Haruto Sato")
    expect(page.locator("#timeline ol.timeline > li")).to_have_count(2)
