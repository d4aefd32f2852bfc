"""Usage levels: assignment on hand-built usage, the nightly step (idempotent, as of the day), the
history's per-level churn and Lv2+ by tenure by hand, the level-change trigger, pages and API."""

import datetime as dt

import pytest

from accounts.models import Account, AccountChange
from cs_platform.nightly import NIGHTLY_STEPS
from lifecycle import nightly, selectors, services
from lifecycle.computation import levels_on
from lifecycle.models import AccountLevel, CurrentLevel, UsageLevel
from playbooks.definition import validate_trigger
from playbooks.describe import describe_trigger
from playbooks.models import TriggerKind
from playbooks.triggers import describe_why, trigger_matches
from usage.models import DailyAccountUsage
from workspaces.errors import DomainError, NotAllowed

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def _created(ws, account, day):
    Account.objects.for_workspace(ws).filter(pk=account.pk).update(created_at=ws.day_start(day))


def _seats(ws, account, seats, day):
    AccountChange.objects.create(workspace=ws, account=account, field="licensed_seats", value=seats, valid_from=day)


def _usage(ws, account, last_day, days, users):
    DailyAccountUsage.objects.bulk_create(
        DailyAccountUsage(workspace=ws, account=account, day=last_day - dt.timedelta(days=i), events=5,
                          active_users=users) for i in range(days))


def test_default_levels_in_every_new_workspace(ws):
    levels = UsageLevel.objects.for_workspace(ws).order_by("number")
    assert [lv.number for lv in levels] == [1, 2, 3, 4]
    assert levels[0].rules == {} and levels[1].rules == {"min_days_active": 8}


def test_level_assignment_on_hand_built_usage(ws):
    day = ws.today() - dt.timedelta(days=3)
    start = day - dt.timedelta(days=100)
    accounts = {}
    # (days active in the 30 days, users on those days, seats) -> expected level (defaults: Lv2 8 days;
    # Lv3 15 days and 0.5 users per seat; Lv4 20 days and 0.8 per seat).
    cases = {"idle": (0, 0, 10, 1), "light": (8, 2, 10, 2), "no seats": (25, 9, None, 2),
             "adopted": (15, 5, 10, 3), "almost": (19, 9, 10, 3), "expanding": (20, 8, 10, 4),
             "seven": (7, 10, 10, 1)}
    for name, (days, users, seats, _expected) in cases.items():
        account = AccountFactory(workspace=ws, name=name)
        _created(ws, account, start)
        if seats:
            _seats(ws, account, seats, start)
        if days:
            _usage(ws, account, day, days, users)
        accounts[name] = account
    # Usage after the day is not read (no look-ahead).
    _usage(ws, accounts["idle"], day + dt.timedelta(days=2), 2, 50)
    churned = AccountFactory(workspace=ws, status="churned", churned_on=day - dt.timedelta(days=1))
    _created(ws, churned, start)
    got = levels_on(workspace=ws, day=day, definitions=selectors.rules_by_number(ws))
    assert got == {accounts[name].pk: case[3] for name, case in cases.items()}


def test_nightly_step_is_in_the_night_after_health_before_playbooks():
    names = [step.name for step in NIGHTLY_STEPS]
    assert names.index("health") < names.index("lifecycle") < names.index("playbooks")


def _history(ws):
    return sorted(AccountLevel.objects.for_workspace(ws).values_list("account_id", "level", "valid_from", "valid_to"))


def test_nightly_idempotent_as_of_and_one_row_per_change(ws):
    today = ws.today()
    d1, d2, d3 = today - dt.timedelta(days=20), today - dt.timedelta(days=10), today
    account = AccountFactory(workspace=ws, licensed_seats=10)
    _created(ws, account, today - dt.timedelta(days=100))
    _seats(ws, account, 10, today - dt.timedelta(days=100))
    _usage(ws, account, d2, 15, 6)  # 15 active days ending on d2: Lv3 on d2 (and on d3: still 15 in 30)
    nightly.step(workspace=ws, as_of=d1)
    first = _history(ws)
    assert first == [(account.pk, 1, d1, None)]  # 5 days active by d1 (d2-14 .. d1): Lv1
    nightly.step(workspace=ws, as_of=d1)
    assert _history(ws) == first  # idempotent
    nightly.step(workspace=ws, as_of=d2)
    nightly.step(workspace=ws, as_of=d2)
    assert _history(ws) == [(account.pk, 1, d1, d2), (account.pk, 3, d2, None)]
    nightly.step(workspace=ws, as_of=d3)
    assert _history(ws) == [(account.pk, 1, d1, d2), (account.pk, 3, d2, None)]  # no row per day
    current = CurrentLevel.objects.for_workspace(ws).get(account=account)
    assert (current.level, current.since) == (3, d2)
    # Recomputing a past day reads that day's usage: d1 stays Lv1 even though later usage exists.
    nightly.step(workspace=ws, as_of=d1)
    assert _history(ws) == [(account.pk, 1, d1, d2), (account.pk, 3, d2, None)]


