"""The history of accounts' scored fields: the change log every write path keeps, its backfill, the
values of a day (`attributes_as_of`), and what health scoring may see on a past day (no look-ahead)."""

import datetime as dt
import importlib
import math
from decimal import Decimal

import pandas as pd
import pytest
from django.apps import apps
from django.urls import reverse

from accounts.history import record_current_values
from accounts.models import Account, AccountChange
from accounts.selectors import attributes_as_of
from accounts.services import update_account
from healthscore.backtest import auc
from healthscore.models import HealthSnapshot
from healthscore.nightly import step as nightly_health
from healthscore.scoring import compute_scores, history_gaps, snapshot_payload
from healthscore.selectors import default_scorecard, measure_sentence
from healthscore.services import save_scorecard

from .factories import AccountFactory, ContractFactory, TouchpointFactory
from .health_data import add_usage, at_noon, known_since
from .imports_helpers import csv_bytes, run_import
from .test_account_pages import account_form_data

pytestmark = pytest.mark.django_db


def log(account):
    """{field: [(valid_from, value)]} of the account's change log, oldest first."""
    out = {}
    for row in AccountChange.objects.for_workspace(account.workspace).filter(account=account).order_by("valid_from", "id"):
        out.setdefault(row.field, []).append((row.valid_from, row.owner_id if row.field == "owner" else row.value))
    return out


# --- the change log, written by every path -------------------------------------------------------
def test_page_edit_logs_the_changed_fields_only(ws, manager, login):
    account = AccountFactory(workspace=ws, licensed_seats=20, attributes={"nps": 40, "plan_tier": "gold"})
    before = log(account)
    assert set(before) >= {"arr", "licensed_seats", "renewal_date", "contract_start", "owner", "status",
                           "attr:nps", "attr:plan_tier"}  # a new account: everything, known from today
    data = account_form_data(account, licensed_seats="35", renewal_date="2027-02-28", contract_start=str(
        account.contract_start), arr=str(account.arr), plan=account.plan, attributes='{"nps": 55}')
    response = login(manager).post(reverse("accounts:edit", args=[account.pk]), data)
    assert response.status_code == 302
    after = log(account)
    today = ws.today()
    assert after["licensed_seats"][-1] == (today, 35)
    assert after["renewal_date"][-1] == (today, "2027-02-28")
    assert after["attr:nps"][-1] == (today, 55)
    assert after["attr:plan_tier"][-1] == (today, None)  # removed
    assert after["arr"] == before["arr"]  # unchanged: no new row
    row = AccountChange.objects.for_workspace(ws).filter(account=account, field="licensed_seats").last()
    assert row.source == "edit"


def test_api_create_and_patch_log_values_and_owner(ws, manager, csm, csm2, api_for):
    api = api_for(manager)
    created = api.post("/api/v1/accounts/", {"name": "Kawa KK", "arr": "2400000", "licensed_seats": 12,
                                             "owner": csm.pk, "attributes": {"risk": 2}}, format="json")
    assert created.status_code == 201, created.content
    account = Account.objects.for_workspace(ws).get(pk=created.json()["id"])
    assert log(account)["arr"] == [(ws.today(), "2400000.00")]
    assert log(account)["owner"] == [(ws.today(), csm.pk)]
    assert log(account)["renewal_date"] == [(ws.today(), None)]  # known to be empty
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"owner": csm2.pk}, format="json").status_code == 200
    assert log(account)["owner"][-1] == (ws.today(), csm2.pk)
    assert len(log(account)["arr"]) == 1


def test_csv_import_logs_created_and_updated_accounts(ws, manager):
    header = ["external_id", "name", "arr", "licensed_seats"]
    assert run_import(csv_bytes([header, ["c-1", "Umi KK", "1200000", "10"]]), workspace=ws, actor=manager).committed
    account = Account.objects.for_workspace(ws).get(external_id="c-1")
    assert log(account)["licensed_seats"] == [(ws.today(), 10)]
    assert run_import(csv_bytes([header, ["c-1", "Umi KK", "1200000", "14"]]), workspace=ws, actor=manager).committed
    assert log(account)["licensed_seats"] == [(ws.today(), 10), (ws.today(), 14)]
    assert AccountChange.objects.for_workspace(ws).filter(account=account).last().source == "import"


