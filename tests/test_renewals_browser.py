"""In a browser: the renewals page with its charts passes axe-core with no serious or critical
violation, a bubble opens its account, and a CSM records an expansion from the table."""

import datetime as dt
from decimal import Decimal

import pytest

from renewals.models import RenewalOutcome

from .factories import AccountFactory, ContractFactory
from .test_accessibility_browser import blocking_violations

DAY = dt.timedelta(days=1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_renewals_page_in_a_browser(page, browser_login, ws, csm):
    today = ws.today()
    for i, (score, band, mrr, days) in enumerate([(20, "red", "900000", 12), (85, "green", "100000", 40),
                                                  (55, "yellow", "300000", 150), (None, "", "50000", 300)]):
        account = AccountFactory(workspace=ws, owner=csm, name=f"Customer {i} KK", health_score=score,
                                 health_band=band)
        ContractFactory(account=account, product="Core", mrr=Decimal(mrr), start_date=today - 300 * DAY,
                        end_date=today + days * DAY)
    browser_login(csm)
    page.goto("/renewals/")
    assert page.locator(".renewal-bubbles circle.bubble").count() == 4
    assert blocking_violations(page) == []
    page.locator(".renewal-bubbles a").first.click()  # the largest: the red one
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("Customer 0 KK")
    page.goto("/renewals/")
    page.locator("table.renewals a.button").first.click()
    page.check("input[name=outcome][value=expanded]")
    page.fill("input[name=new_mrr]", "950000")
    assert blocking_violations(page) == []
    page.click("#record-outcome button[type=submit]")
    page.wait_for_load_state()
    outcome = RenewalOutcome.objects.for_workspace(ws).get()
    assert (outcome.outcome, outcome.new_mrr, outcome.account.name) == ("expanded", Decimal("950000"), "Customer 0 KK")
