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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_csm_reads_the_matrix_of_their_own_book(browser_login, ws, manager, csm, csm2):
    from coverage.services import set_must_not_lose

    mine = AccountFactory(workspace=ws, owner=csm, name="Mine KK", arr=Decimal("3000000"), active_users_30d=25)
    AccountFactory(workspace=ws, owner=csm2, name="Theirs KK", arr=Decimal("3000000"), active_users_30d=8)
    TouchpointFactory(account=mine, author=csm, occurred_at=timezone.now() - dt.timedelta(days=2))
    # Not the usage step: with no events it would count 0 active users (the IDs of the matrix).
    recompute_workspace.apply(args=[ws.pk, ws.today().isoformat(), ["tiers", "segments", "coverage"]]).get()
    set_must_not_lose(workspace=ws, actor=manager, cell="A-d", must_not_lose=True)

    page = browser_login(csm)
    page.goto("/coverage/matrix/")
    expect(page.locator('td[data-cell="C-d"] .cell-count')).to_have_text("1")
    expect(page.locator("thead")).to_contain_text("0–3 months")
    expect(page.locator("tbody")).to_contain_text("≥ 21")
    expect(page.locator(".matrix-legend")).to_contain_text("≥ 90%")
    flagged = page.locator('td[data-cell="A-d"]')
    expect(flagged).to_have_class("matrix-cell heat-4 must-not-lose")
    expect(flagged).to_contain_text("Must not lose")

    page.locator("form.filters select[name=owner]").select_option(str(csm.pk))
    page.locator("form.filters").get_by_role("button", name="Apply").click()
    expect(page.locator('td[data-cell="C-d"] .cell-count')).to_have_text("0")
    expect(page.locator('td[data-cell="A-d"] .cell-count')).to_have_text("1")
    expect(page.locator('td[data-cell="A-d"] .cell-rate')).to_have_text("100.0%")

    page.goto("/coverage/matrix/?segment=999999")
    expect(page.locator(".filter-errors")).to_contain_text("Segment")
    expect(page.locator("table.matrix")).to_have_count(0)
