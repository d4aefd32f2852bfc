"""The demo's renewal outcomes are read from its contract lines: a successor starting on the renewal
day is a renewal (flat, up or down by MRR), a line ending with no successor on a churned account is a
churn; nothing else, nothing twice, and no lines at all is no outcome and no failure."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from cs_platform.demo_renewals import seed_renewals
from renewals.models import RenewalOutcome
from workspaces.models import AuditEvent
from workspaces.policy import SystemActor

from .factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 11, 29)
DEMO = SystemActor("demo")


def line(account, start, end, mrr, product="Core", renewal=None):
    return ContractFactory(account=account, start_date=start, end_date=end, mrr=Decimal(mrr), product=product,
                           renewal_date=renewal)


def test_no_lines_no_outcomes(ws):
    assert seed_renewals(ws, random.Random(1), TODAY, DEMO) == 0
    assert not RenewalOutcome.objects.for_workspace(ws).exists()


def test_outcomes_from_the_lines(ws, csm):
    a = AccountFactory(workspace=ws, owner=csm, name="A")
    first = line(a, D(2024, 4, 1), D(2025, 4, 1), "100")
    second = line(a, D(2025, 4, 1), D(2026, 4, 1), "150")  # up: expanded
    third = line(a, D(2026, 4, 1), D(2027, 4, 1), "120")  # down: contracted; renews in the future: nothing
    addon = line(a, D(2025, 1, 1), D(2026, 1, 1), "30", product="Add-on")
    line(a, D(2026, 1, 1), D(2027, 1, 1), "30", product="Add-on")  # flat: renewed
    other_product = line(a, D(2025, 6, 1), D(2026, 6, 1), "10", product="Training")  # ends, account active: nothing
    gone = AccountFactory(workspace=ws, owner=None, name="Gone", status="churned", churned_on=D(2026, 3, 1),
                          churn_reason="price", churn_note="Too dear")
    last = line(gone, D(2025, 3, 1), D(2026, 3, 1), "80")
    other = AccountFactory(workspace=ws, name="Other product start")
    line(other, D(2025, 2, 1), D(2026, 2, 1), "50")
    line(other, D(2026, 2, 1), D(2027, 2, 1), "50", product="Different")  # another product: not a successor

    assert seed_renewals(ws, random.Random(1), TODAY, DEMO) == 4
    found = {o.line_id: o for o in RenewalOutcome.objects.for_workspace(ws)}
    assert (found[first.pk].outcome, found[first.pk].new_mrr, found[first.pk].successor_id) == (
        "expanded", Decimal("150"), second.pk)
    assert (found[second.pk].outcome, found[second.pk].due_on) == ("contracted", D(2026, 4, 1))
    assert third.pk not in found and other_product.pk not in found
    assert found[addon.pk].outcome == "renewed"
    assert (found[last.pk].outcome, found[last.pk].churn_reason, found[last.pk].new_mrr) == ("churned", "price", None)
    assert found[first.pk].recorded_by == csm
    assert AuditEvent.objects.for_workspace(ws).filter(action="renewal.recorded", system_actor="demo").count() == 4
    # Seeding again records nothing twice.
    assert seed_renewals(ws, random.Random(1), TODAY, DEMO) == 0
