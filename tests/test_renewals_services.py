"""Recording a renewal's outcome: each outcome, the successor's term, exclusive ends, churn only when
no other line runs on, a second record refused, validation naming the field, audit and roles."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Account, Contract
from renewals.models import RenewalOutcome
from renewals.services import record_outcome
from renewals.terms import add_term, term_between
from workspaces.errors import DomainError
from workspaces.models import AuditEvent

from .factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db

D = dt.date


def line(account, start, end, mrr="100000", renewal=None, **fields):
    return ContractFactory(account=account, start_date=start, end_date=end, renewal_date=renewal, mrr=Decimal(mrr),
                           **fields)


@pytest.mark.parametrize(("start", "end", "term", "then", "expected"), [
    (D(2025, 4, 1), D(2026, 4, 1), ("months", 12), D(2026, 4, 1), D(2027, 4, 1)),
    (D(2025, 1, 31), D(2025, 4, 30), ("months", 3), D(2025, 4, 30), D(2025, 7, 31)),  # month ends stay month ends
    (D(2024, 2, 29), D(2025, 2, 28), ("months", 12), D(2025, 2, 28), D(2026, 2, 28)),
    (D(2025, 1, 10), D(2025, 4, 20), ("days", 100), D(2025, 4, 20), D(2025, 7, 29)),  # 100 days
    (D(2025, 3, 15), D(2025, 4, 15), ("months", 1), D(2025, 4, 15), D(2025, 5, 15)),
])
def test_term_arithmetic(start, end, term, then, expected):
    assert term_between(start, end) == term
    assert add_term(then, term) == expected


def test_renewed_ends_the_line_and_starts_a_successor_with_the_same_term(ws, csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1), quantity=20, unit="seats", product="Core")
    entry = record_outcome(actor=csm, line=old, outcome="renewed", new_mrr="100000", note="Signed")
    old.refresh_from_db()
    assert old.end_date == D(2026, 4, 1)  # unchanged: it already ended (exclusive) on its renewal day
    new = entry.successor
    assert (new.product, new.quantity, new.unit, new.mrr) == ("Core", 20, "seats", Decimal("100000"))
    assert (new.start_date, new.end_date, new.renewal_date) == (D(2026, 4, 1), D(2027, 4, 1), None)
    assert not old.is_active_on(D(2026, 4, 1)) and new.is_active_on(D(2026, 4, 1))  # no gap, no overlap
    assert (entry.due_on, entry.previous_mrr, entry.new_mrr, entry.recorded_by) == (
        D(2026, 4, 1), Decimal("100000"), Decimal("100000"), csm)
    assert AuditEvent.objects.for_workspace(ws).filter(action="renewal.recorded", object_id=str(entry.pk)).exists()
    assert AuditEvent.objects.for_workspace(ws).filter(action="contract.created", object_id=str(new.pk)).exists()


def test_expansion_with_a_renewal_date_before_the_end_cuts_the_line_there(ws, csm, account):
    # Renewal date 2026-03-01 on a line running to 2026-04-01: the renewal day is the renewal date.
    old = line(account, D(2025, 3, 1), D(2026, 4, 1), renewal=D(2026, 3, 1))
    entry = record_outcome(actor=csm, line=old, outcome="expanded", new_mrr="130000", quantity=26)
    old.refresh_from_db()
    assert old.end_date == D(2026, 3, 1)
    new = entry.successor
    # term from 2025-03-01 to 2026-03-01 = 12 months: 2026-03-01 → 2027-03-01, renewal date likewise
    assert (new.start_date, new.end_date, new.renewal_date, new.mrr, new.quantity) == (
        D(2026, 3, 1), D(2027, 3, 1), D(2027, 3, 1), Decimal("130000"), 26)
    assert AuditEvent.objects.for_workspace(ws).filter(action="contract.updated", object_id=str(old.pk)).exists()


def test_open_ended_line_with_a_renewal_date_stays_open_ended(csm, account):
    old = line(account, D(2025, 6, 1), None, renewal=D(2026, 6, 1))
    new = record_outcome(actor=csm, line=old, outcome="contracted", new_mrr="80000").successor
    old.refresh_from_db()
    assert old.end_date == D(2026, 6, 1)
    assert (new.start_date, new.end_date, new.renewal_date, new.mrr) == (
        D(2026, 6, 1), None, D(2027, 6, 1), Decimal("80000"))


def test_a_successor_already_imported_is_adopted_not_duplicated(csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1), product="Core")
    imported = line(account, D(2026, 4, 1), D(2027, 4, 1), mrr="90000", product="Core")
    entry = record_outcome(actor=csm, line=old, outcome="contracted", new_mrr="90000")
    assert entry.successor == imported
    assert Contract.objects.for_workspace(account.workspace).filter(account=account).count() == 2


def test_churned_with_another_line_running_keeps_the_account_active(csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1), product="Add-on")
    line(account, D(2025, 1, 1), D(2026, 4, 2), product="Core")  # runs on 2026-04-01 (ends the day after)
    entry = record_outcome(actor=csm, line=old, outcome="churned", churn_reason="price", churn_note="Too dear")
    account.refresh_from_db()
    assert account.status == "active" and entry.successor is None and entry.new_mrr is None
    assert (entry.churn_reason, entry.churn_note) == ("price", "Too dear")


def test_churned_when_the_other_line_ends_that_same_day_churns_the_account(ws, csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1), product="Add-on")
    line(account, D(2025, 1, 1), D(2026, 4, 1), product="Core")  # ends (exclusive) on the same day: not running
    line(account, D(2024, 1, 1), D(2025, 1, 1), product="Old")  # long over
    record_outcome(actor=csm, line=old, outcome="churned", churn_reason="competitor", churn_note="Went to X")
    account.refresh_from_db()
    assert (account.status, account.churned_on, account.churn_reason, account.churn_note) == (
        "churned", D(2026, 4, 1), "competitor", "Went to X")
    assert AuditEvent.objects.for_workspace(ws).filter(action="account.updated", object_id=str(account.pk)).exists()


def test_churned_with_a_future_line_keeps_the_account_active(csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1), product="Core")
    line(account, D(2026, 6, 1), None, product="Other")  # signed, starts later
    record_outcome(actor=csm, line=old, outcome="churned", churn_reason="budget")
    account.refresh_from_db()
    assert account.status == "active"


def test_a_second_outcome_for_the_same_renewal_is_refused(csm, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1))
    record_outcome(actor=csm, line=old, outcome="renewed", new_mrr="100000")
    with pytest.raises(DomainError) as error:
        record_outcome(actor=csm, line=old, outcome="churned", churn_reason="price")
    assert error.value.field == "line"
    assert RenewalOutcome.objects.for_workspace(account.workspace).count() == 1


@pytest.mark.parametrize(("outcome", "values", "field"), [
    ("renewed", {}, "new_mrr"),
    ("renewed", {"new_mrr": "0"}, "new_mrr"),
    ("renewed", {"new_mrr": "-5"}, "new_mrr"),
    ("renewed", {"new_mrr": "abc"}, "new_mrr"),
    ("renewed", {"new_mrr": "120000"}, "new_mrr"),  # another MRR: an expansion
    ("expanded", {"new_mrr": "100000"}, "new_mrr"),  # not higher
    ("expanded", {"new_mrr": "90000"}, "new_mrr"),
    ("contracted", {"new_mrr": "100000"}, "new_mrr"),  # not lower
    ("churned", {}, "churn_reason"),
    ("churned", {"churn_reason": "bored"}, "churn_reason"),
    ("maybe", {}, "outcome"),
])
def test_bad_input_names_the_field_and_writes_nothing(csm, account, outcome, values, field):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1))
    with pytest.raises(DomainError) as error:
        record_outcome(actor=csm, line=old, outcome=outcome, **values)
    assert error.value.field == field
    assert Contract.objects.for_workspace(account.workspace).count() == 1
    assert not RenewalOutcome.objects.for_workspace(account.workspace).exists()


def test_a_line_without_a_renewal_day_or_not_running_up_to_it_is_refused(csm, account):
    for bad in (line(account, D(2025, 4, 1), None),  # open-ended, no renewal date
                line(account, D(2025, 4, 1), D(2025, 6, 1), renewal=D(2026, 4, 1), product="B")):  # ended before
        with pytest.raises(DomainError) as error:
            record_outcome(actor=csm, line=bad, outcome="renewed", new_mrr="100000")
        assert error.value.field == "line"


def test_only_the_accounts_csm_or_a_manager_records(ws, csm, csm2, manager, viewer, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1))
    for member in (csm2, viewer):
        with pytest.raises(PermissionDenied):
            record_outcome(actor=member, line=old, outcome="renewed", new_mrr="100000")
    assert record_outcome(actor=manager, line=old, outcome="renewed", new_mrr="100000").recorded_by == manager


def test_another_workspaces_member_cannot_record(outsider, account):
    old = line(account, D(2025, 4, 1), D(2026, 4, 1))
    with pytest.raises(PermissionDenied):
        record_outcome(actor=outsider, line=old, outcome="churned", churn_reason="price")
    assert Account.objects.for_workspace(account.workspace).get().status == "active"


def test_a_churned_account_stays_as_it_was(csm, ws):
    acct = AccountFactory(workspace=ws, owner=csm, status="churned", churned_on=D(2026, 1, 1), churn_reason="other")
    old = line(acct, D(2025, 4, 1), D(2026, 4, 1))
    record_outcome(actor=csm, line=old, outcome="churned", churn_reason="price")
    acct.refresh_from_db()
    assert (acct.churned_on, acct.churn_reason) == (D(2026, 1, 1), "other")
