"""The manager's coverage path in a real browser: report → uncovered account → log a call → the
rate follows at once, and a recompute agrees."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cs_platform.tasks import recompute_workspace

from .factories import AccountFactory, TouchpointFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_drills_into_an_uncovered_account_and_covers_it(browser_login, ws, manager, csm):
    covered = AccountFactory(workspace=ws, owner=csm, name="Hikari Covered KK", arr=Decimal("3000000"))
    AccountFactory(workspace=ws, owner=csm, name="Kumo Uncovered KK", arr=Decimal("25000000"))
    TouchpointFactory(account=covered, author=csm, occurred_at=timezone.now() - dt.timedelta(days=2))
    recompute_workspace.apply(args=[ws.pk]).get()

    page = browser_login(manager)
    page.goto("/coverage/")
    rate = page.locator("#kpi-rate .value")
    expect(rate).to_have_text("50.0%")

    page.locator("#drill-down").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accounts breaking coverage")
    breaking = page.locator("table.breaking tbody tr")
    expect(breaking).to_have_count(1)
    expect(breaking.first).to_contain_text("Never touched")
    breaking.first.get_by_role("link", name="Log touch").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kumo Uncovered KK")
    expect(page.locator("#coverage")).to_contain_text("Never touched")
    form = page.locator("form.quicklog-form")
    expect(form.locator("select[name=channel]")).to_have_value("phone")
    form.locator("textarea[name=summary]").fill("Quarterly check-in call with the project lead")
    form.get_by_role("button", name="Log touchpoint").click()
    expect(page.locator(".message-success")).to_contain_text("Touchpoint logged.")
    expect(page.locator("#coverage")).to_contain_text("Covered")  # today's row follows the touch at once

    page.goto("/coverage/")
    expect(rate).to_have_text("100.0%")  # and so do the day's rate and drill-down, before any recompute
    expect(page.locator("#drill-down")).to_have_text("0")
    page.get_by_role("button", name="Recompute now").click()
    expect(page.locator(".message-success")).to_contain_text("Recomputed")
    expect(rate).to_have_text("100.0%")
    expect(page.locator("#drill-down")).to_have_text("0")
