"""The homes in a real browser: a manager's team home with its charts, a CSM's book and its action."""

import re

import pytest
from playwright.sync_api import expect

from .homes_data import team


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_manager_home_shows_kpi_cards_with_charts_and_the_team(browser_login, ws, manager, csm, csm2):
    team(ws, csm, csm2)
    page = browser_login(manager)
    page.goto("/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    coverage = page.locator("#kpi-coverage-all")
    expect(coverage.locator(".value")).to_have_text("60.0%")
    expect(coverage.locator(".change")).to_have_text("+20.0")
    expect(coverage.locator("svg path.series-0")).to_have_count(1)
    expect(page.locator("#kpi-health svg path")).to_have_count(3)  # green, yellow, red shares
    expect(page.locator("#kpi-stages svg rect.bar").first).to_be_visible()
    expect(page.locator("#kpi-renewals .value")).to_have_text("2")
    rows = page.locator(".team-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("Unassigned")

    page.get_by_role("link", name="4 weeks").click()
    expect(page.locator(".period-picker [aria-current]")).to_have_text("4 weeks")
    page.locator("#kpi-coverage-all .kpi-chart").click()
    expect(page).to_have_url(re.compile(r"/coverage/$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_csm_home_lists_the_book_and_its_action_opens_the_log_form(browser_login, ws, csm, csm2):
    data = team(ws, csm, csm2)
    page = browser_login(csm)
    page.goto("/")

    expect(page.get_by_role("heading", level=1)).to_have_text("My book")
    first = page.locator("table.book-rows tbody tr").first
    expect(first).to_contain_text("A1 Red Renewing KK")
    expect(first.locator("ul.reasons li")).to_have_count(4)
    first.locator("a.book-action").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(data.a1.name)
    expect(page.locator("form.quicklog-form select[name=channel]")).to_have_value("video_meeting")