def test_backfill_records_todays_values_known_from_today_only(ws, csm):
    account = AccountFactory(workspace=ws, owner=csm, licensed_seats=7, attributes={"nps": 30})
    AccountChange.all_workspaces.all().delete()  # as before the migration
    importlib.import_module("accounts.migrations.0008_backfill_account_changes").backfill(apps, None)
    today = ws.today()
    assert log(account)["licensed_seats"] == [(today, 7)]
    assert log(account)["attr:nps"] == [(today, 30)]
    assert log(account)["owner"] == [(today, csm.pk)]
    assert log(account)["contract_start"] == [(today, account.contract_start.isoformat())]
    yesterday = attributes_as_of(workspace=ws, day=today - dt.timedelta(days=1)).loc[account.pk]
    assert math.isnan(yesterday["licensed_seats"]) and yesterday["attributes"] is None
    assert not yesterday["known_licensed_seats"]
    now = attributes_as_of(workspace=ws, day=today).loc[account.pk]
    assert (now["licensed_seats"], now["attributes"], now["owner_id"]) == (7, {"nps": 30}, csm.pk)


# --- the values of a day -------------------------------------------------------------------------
def test_values_of_a_day_from_lines_and_from_the_log(ws):
    day = dt.date(2026, 6, 1)
    with_lines = AccountFactory(workspace=ws, arr=Decimal("999"), licensed_seats=999)
    # Ends exactly on the day: not running (the end is exclusive). Its renewal is in the past.
    ContractFactory(account=with_lines, mrr=Decimal("50000"), quantity=10, unit="seats",
                    start_date=dt.date(2025, 6, 1), end_date=day, renewal_date=day)
    ContractFactory(account=with_lines, mrr=Decimal("100000"), quantity=20, unit="Seats",
                    start_date=day, end_date=None, renewal_date=dt.date(2027, 6, 1))
    ContractFactory(account=with_lines, mrr=Decimal("30000"), quantity=5, unit="GB",  # not seats
                    start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 9, 1), renewal_date=None)
    known_since(dt.date(2025, 6, 1), with_lines)  # its lines on record since the first one started
    from_log = AccountFactory(workspace=ws, licensed_seats=8, renewal_date=dt.date(2026, 12, 31),
                              attributes={"nps": 12})
    AccountChange.all_workspaces.filter(account=from_log).update(valid_from=dt.date(2026, 5, 1))
    record_current_values(workspace=ws, accounts=[Account(pk=from_log.pk, workspace=ws, licensed_seats=9,
                                                          arr=Decimal(0), attributes={"nps": 13})],
                          source="test", day=dt.date(2026, 6, 2))  # a change the day after
    unknown = AccountFactory(workspace=ws)
    AccountChange.all_workspaces.filter(account=unknown).update(valid_from=dt.date(2026, 7, 1))

    values = attributes_as_of(workspace=ws, day=day)
    a = values.loc[with_lines.pk]
    assert a["arr"] == 12 * (100000 + 30000)
    assert a["licensed_seats"] == 20
    # The running lines: the new one renews 2027-06-01, the GB line has no renewal date but ends 2026-09-01.
    assert a["renewal_date"] == dt.date(2026, 9, 1)
    assert a["contract_start"] == dt.date(2025, 6, 1)
    before = attributes_as_of(workspace=ws, day=day - dt.timedelta(days=1)).loc[with_lines.pk]
    assert (before["arr"], before["licensed_seats"], before["renewal_date"]) == (12 * 80000, 10, day)
    b = values.loc[from_log.pk]
    assert (b["licensed_seats"], b["renewal_date"], b["attributes"]) == (8, dt.date(2026, 12, 31), {"nps": 12})
    later = attributes_as_of(workspace=ws, day=dt.date(2026, 6, 2)).loc[from_log.pk]
    assert (later["licensed_seats"], later["arr"], later["attributes"]) == (9, 0, {"nps": 13})
    c = values.loc[unknown.pk]
    assert math.isnan(c["arr"]) and math.isnan(c["licensed_seats"]) and c["renewal_date"] is None
    assert c["attributes"] is None and not c["known_arr"]
    subset = attributes_as_of(workspace=ws, day=day, account_ids=[from_log.pk])
    assert list(subset.index) == [from_log.pk]


def test_values_of_a_day_take_a_few_queries_whatever_the_number_of_accounts(ws, django_assert_max_num_queries):
    for _ in range(30):
        ContractFactory(account=AccountFactory(workspace=ws))
    with django_assert_max_num_queries(3):
        assert len(attributes_as_of(workspace=ws, day=ws.today())) == 30


# --- no look-ahead -------------------------------------------------------------------------------
COMMERCIAL = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.1,
    "groups": [{"key": "commercial", "label": "Commercial", "weight": 1, "measures": [
        {"key": "renewal", "kind": "days_to_renewal", "weight": 1, "rule": {"type": "linear", "low": 0, "high": 120}},
        {"key": "risk", "kind": "custom_attribute", "weight": 1, "params": {"attribute": "risk"},
         "rule": {"type": "linear", "low": 1, "high": 0}},
        {"key": "seats", "kind": "active_users_per_seat", "weight": 1,
         "rule": {"type": "linear", "low": 0, "high": 1}},
    ]}],
}


