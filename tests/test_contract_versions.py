"""Versions of contract lines: every write path records what a line said and from which day, so that a
past day reads the lines as they were known then (accounts.selectors.lines_known_on, attributes_as_of),
never as edited or deleted since; the migration's backfill, tenancy and what scoring sees on a past day."""

import datetime as dt
import importlib
import math
from decimal import Decimal

import pandas as pd
import pytest
from django.apps import apps

from accounts.models import Contract, ContractVersion
from accounts.selectors import attributes_as_of, lines_known_on
from accounts.services import (
    delete_account,
    delete_contract,
    ensure_line_versions,
    save_contract,
    update_account,
)
from healthscore.backtest import auc
from healthscore.scoring import compute_scores
from healthscore.selectors import default_scorecard
from healthscore.services import save_scorecard
from renewals.selectors import next_renewal_by_account
from renewals.services import record_outcome
from workspaces.models import UnscopedQuery

from .factories import AccountFactory, ContractFactory
from .health_data import add_usage, known_since
from .imports_helpers import csv_bytes, run_import
from .test_account_history import COMMERCIAL

pytestmark = pytest.mark.django_db


def versions(line_or_account):
    """[(valid_from, valid_to, mrr, quantity, end_date, renewal_date, source)] oldest first."""
    rows = ContractVersion.all_workspaces.filter(**(
        {"line_id": line_or_account.pk} if isinstance(line_or_account, Contract) else
        {"account_id": line_or_account.pk})).order_by("valid_from", "id")
    return [(v.valid_from, v.valid_to, v.mrr, v.quantity, v.end_date, v.renewal_date, v.source) for v in rows]


def line(ws, manager, account, **fields):
    values = {"product": "Core", "mrr": Decimal("100000"), "quantity": 10, "unit": "seats",
              "start_date": ws.today() - dt.timedelta(days=200), "renewal_date": ws.today() + dt.timedelta(days=165)}
    return save_contract(workspace=ws, actor=manager, account=account, **(values | fields))


# --- what a past day reads ------------------------------------------------------------------------
def test_editing_a_lines_mrr_today_does_not_change_yesterdays_arr(ws, manager):
    today = ws.today()
    yesterday = today - dt.timedelta(days=1)
    account = AccountFactory(workspace=ws, arr=Decimal("999"))
    core = line(ws, manager, account)
    known_since(today - dt.timedelta(days=30), account)  # the line on record for a month
    save_contract(workspace=ws, actor=manager, contract=core, account=account, mrr=Decimal("150000"), quantity=14,
                  renewal_date=today + dt.timedelta(days=30))
    assert versions(core) == [
        (today - dt.timedelta(days=30), today, Decimal("100000.00"), 10, None, today + dt.timedelta(days=165), "edit"),
        (today, None, Decimal("150000.00"), 14, None, today + dt.timedelta(days=30), "edit"),
    ]
    then = attributes_as_of(workspace=ws, day=yesterday).loc[account.pk]
    assert (then["arr"], then["licensed_seats"], then["renewal_date"]) == (1_200_000, 10, today + dt.timedelta(days=165))
    now = attributes_as_of(workspace=ws, day=today).loc[account.pk]
    assert (now["arr"], now["licensed_seats"], now["renewal_date"]) == (1_800_000, 14, today + dt.timedelta(days=30))


def test_two_edits_in_one_day_leave_the_last_and_the_day_before_untouched(ws, manager):
    today = ws.today()
    account = AccountFactory(workspace=ws)
    core = line(ws, manager, account)
    known_since(today - dt.timedelta(days=5), account)
    for mrr in ("110000", "120000"):
        save_contract(workspace=ws, actor=manager, contract=core, account=account, mrr=Decimal(mrr))
    assert [(f, t, m) for f, t, m, *_ in versions(core)] == [
        (today - dt.timedelta(days=5), today, Decimal("100000.00")),
        (today, today, Decimal("110000.00")),  # [today, today): no day reads it
        (today, None, Decimal("120000.00")),
    ]
    assert attributes_as_of(workspace=ws, day=today).loc[account.pk, "arr"] == 12 * 120000
    assert attributes_as_of(workspace=ws, day=today - dt.timedelta(days=1)).loc[account.pk, "arr"] == 12 * 100000


