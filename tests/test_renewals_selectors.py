"""Renewal reads at their boundaries: the next renewal as of a day (exactly today, exactly 120 days),
the account's own renewal date as the fallback, upcoming and past-due lines, renewed accounts; and
the 120-day playbook trigger reading them."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import ContractVersion
from playbooks.engine import evaluate_playbooks
from playbooks.models import PlaybookRun, Task
from renewals.selectors import (
    next_renewal_by_account,
    renewal_days,
    renewed_account_ids,
    upcoming_renewals,
)

from .factories import AccountFactory, ContractFactory, RenewalOutcomeFactory
from .playbook_engine_helpers import make_playbook

pytestmark = pytest.mark.django_db

D = dt.date
DAY = dt.timedelta(days=1)
RENEWAL = {"trigger": {"kind": "renewal_within", "days": 120},
           "steps": [{"kind": "task", "day": 0, "due_days": 7, "title": "Renewal call with {account}",
                      "description": "Renews on {renewal_date}."}]}


def line(account, start, end, renewal=None, product="Core", mrr="100000"):
    return ContractFactory(account=account, start_date=start, end_date=end, renewal_date=renewal, product=product,
                           mrr=Decimal(mrr))


def test_next_renewal_as_of_a_day(ws, csm):
    today = D(2026, 6, 1)
    a = AccountFactory(workspace=ws, owner=csm, renewal_date=D(2030, 1, 1))  # lines win over its own date
    line(a, D(2025, 6, 1), today)  # ends today: not running today, so not "next"
    line(a, D(2025, 9, 1), D(2026, 9, 1), product="Add-on")  # renews 2026-09-01
    line(a, D(2025, 12, 1), None, renewal=D(2026, 8, 1), product="Seats")  # open-ended, renews 2026-08-01
    b = AccountFactory(workspace=ws, owner=csm)
    line(b, D(2025, 6, 2), None, renewal=today, product="Core")  # renews exactly today: counts
    c = AccountFactory(workspace=ws, owner=csm, renewal_date=today + 120 * DAY)  # no lines: its own date
    d = AccountFactory(workspace=ws, owner=csm, renewal_date=today - DAY)  # own date passed: none
    e = AccountFactory(workspace=ws, owner=csm, renewal_date=D(2026, 7, 1))
    line(e, today + DAY, D(2027, 6, 2))  # has a line (starting tomorrow): no fallback, nothing running today
    AccountFactory(workspace=ws, renewal_date=None)  # nothing at all
    # The lines on record since before they started (a past day reads the lines known then).
    ContractVersion.objects.for_workspace(ws).update(valid_from=D(2025, 1, 1))

    result = next_renewal_by_account(workspace=ws, as_of=today)
    assert result == {a.pk: D(2026, 8, 1), b.pk: today, c.pk: today + 120 * DAY}
    assert d.pk not in result and e.pk not in result
    # As of another day the answer is that day's: on 2026-08-01 the seat line renews that day.
    assert next_renewal_by_account(workspace=ws, as_of=D(2026, 8, 1))[a.pk] == D(2026, 8, 1)
    assert next_renewal_by_account(workspace=ws, as_of=D(2026, 8, 2))[a.pk] == D(2026, 9, 1)
    assert next_renewal_by_account(workspace=ws, as_of=today, account_ids=[b.pk]) == {b.pk: today}


def test_upcoming_and_past_due(ws, csm):
    today = D(2026, 6, 1)
    acct = AccountFactory(workspace=ws, owner=csm)
    due_today = line(acct, D(2025, 6, 1), today)
    in_window = line(acct, D(2025, 9, 30), today + 364 * DAY, product="B")
    line(acct, D(2025, 9, 30), today + 365 * DAY, product="C")  # the window's end is not included
    past = line(acct, D(2025, 5, 20), today - 10 * DAY, product="D")
    done = line(acct, D(2025, 5, 21), today - 11 * DAY, product="E")
    RenewalOutcomeFactory(line=done, outcome="churned", new_mrr=None)
    line(acct, today, None, product="F")  # open-ended without renewal date: never up for renewal

    window = upcoming_renewals(workspace=ws, start=today, end=today + 365 * DAY)
    assert set(window) == {due_today, in_window}
    with_past = upcoming_renewals(workspace=ws, start=today, end=today + 365 * DAY,
                                  include_past_due_from=today - 365 * DAY)
    assert set(with_past) == {due_today, in_window, past}  # the one with an outcome is not past due


def test_renewed_accounts_and_days(ws, csm):
    a, b, c = (AccountFactory(workspace=ws, owner=csm) for _ in range(3))
    RenewalOutcomeFactory(line=line(a, D(2025, 1, 1), D(2026, 1, 1)), outcome="expanded", new_mrr=Decimal("2"))
    RenewalOutcomeFactory(line=line(b, D(2025, 1, 1), D(2026, 1, 31)), outcome="renewed")
    RenewalOutcomeFactory(line=line(c, D(2025, 1, 1), D(2026, 1, 15)), outcome="churned", new_mrr=None)
    assert renewed_account_ids(workspace=ws, start=D(2026, 1, 1), end=D(2026, 1, 31)) == {a.pk}
    assert renewal_days(workspace=ws, account_ids=[a.pk, b.pk, c.pk], start=D(2026, 1, 1), end=D(2026, 2, 1)) == {
        a.pk: [D(2026, 1, 1)], b.pk: [D(2026, 1, 31)]}


def test_other_workspaces_lines_never_count(ws, other_ws, outsider, csm):
    today = ws.today()
    other = AccountFactory(workspace=other_ws, owner=outsider)
    line(other, today - 30 * DAY, today + 10 * DAY)
    assert next_renewal_by_account(workspace=ws, as_of=today) == {}
    assert not upcoming_renewals(workspace=ws, start=today, end=today + 365 * DAY).exists()


# --- the 120-day trigger -----------------------------------------------------------------------------
def test_a_line_renewing_in_exactly_120_days_enrols_and_121_does_not(ws, csm):
    today = ws.today()
    inside = AccountFactory(workspace=ws, owner=csm, name="Inside KK", renewal_date=today + 400 * DAY)
    line(inside, today - 200 * DAY, today + 120 * DAY)
    outside = AccountFactory(workspace=ws, owner=csm, name="Outside KK")
    line(outside, today - 200 * DAY, today + 121 * DAY)
    fallback = AccountFactory(workspace=ws, owner=csm, name="No lines KK", renewal_date=today + 30 * DAY)
    make_playbook(ws, RENEWAL)

    evaluate_playbooks(workspace=ws, as_of=today)

    runs = {run.account_id: run for run in PlaybookRun.objects.for_workspace(ws)}
    assert set(runs) == {inside.pk, fallback.pk}
    renews = (today + 120 * DAY).isoformat()
    assert runs[inside.pk].reason_key == f"renewal:{renews}"
    assert runs[inside.pk].why["values"] == {"renewal_date": renews, "days_left": 120}
    # The {renewal_date} placeholder is the line's, not the account's own (later) date.
    task = Task.objects.for_workspace(ws).get(account=inside)
    assert task.description == f"Renews on {renews}."
    assert Task.objects.for_workspace(ws).get(account=fallback).description == \
        f"Renews on {(today + 30 * DAY).isoformat()}."