def test_an_account_that_churns_leaves_the_history_open_row(ws):
    today = ws.today()
    account = AccountFactory(workspace=ws)
    _created(ws, account, today - dt.timedelta(days=100))
    nightly.step(workspace=ws, as_of=today - dt.timedelta(days=5))
    Account.objects.for_workspace(ws).filter(pk=account.pk).update(status="churned", churned_on=today - dt.timedelta(days=1))
    AccountChange.objects.create(workspace=ws, account=account, field="status", value="churned",
                                 valid_from=today)  # as the write path logs it, the day of the edit
    nightly.step(workspace=ws, as_of=today)
    assert _history(ws) == [(account.pk, 1, today - dt.timedelta(days=5), today)]
    assert not CurrentLevel.objects.for_workspace(ws).exists()


def _row(ws, account, level, start, end=None):
    AccountLevel.objects.create(workspace=ws, account=account, level=level, valid_from=start, valid_to=end)


def test_per_level_churn_on_synthetic_history(ws):
    today = dt.date(2026, 11, 20)
    # Month starts with a complete 90-day window: up to 2026-08-22 -> Jun 1, Jul 1, Aug 1.
    lv1 = []
    for _ in range(10):
        account = AccountFactory(workspace=ws)
        _row(ws, account, 1, dt.date(2026, 6, 1))
        lv1.append(account)
    # Two churn: one 60 days after Jul 1 (counts for Jun 1? 2026-08-30 - Jun 1 = 90 days: yes, and Jul 1, Aug 1),
    Account.objects.for_workspace(ws).filter(pk=lv1[0].pk).update(status="churned", churned_on=dt.date(2026, 8, 30))
    AccountLevel.objects.for_workspace(ws).filter(account=lv1[0]).update(valid_to=dt.date(2026, 8, 30))
    # one on 2026-10-15: within 90 days of Aug 1 only (Jul 1 + 90 = Sep 29).
    Account.objects.for_workspace(ws).filter(pk=lv1[1].pk).update(status="churned", churned_on=dt.date(2026, 10, 15))
    AccountLevel.objects.for_workspace(ws).filter(account=lv1[1]).update(valid_to=dt.date(2026, 10, 15))
    # Lv3: 3 accounts from Jul 1 (too few for a rate), one churns on 2026-09-01.
    lv3 = [AccountFactory(workspace=ws) for _ in range(3)]
    for account in lv3:
        _row(ws, account, 3, dt.date(2026, 7, 1))
    Account.objects.for_workspace(ws).filter(pk=lv3[0].pk).update(status="churned", churned_on=dt.date(2026, 9, 1))
    AccountLevel.objects.for_workspace(ws).filter(account=lv3[0]).update(valid_to=dt.date(2026, 9, 1))

    report = selectors.level_churn(workspace=ws, today=today)
    assert report["days"] == [dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2026, 8, 1)]
    rows = {r["level"]: r for r in report["rows"]}
    # Lv1: 10 accounts x 3 month starts = 30 observations; churned: lv1[0] on Jun 1, Jul 1, Aug 1 (3),
    # lv1[1] on Aug 1 (1) -> 4 / 30 = 13.3 %.
    assert (rows[1]["observations"], rows[1]["accounts"], rows[1]["churned"]) == (30, 10, 4)
    assert rows[1]["rate"] == 13.3 and rows[1]["enough"]
    # Lv3: 3 accounts x 2 month starts = 6 observations, 2 churned (Jul 1, Aug 1); fewer than 10 accounts.
    assert (rows[3]["observations"], rows[3]["accounts"], rows[3]["churned"]) == (6, 3, 2)
    assert rows[3]["rate"] is None and not rows[3]["enough"]
    assert rows[2]["observations"] == 0 and rows[2]["rate"] is None