def test_a_deleted_line_still_counts_on_the_days_it_ran_and_was_known(ws, manager):
    today = ws.today()
    account = AccountFactory(workspace=ws)
    core = line(ws, manager, account)
    addon = line(ws, manager, account, product="Add-on", mrr=Decimal("20000"), quantity=3,
                 start_date=today - dt.timedelta(days=100))
    known_since(today - dt.timedelta(days=60), account)
    delete_contract(contract=addon, actor=manager)
    gone = ContractVersion.all_workspaces.get(account=account, product="Add-on")
    assert (gone.line_id, gone.valid_from, gone.valid_to) == (None, today - dt.timedelta(days=60), today)
    week_ago = attributes_as_of(workspace=ws, day=today - dt.timedelta(days=7)).loc[account.pk]
    assert (week_ago["arr"], week_ago["licensed_seats"]) == (12 * 120000, 13)
    now = attributes_as_of(workspace=ws, day=today).loc[account.pk]
    assert (now["arr"], now["licensed_seats"]) == (12 * 100000, 10)
    # Before the lines were on record nothing is known from them (the account's own log, from today, neither).
    before = attributes_as_of(workspace=ws, day=today - dt.timedelta(days=61)).loc[account.pk]
    assert math.isnan(before["arr"]) and not before["known_arr"]
    assert set(lines_known_on(workspace=ws, day=today - dt.timedelta(days=7)).values_list("product", flat=True)) == {
        "Core", "Add-on"}
    assert core.pk in set(lines_known_on(workspace=ws, day=today).values_list("line_id", flat=True))


def test_a_line_created_today_does_not_exist_on_earlier_days(ws, manager):
    today = ws.today()
    account = AccountFactory(workspace=ws, arr=Decimal("600000"), licensed_seats=5)
    known_since(today - dt.timedelta(days=30), account)  # the account's own values on record
    line(ws, manager, account, start_date=today - dt.timedelta(days=365))  # entered today, started a year ago
    yesterday = attributes_as_of(workspace=ws, day=today - dt.timedelta(days=1)).loc[account.pk]
    assert (yesterday["arr"], yesterday["licensed_seats"]) == (600000, 5)  # the change log's, not the line's
    assert yesterday["contract_start"] == account.contract_start
    now = attributes_as_of(workspace=ws, day=today).loc[account.pk]
    assert (now["arr"], now["licensed_seats"], now["contract_start"]) == (
        1_200_000, 10, today - dt.timedelta(days=365))


def test_a_line_moved_to_another_account_stays_with_the_first_before_the_move(ws, manager):
    today = ws.today()
    first, second = (AccountFactory(workspace=ws, arr=Decimal("1")) for _ in range(2))
    core = line(ws, manager, first)
    known_since(today - dt.timedelta(days=10), first, second)
    save_contract(workspace=ws, actor=manager, contract=core, account=second)
    then = attributes_as_of(workspace=ws, day=today - dt.timedelta(days=1))
    now = attributes_as_of(workspace=ws, day=today)
    assert (then.loc[first.pk, "arr"], now.loc[second.pk, "arr"]) == (1_200_000, 1_200_000)
    assert (then.loc[second.pk, "arr"], now.loc[first.pk, "arr"]) == (1, 1)  # without lines: their own log


# --- no look-ahead in scoring ---------------------------------------------------------------------
def test_a_line_amended_on_the_churn_day_does_not_show_before_it(ws, manager):
    """The back-test's leak, planted in the lines: on the churn day a CRM ends churners' lines and moves
    their renewal date to that day. The scores of an earlier day do not move, and the renewal measure
    does not tell churners apart (AUC 0.5), as it would if the past read today's lines."""
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=COMMERCIAL)
    today = ws.today()
    observed = today - dt.timedelta(days=60)
    accounts = [AccountFactory(workspace=ws, attributes={"risk": 0}) for _ in range(12)]
    lines = [line(ws, manager, account, start_date=today - dt.timedelta(days=400),
                  renewal_date=today + dt.timedelta(days=100), quantity=4) for account in accounts]
    known_since(today - dt.timedelta(days=400), *accounts)
    for account in accounts:
        add_usage(account, observed - dt.timedelta(days=3), users=["a", "b"])
    before, _ = compute_scores(workspace=ws, as_of=observed)
    assert set(before["v:renewal"]) == {160.0} and set(before["v:seats"]) == {0.5}
    churners = accounts[:6]
    for account, churned_line in zip(churners, lines, strict=False):
        save_contract(workspace=ws, actor=manager, contract=churned_line, account=account, end_date=today,
                      renewal_date=today, quantity=1)
        update_account(account=account, actor=manager, status="churned", churned_on=today, churn_reason="other")
    after, _ = compute_scores(workspace=ws, as_of=observed)
    columns = ["total", "v:renewal", "v:risk", "v:seats"]
    pd.testing.assert_frame_equal(before[columns], after[columns])
    churned = pd.Series([pk in {a.pk for a in churners} for pk in after.index], index=after.index)
    assert auc(after["v:renewal"], churned) == pytest.approx(0.5)
    assert auc(after["total"], churned) == pytest.approx(0.5)
    # Today's lines would have given every churner away: they now renew on the churn day.
    churner_lines = {ln.pk for ln in lines[:6]}
    assert {c.renewal_date for c in Contract.objects.for_workspace(ws).filter(pk__in=churner_lines)} == {today}
    then = lines_known_on(workspace=ws, day=observed).filter(line_id__in=churner_lines)
    assert {v.renewal_date for v in then} == {today + dt.timedelta(days=100)}