def test_a_renewal_date_and_attribute_set_on_the_churn_day_do_not_leak_into_earlier_days(ws, manager):
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=COMMERCIAL)
    today = ws.today()
    observed = today - dt.timedelta(days=60)
    accounts = [AccountFactory(workspace=ws, renewal_date=today + dt.timedelta(days=100), attributes={"risk": 0})
                for _ in range(12)]
    known_since(today - dt.timedelta(days=400), *accounts)
    for account in accounts:
        add_usage(account, observed - dt.timedelta(days=3), users=["a", "b"])
    before, _ = compute_scores(workspace=ws, as_of=observed)
    # Today half of them churn; as happens in CRMs, their renewal date becomes the churn day and an
    # integration flags them: through the normal write path.
    churners = accounts[:6]
    for account in churners:
        update_account(account=account, actor=manager, status="churned", churned_on=today, churn_reason="other",
                       renewal_date=today, attributes={"risk": 1})
    after, _ = compute_scores(workspace=ws, as_of=observed)
    columns = ["total", "v:renewal", "v:risk", "v:seats"]
    pd.testing.assert_frame_equal(before[columns], after[columns])
    churned = pd.Series([pk in {a.pk for a in churners} for pk in after.index], index=after.index)
    assert auc(after["total"], churned) == pytest.approx(0.5)  # every total alike: chance, no leak
    assert auc(after["v:renewal"], churned) == pytest.approx(0.5)
    # As of today the edit is what the account says (the renewal is today: 0 days).
    today_frame, _ = compute_scores(workspace=ws, as_of=today - dt.timedelta(days=0), accounts=Account.objects
                                    .for_workspace(ws).filter(pk__in=[a.pk for a in churners]))
    assert set(today_frame["v:renewal"]) == {0.0} and set(today_frame["v:risk"]) == {1.0}


def test_measures_without_history_on_the_day_are_flagged_not_read_from_today(ws, manager):
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=COMMERCIAL)
    account = AccountFactory(workspace=ws, attributes={"risk": 1})  # on record from today only
    past = ws.today() - dt.timedelta(days=10)
    add_usage(account, past, users=["a"])
    frame, _ = compute_scores(workspace=ws, as_of=past)
    row = frame.loc[account.pk]
    assert math.isnan(row["v:renewal"]) and math.isnan(row["v:risk"]) and math.isnan(row["v:seats"])
    assert bool(row["h:renewal"]) and bool(row["h:risk"]) and bool(row["h:seats"])
    assert history_gaps(frame) == {"renewal": 1, "risk": 1, "seats": 1}
    groups, measures = snapshot_payload(row, COMMERCIAL)
    assert measures["renewal"]["no_history"] is True and measures["renewal"]["value"] is None
    now, _ = compute_scores(workspace=ws, as_of=ws.today())
    assert history_gaps(now) == {"renewal": 0, "risk": 0, "seats": 0}


def test_stored_snapshot_equals_the_recomputation_after_later_edits(ws, manager, csm):
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=COMMERCIAL)
    today = ws.today()
    past = today - dt.timedelta(days=20)
    plain = AccountFactory(workspace=ws, owner=csm, licensed_seats=4, attributes={"risk": 0.5},
                           renewal_date=today + dt.timedelta(days=60))
    lined = AccountFactory(workspace=ws, owner=csm)
    ContractFactory(account=lined, mrr=Decimal("100000"), quantity=5, unit="seats",
                    start_date=today - dt.timedelta(days=300), renewal_date=today + dt.timedelta(days=65))
    known_since(today - dt.timedelta(days=300), plain, lined)
    for account in (plain, lined):
        add_usage(account, past - dt.timedelta(days=1), users=["a", "b"])
    nightly_health(workspace=ws, as_of=past)
    for account in (plain, lined):
        update_account(account=account, actor=manager, licensed_seats=400, arr=Decimal("99000000"),
                       renewal_date=today + dt.timedelta(days=1), attributes={"risk": 1}, owner=None)
    frame, _ = compute_scores(workspace=ws, as_of=past)
    stored = {s.account_id: s for s in HealthSnapshot.objects.for_workspace(ws).filter(day=past)}
    for account_id, row in frame.iterrows():
        groups, measures = snapshot_payload(row, row["version"].definition)
        snap = stored[account_id]
        assert (snap.total, snap.groups, snap.measures) == (row["total"], groups, measures)
    # By hand: plain 2 users of 4 seats (0.5 → 50), renewal in 80 days (66.67), risk 0.5 (50).
    assert stored[plain.pk].measures["seats"]["value"] == 0.5
    assert stored[plain.pk].measures["renewal"]["value"] == 80
    assert stored[plain.pk].total == pytest.approx(round((50 + 80 / 120 * 100 + 50) / 3, 2))
    # lined: seats from its line (5), renewal from its line (85 days); no risk on record.
    assert stored[lined.pk].measures["seats"]["value"] == 0.4
    assert stored[lined.pk].measures["renewal"]["value"] == 85