def test_lv2_share_by_month_of_tenure(ws):
    today = dt.date(2026, 4, 15)
    start = dt.date(2026, 1, 10)
    accounts = [AccountFactory(workspace=ws, contract_start=start) for _ in range(10)]
    # Each account at Lv1 from Feb 1, and 4 of them at Lv2 from Mar 1 (the others stay Lv1).
    for i, account in enumerate(accounts):
        if i < 4:
            _row(ws, account, 1, dt.date(2026, 2, 1), dt.date(2026, 3, 1))
            _row(ws, account, 2, dt.date(2026, 3, 1))
        else:
            _row(ws, account, 1, dt.date(2026, 2, 1))
    old = AccountFactory(workspace=ws, contract_start=dt.date(2024, 1, 1))
    _row(ws, old, 4, dt.date(2026, 2, 1))
    rows = {r["month"]: r for r in selectors.lv2_by_tenure(workspace=ws, today=today)["rows"]}
    # Feb 1: tenure 0 (Jan 10 -> Feb 1 is not a full month); Mar 1: 1; Apr 1: 2.
    assert (rows[0]["observations"], rows[0]["lv2"], rows[0]["share"]) == (10, 0, 0.0)
    assert (rows[1]["observations"], rows[1]["lv2"], rows[1]["share"]) == (10, 4, 40.0)
    assert (rows[2]["observations"], rows[2]["lv2"], rows[2]["share"]) == (10, 4, 40.0)
    assert (rows[12]["observations"], rows[12]["lv2"], rows[12]["accounts"]) == (3, 3, 1)
    assert rows[12]["share"] is None  # one account: not enough data


def test_level_changed_trigger(ws):
    today = ws.today()
    rose, dropped, new = (AccountFactory(workspace=ws) for _ in range(3))
    _row(ws, rose, 1, today - dt.timedelta(days=60), today - dt.timedelta(days=2))
    _row(ws, rose, 3, today - dt.timedelta(days=2))
    _row(ws, dropped, 3, today - dt.timedelta(days=60), today)
    _row(ws, dropped, 2, today)
    _row(ws, new, 2, today - dt.timedelta(days=1))  # a first level is not a change
    any_change = validate_trigger({"kind": TriggerKind.LEVEL_CHANGED})
    assert any_change == {"kind": "level_changed", "direction": "any", "from_level": None, "to_level": None,
                          "within_days": 7}
    matches = trigger_matches(workspace=ws, trigger=any_change, as_of=today)
    assert set(matches) == {rose.pk, dropped.pk}
    assert matches[rose.pk].reason_key == f"level:{(today - dt.timedelta(days=2)).isoformat()}"
    assert "Lv1" in describe_why({"trigger": "level_changed", "values": matches[rose.pk].values})
    drop = validate_trigger({"kind": "level_changed", "direction": "dropped"})
    assert set(trigger_matches(workspace=ws, trigger=drop, as_of=today)) == {dropped.pk}
    to3 = validate_trigger({"kind": "level_changed", "to_level": 3, "within_days": 1})
    assert trigger_matches(workspace=ws, trigger=to3, as_of=today) == {}
    assert "dropped" in describe_trigger(drop).lower()
    with pytest.raises(DomainError):
        validate_trigger({"kind": "level_changed", "direction": "sideways"})
    with pytest.raises(DomainError):
        validate_trigger({"kind": "level_changed", "to_level": 5})


def test_save_levels_validates_and_only_managers(ws, manager, csm):
    levels = [{"number": 2, "name": "Used", "rules": {"min_days_active": 10}}]
    with pytest.raises(NotAllowed):
        services.save_levels(workspace=ws, actor=csm, levels=levels)
    services.save_levels(workspace=ws, actor=manager, levels=levels)
    assert UsageLevel.objects.for_workspace(ws).get(number=2).rules == {"min_days_active": 10}
    for bad in ([{"number": 5, "name": "x"}], [{"number": 2, "name": ""}],
                [{"number": 2, "name": "x", "rules": {"min_days_active": 31}}],
                [{"number": 2, "name": "x", "rules": {"colour": 1}}],
                [{"number": 1, "name": "x", "rules": {"min_days_active": 1}}],
                [{"number": 2, "name": "x"}, {"number": 2, "name": "y"}]):
        with pytest.raises(DomainError):
            services.save_levels(workspace=ws, actor=manager, levels=bad)