def test_a_renewal_recorded_as_churned_ends_the_line_from_that_day_only(ws, manager):
    today = ws.today()
    account = AccountFactory(workspace=ws)
    core = line(ws, manager, account, start_date=today - dt.timedelta(days=365), renewal_date=today)
    known_since(today - dt.timedelta(days=365), account)
    record_outcome(actor=manager, line=core, outcome="churned", churn_reason="other")
    assert [(f, t, e) for f, t, _m, _q, e, _r, _s in versions(core)] == [
        (today - dt.timedelta(days=365), today, None), (today, None, today)]
    assert attributes_as_of(workspace=ws, day=today - dt.timedelta(days=1)).loc[account.pk, "renewal_date"] == today


def test_the_next_renewal_of_a_past_day_reads_the_line_as_it_was(ws, manager):
    today = ws.today()
    account = AccountFactory(workspace=ws, renewal_date=today + dt.timedelta(days=300))
    core = line(ws, manager, account, renewal_date=today + dt.timedelta(days=40))
    known_since(today - dt.timedelta(days=30), account)
    save_contract(workspace=ws, actor=manager, contract=core, account=account, renewal_date=today,
                  end_date=today)
    yesterday = today - dt.timedelta(days=1)
    assert next_renewal_by_account(workspace=ws, as_of=yesterday) == {account.pk: today + dt.timedelta(days=40)}
    assert next_renewal_by_account(workspace=ws, as_of=today) == {}  # ended today: nothing running
    # A line entered today is unknown on earlier days: the account's own date stands then.
    other = AccountFactory(workspace=ws, renewal_date=today + dt.timedelta(days=300))
    line(ws, manager, other, renewal_date=today + dt.timedelta(days=10))
    assert next_renewal_by_account(workspace=ws, as_of=yesterday, account_ids=[other.pk]) == {
        other.pk: today + dt.timedelta(days=300)}
    assert next_renewal_by_account(workspace=ws, as_of=today, account_ids=[other.pk]) == {
        other.pk: today + dt.timedelta(days=10)}


# --- every write path records --------------------------------------------------------------------
def test_api_create_patch_put_bulk_and_delete_record_versions(ws, manager, account, api_for):
    api = api_for(manager)
    today = ws.today()
    body = {"account": account.pk, "product": "Core", "mrr": "50000", "quantity": 5, "unit": "seats",
            "start_date": "2026-01-01"}
    created = api.post("/api/v1/contracts/", body, format="json")
    assert created.status_code == 201, created.content
    core = Contract.objects.for_workspace(ws).get(pk=created.json()["id"])
    assert versions(core) == [(today, None, Decimal("50000.00"), 5, None, None, "edit")]
    assert api.patch(f"/api/v1/contracts/{core.pk}/", {"quantity": 6}, format="json").status_code == 200
    assert [(t, q) for _f, t, _m, q, *_ in versions(core)] == [(today, 5), (None, 6)]
    assert api.patch(f"/api/v1/contracts/{core.pk}/", {"quantity": 6}, format="json").status_code == 200
    assert len(versions(core)) == 2  # nothing changed: no version
    put = {"account_external_id": account.external_id, "product": "Pro", "mrr": "70000", "start_date": "2026-02-01"}
    assert api.put("/api/v1/contracts/by-external-id/k-1/", put, format="json").status_code == 201
    pro = Contract.objects.for_workspace(ws).get(external_id="k-1")
    assert versions(pro)[-1][-1] == "upsert"
    bulk = [{"external_id": "k-1", "mrr": "80000"},
            {"external_id": "k-2", "account_external_id": account.external_id, "product": "Extra", "mrr": "10",
             "start_date": "2026-03-01"}]
    response = api.post("/api/v1/contracts/bulk-upsert/", bulk, format="json")
    assert response.status_code == 200, response.content
    assert [m for _f, _t, m, *_ in versions(pro)] == [Decimal("70000.00"), Decimal("80000.00")]
    assert len(versions(Contract.objects.for_workspace(ws).get(external_id="k-2"))) == 1
    assert api.delete(f"/api/v1/contracts/{core.pk}/").status_code == 204
    closed = ContractVersion.objects.for_workspace(ws).filter(product="Core").order_by("id").last()
    assert (closed.line_id, closed.valid_to, closed.quantity) == (None, today, 6)