# --- touches -------------------------------------------------------------------------------------
TOUCH = {
    "bands": {"red": 40, "green": 70},
    "min_available_weight": 0.1,
    "groups": [{"key": "relationship", "label": "Relationship", "weight": 1, "measures": [
        {"key": "touch", "kind": "days_since_last_touch", "weight": 1,
         "rule": {"type": "linear", "low": 90, "high": 0}},
        {"key": "sentiment", "kind": "csm_sentiment", "weight": 1, "rule": {"type": "linear", "low": 1, "high": 5}},
    ]}],
}


def test_a_workspace_that_logs_no_touches_has_no_touch_measure(ws, manager):
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=TOUCH)
    account = AccountFactory(workspace=ws, contract_start=ws.today() - dt.timedelta(days=400))
    frame, signals = compute_scores(workspace=ws, as_of=ws.today())
    assert math.isnan(frame.loc[account.pk, "v:touch"])
    assert math.isnan(signals.loc[account.pk, "days_since_any_touch"])
    assert not bool(frame.loc[account.pk, "h:touch"])  # not for lack of account history
    # A touch logged later does not make the earlier day's measure available.
    other = AccountFactory(workspace=ws)
    TouchpointFactory(account=other, occurred_at=at_noon(other, ws.today()))
    earlier, _ = compute_scores(workspace=ws, as_of=ws.today() - dt.timedelta(days=1))
    assert math.isnan(earlier.loc[account.pk, "v:touch"])


def test_an_untouched_account_counts_from_its_contract_start_and_says_so(ws, manager):
    save_scorecard(workspace=ws, actor=manager, scorecard=default_scorecard(workspace=ws), definition=TOUCH)
    today = ws.today()
    never = AccountFactory(workspace=ws, contract_start=today - dt.timedelta(days=45))
    touched = AccountFactory(workspace=ws)
    TouchpointFactory(account=touched, channel="phone", occurred_at=at_noon(touched, today - dt.timedelta(days=3)))
    frame, _ = compute_scores(workspace=ws, as_of=today)
    assert frame.loc[never.pk, "v:touch"] == 45 and frame.loc[touched.pk, "v:touch"] == 3
    _groups, measures = snapshot_payload(frame.loc[never.pk], TOUCH)
    assert measures["touch"]["detail"] == {"since": "contract_start"}
    assert measure_sentence("touch", measures["touch"], "Touch") == "No touch logged; 45 days since the contract start"
    _groups, measures = snapshot_payload(frame.loc[touched.pk], TOUCH)
    assert measure_sentence("touch", measures["touch"], "Touch") == "Last qualifying touch 3 days ago"


def test_the_demos_past_days_have_their_commercial_measures(manager):
    from cs_platform.demo import seed_demo

    ws = seed_demo(slug="demo", accounts=40, seed=7).workspace
    past = ws.today() - dt.timedelta(days=90)
    frame, signals = compute_scores(workspace=ws, as_of=past)
    assert len(frame) > 20
    # Contract lines give ARR, seats and the next renewal of every day; the log owners and attributes.
    assert signals["known_arr"].all() and signals["known_licensed_seats"].all()
    assert signals["arr"].notna().all() and signals["owner_id"].notna().any()
    gaps = history_gaps(frame)
    assert gaps.get("renewal", 0) == 0 and gaps.get("seats", 0) == 0


def test_tiers_of_a_past_day_follow_that_days_arr(ws, manager):
    from coverage.selectors import tiers_as_of
    from coverage.services import assign_tiers

    today = ws.today()
    past = today - dt.timedelta(days=30)
    grew = AccountFactory(workspace=ws, arr=Decimal("500000"))  # tech touch then
    known_since(today - dt.timedelta(days=100), grew)
    update_account(account=grew, actor=manager, arr=Decimal("50000000"))  # high touch from today
    lined = AccountFactory(workspace=ws, arr=Decimal("50000000"))  # the row says high; its line said low
    ContractFactory(account=lined, mrr=Decimal("200000"), start_date=today - dt.timedelta(days=200))
    known_since(today - dt.timedelta(days=200), lined)  # its line on record since it started
    unknown = AccountFactory(workspace=ws, arr=Decimal("50000000"))  # nothing on record 30 days ago
    assign_tiers(workspace=ws, as_of=past)
    then = tiers_as_of(workspace=ws, day=past)
    assert (then.get(grew.pk), then.get(lined.pk), then.get(unknown.pk)) == ("tech", "low", None)
    assign_tiers(workspace=ws, as_of=today)
    now = tiers_as_of(workspace=ws, day=today)
    assert (now[grew.pk], now[unknown.pk]) == ("high", "high")