def test_levels_api(ws, manager, csm, viewer, api_for):
    assert [lv["number"] for lv in api_for(viewer).get("/api/v1/lifecycle/levels/").json()] == [1, 2, 3, 4]
    body = {"levels": [{"number": 3, "name": "Deep", "rules": {"min_days_active": 12, "min_key_features": 2}}]}
    assert api_for(csm).post("/api/v1/lifecycle/levels/", body, format="json").status_code == 403
    response = api_for(manager).post("/api/v1/lifecycle/levels/", body, format="json")
    assert response.status_code == 200
    assert response.json()[2]["rules"] == {"min_days_active": 12, "min_key_features": 2}
    bad = api_for(manager).post("/api/v1/lifecycle/levels/", {"levels": [{"number": 3, "name": "x",
                                                                          "rules": {"min_days_active": "many"}}]},
                                format="json")
    assert bad.status_code == 400 and "rules" in bad.json()
    assert api_for(manager).post("/api/v1/lifecycle/levels/", {"levels": "no"}, format="json").status_code == 400
    report = api_for(viewer).get("/api/v1/lifecycle/level-report/").json()
    assert [r["level"] for r in report["churn"]] == [1, 2, 3, 4] and report["min_accounts"] == 10


def test_levels_pages_preview_and_permissions(ws, manager, csm, login):
    account = AccountFactory(workspace=ws)
    _created(ws, account, ws.today() - dt.timedelta(days=100))
    _usage(ws, account, ws.today(), 10, 3)
    client = login(manager)
    assert client.get("/lifecycle/levels/").status_code == 200
    assert client.get("/lifecycle/levels/edit/").status_code == 200
    data = {"lv1_name": "Start", "lv2_name": "Used", "lv2_min_days_active": "9", "lv3_name": "Deep",
            "lv3_min_days_active": "20", "lv4_name": "Wide", "lv4_min_days_active": "25", "preview": "1"}
    preview = client.post("/lifecycle/levels/edit/", data)
    assert preview.status_code == 200
    assert preview.context["preview"] == [(1, "Start", 0), (2, "Used", 1), (3, "Deep", 0), (4, "Wide", 0)]
    assert UsageLevel.objects.for_workspace(ws).get(number=2).name != "Used"  # a preview saves nothing
    del data["preview"]
    assert client.post("/lifecycle/levels/edit/", data).status_code == 302
    assert UsageLevel.objects.for_workspace(ws).get(number=2).rules == {"min_days_active": 9}
    assert client.post("/lifecycle/levels/edit/", {**data, "lv2_min_days_active": "-1"}).status_code == 400
    assert login(csm).post("/lifecycle/levels/edit/", data).status_code == 403
    assert login(csm).get("/lifecycle/levels/").status_code == 200
    for path in ("/lifecycle/levels/churn.csv", "/lifecycle/levels/tenure.csv"):
        assert client.get(path).status_code == 200


def test_levels_page_japanese_and_empty_state(ws, manager, login):
    page = login(manager).get("/lifecycle/levels/", HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200


def test_account_panel_shows_level_and_stage(ws, manager, login):
    account = AccountFactory(workspace=ws)
    _created(ws, account, ws.today() - dt.timedelta(days=10))
    nightly.step(workspace=ws, as_of=ws.today())
    body = login(manager).get(f"/accounts/{account.pk}/").content.decode()
    assert "lifecycle-panel" in body and "Lv1" in body


def test_tenancy_of_levels(ws, other_ws, outsider, manager, api_for):
    account = AccountFactory(workspace=ws)
    _created(ws, account, ws.today() - dt.timedelta(days=10))
    nightly.step(workspace=ws, as_of=ws.today())
    report = api_for(outsider).get("/api/v1/lifecycle/level-report/").json()
    assert report["counts"] == {}
    api_for(outsider).post("/api/v1/lifecycle/levels/", {"levels": [{"number": 2, "name": "Theirs"}]}, format="json")
    assert UsageLevel.objects.for_workspace(ws).get(number=2).name != "Theirs"
    assert UsageLevel.objects.for_workspace(other_ws).get(number=2).name == "Theirs"
    nightly.step(workspace=other_ws, as_of=other_ws.today())
    assert not AccountLevel.objects.for_workspace(other_ws).exists()
    assert AccountLevel.objects.for_workspace(ws).count() == 1