def test_csv_import_records_versions_of_new_and_changed_lines(ws, manager, account):
    header = ["account_external_id", "product", "mrr", "quantity", "start_date"]
    first = csv_bytes([header, [account.external_id, "Core", "1000", "3", "2026-04-01"]])
    assert run_import(first, workspace=ws, actor=manager, object_type="contracts").created == 1
    core = Contract.objects.for_workspace(ws).get(product="Core")
    assert versions(core) == [(ws.today(), None, Decimal("1000.00"), 3, None, None, "import")]
    assert run_import(first, workspace=ws, actor=manager, object_type="contracts").unchanged == 1
    assert len(versions(core)) == 1
    second = csv_bytes([header, [account.external_id, "Core", "1500", "3", "2026-04-01"]])
    assert run_import(second, workspace=ws, actor=manager, object_type="contracts").updated == 1
    assert [(t, m) for _f, t, m, *_ in versions(core)] == [(ws.today(), Decimal("1000.00")),
                                                          (None, Decimal("1500.00"))]


def test_a_save_outside_the_writers_records_too(ws):
    core = ContractFactory(account=AccountFactory(workspace=ws), mrr=Decimal("100"))
    assert len(versions(core)) == 1 and versions(core)[0][-1] == "save"
    core.save()  # nothing changed
    assert len(versions(core)) == 1
    core.mrr = Decimal("200")
    core.save()
    assert [(t, m) for _f, t, m, *_ in versions(core)] == [(ws.today(), Decimal("100.00")), (None, Decimal("200"))]
    core.delete()
    assert [t for _f, t, *_ in versions(core.account)] == [ws.today(), ws.today()]


# --- the backfill and archives made before versions -------------------------------------------------
def test_backfill_records_todays_lines_known_from_today_only(ws):
    account = AccountFactory(workspace=ws)
    core = ContractFactory(account=account, mrr=Decimal("100000"), start_date=ws.today() - dt.timedelta(days=300))
    ContractVersion.all_workspaces.all().delete()  # as before the migration
    importlib.import_module("accounts.migrations.0011_backfill_contract_versions").backfill(apps, None)
    assert versions(core) == [(ws.today(), None, Decimal("100000.00"), 20, None, None, "migration")]
    known_since_account_only = attributes_as_of(workspace=ws, day=ws.today() - dt.timedelta(days=1))
    assert not known_since_account_only.loc[account.pk, "known_arr"]  # its past stays unknown
    assert attributes_as_of(workspace=ws, day=ws.today()).loc[account.pk, "arr"] == 1_200_000


def test_lines_without_versions_get_one_from_today(ws):
    core = ContractFactory(account=AccountFactory(workspace=ws))
    other = ContractFactory(account=AccountFactory(workspace=ws))
    ContractVersion.all_workspaces.filter(line=core).delete()  # as an archive made before versions brings it
    ensure_line_versions(workspace=ws)
    ensure_line_versions(workspace=ws)  # idempotent
    assert [(f, t, s) for f, t, *_m, s in versions(core)] == [(ws.today(), None, "migration")]
    assert len(versions(other)) == 1


# --- tenancy ---------------------------------------------------------------------------------------
def test_versions_are_the_workspaces_own(ws, other_ws, manager):
    mine = line(ws, manager, AccountFactory(workspace=ws))
    theirs = ContractFactory(account=AccountFactory(workspace=other_ws))
    with pytest.raises(UnscopedQuery):
        list(ContractVersion.objects.all())
    assert {v.workspace_id for v in ContractVersion.all_workspaces.filter(line=mine)} == {ws.pk}
    assert set(lines_known_on(workspace=ws, day=ws.today()).values_list("line_id", flat=True)) == {mine.pk}
    assert set(lines_known_on(workspace=other_ws, day=other_ws.today()).values_list("line_id", flat=True)) == {
        theirs.pk}
    assert list(attributes_as_of(workspace=other_ws, day=other_ws.today()).index) == [theirs.account_id]


def test_deleting_an_account_removes_its_lines_and_their_versions(ws, manager):
    account = AccountFactory(workspace=ws)
    kept = line(ws, manager, AccountFactory(workspace=ws))
    line(ws, manager, account)
    delete_account(account=account, actor=manager)
    assert list(ContractVersion.objects.for_workspace(ws).values_list("line_id", flat=True)) == [kept.pk]
