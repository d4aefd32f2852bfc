"""Stage distribution against targets over time, stuck accounts, the stage-time trigger with the
stage's own threshold, and the targets' validation (page and API)."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AccountChange, LifecycleStage, StageChange
from lifecycle import selectors
from playbooks.definition import validate_trigger
from playbooks.models import TriggerKind
from playbooks.triggers import trigger_matches

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def _stages(ws):
    return list(LifecycleStage.objects.for_workspace(ws).order_by("position"))


def _created(ws, account, day):
    account.__class__.objects.for_workspace(ws).filter(pk=account.pk).update(created_at=ws.day_start(day) + dt.timedelta(hours=10))


def _move(ws, account, day, from_stage, to_stage):
    StageChange.objects.create(workspace=ws, account=account, from_stage=from_stage, to_stage=to_stage,
                               changed_at=ws.day_start(day) + dt.timedelta(hours=9))


def test_stage_share_per_week_by_hand(ws):
    first, second, third = _stages(ws)[:3]
    today = ws.today()
    w0, w1, w2 = today - dt.timedelta(days=14), today - dt.timedelta(days=7), today
    # a: in `first` from the start, moves to `second` 10 days ago (between w0 and w1).
    a = AccountFactory(workspace=ws, stage=second)
    _created(ws, a, today - dt.timedelta(days=60))
    _move(ws, a, today - dt.timedelta(days=60), None, first)
    _move(ws, a, today - dt.timedelta(days=10), first, second)
    # b: in `second` all along (no move recorded: its stage now).
    b = AccountFactory(workspace=ws, stage=second)
    _created(ws, b, today - dt.timedelta(days=60))
    # c: in `first`, churned 3 days ago: counts at w0 and w1, not at w2.
    c = AccountFactory(workspace=ws, stage=first, status="churned", churned_on=today - dt.timedelta(days=3))
    _created(ws, c, today - dt.timedelta(days=60))
    # d: created 5 days ago in `third`: only at w2.
    d = AccountFactory(workspace=ws, stage=third)
    _created(ws, d, today - dt.timedelta(days=5))
    # e: moves first -> third on the day of w1 (counts in third that day).
    e = AccountFactory(workspace=ws, stage=third)
    _created(ws, e, today - dt.timedelta(days=60))
    _move(ws, e, w1, first, third)

    report = selectors.stage_distribution(workspace=ws, today=today, weeks=3)
    assert report["days"] == [w0, w1, w2]
    assert report["totals"] == [4, 4, 4]  # w0: a b c e; w1: a b c e; w2: a b d e
    rows = {row["stage"].pk: [p["count"] for p in row["points"]] for row in report["rows"]}
    assert rows[first.pk] == [3, 1, 0]  # w0: a c e; w1: c; w2: -
    assert rows[second.pk] == [1, 2, 2]
    assert rows[third.pk] == [0, 1, 2]
    shares = {row["stage"].pk: [p["share"] for p in row["points"]] for row in report["rows"]}
    assert shares[first.pk] == [75.0, 25.0, 0.0]
    assert shares[third.pk] == [0.0, 25.0, 50.0]


def test_status_log_decides_activity_on_past_days(ws):
    first = _stages(ws)[0]
    today = ws.today()
    # Churned 20 days ago and won back 5 days ago: out of the point of 14 days ago only.
    a = AccountFactory(workspace=ws, stage=first)
    _created(ws, a, today - dt.timedelta(days=90))
    for day, value in ((today - dt.timedelta(days=90), "active"), (today - dt.timedelta(days=20), "churned"),
                       (today - dt.timedelta(days=5), "active")):
        AccountChange.objects.create(workspace=ws, account=a, field="status", value=value, valid_from=day)
    report = selectors.stage_distribution(workspace=ws, today=today, weeks=3)
    assert report["totals"] == [0, 0, 1]


def test_targets_shown_and_no_target(ws):
    stages = _stages(ws)
    LifecycleStage.objects.for_workspace(ws).filter(pk=stages[0].pk).update(target_share=None)
    report = selectors.stage_distribution(workspace=ws, today=ws.today(), weeks=2)
    assert report["rows"][0]["target"] is None
    assert report["rows"][1]["target"] == float(stages[1].target_share)


def _entered(ws, account, days_ago):
    when = ws.day_start(ws.today() - dt.timedelta(days=days_ago)) + dt.timedelta(hours=12)
    account.__class__.objects.for_workspace(ws).filter(pk=account.pk).update(stage_entered_at=when)


def test_stuck_list_boundary_is_the_threshold_day(ws, csm):
    stage = _stages(ws)[1]
    LifecycleStage.objects.for_workspace(ws).filter(pk=stage.pk).update(stuck_after_days=30)
    on_the_day = AccountFactory(workspace=ws, stage=stage, owner=csm, name="Crossed today")
    _entered(ws, on_the_day, 30)
    day_before = AccountFactory(workspace=ws, stage=stage, owner=csm, name="Not yet")
    _entered(ws, day_before, 29)
    long_ago = AccountFactory(workspace=ws, stage=stage, name="Long stuck")
    _entered(ws, long_ago, 100)
    churned = AccountFactory(workspace=ws, stage=stage, status="churned", churned_on=ws.today())
    _entered(ws, churned, 100)
    rows = selectors.stuck_accounts(workspace=ws, today=ws.today())
    assert [(r["account"].name, r["days"]) for r in rows] == [("Long stuck", 100), ("Crossed today", 30)]
    assert rows[1]["owner"] == csm and rows[1]["threshold"] == 30


def test_stage_time_trigger_uses_the_stages_threshold(ws):
    stage = _stages(ws)[1]
    trigger = validate_trigger({"kind": TriggerKind.STAGE_TIME, "stage": stage.pk})
    assert trigger["days"] is None
    on_the_day = AccountFactory(workspace=ws, stage=stage)
    _entered(ws, on_the_day, 30)
    day_before = AccountFactory(workspace=ws, stage=stage)
    _entered(ws, day_before, 29)
    assert trigger_matches(workspace=ws, trigger=trigger, as_of=ws.today()) == {}  # no threshold: nothing
    LifecycleStage.objects.for_workspace(ws).filter(pk=stage.pk).update(stuck_after_days=30)
    matches = trigger_matches(workspace=ws, trigger=trigger, as_of=ws.today())
    assert set(matches) == {on_the_day.pk}
    assert matches[on_the_day.pk].values["days"] == 30
    tomorrow = trigger_matches(workspace=ws, trigger=trigger, as_of=ws.today() + dt.timedelta(days=1))
    assert set(tomorrow) == {on_the_day.pk, day_before.pk}
    # Explicit days still win over the threshold.
    explicit = validate_trigger({"kind": TriggerKind.STAGE_TIME, "stage": stage.pk, "days": 10})
    assert set(trigger_matches(workspace=ws, trigger=explicit, as_of=ws.today())) == {on_the_day.pk, day_before.pk}


def _stage_post(ws, **overrides):
    stages = _stages(ws)
    data = {"stages-TOTAL_FORMS": str(len(stages)), "stages-INITIAL_FORMS": str(len(stages)),
            "stages-MIN_NUM_FORMS": "0", "stages-MAX_NUM_FORMS": "1000"}
    for i, stage in enumerate(stages):
        data.update({f"stages-{i}-id": stage.pk, f"stages-{i}-name": stage.name, f"stages-{i}-position": stage.position,
                     f"stages-{i}-target_share": stage.target_share if stage.target_share is not None else "",
                     f"stages-{i}-stuck_after_days": stage.stuck_after_days or ""})
    data.update(overrides)
    return data


def test_page_saves_thresholds_and_rejects_bad_targets(ws, manager, login):
    client = login(manager)
    response = client.post("/accounts/stages/", _stage_post(ws, **{"stages-1-stuck_after_days": "45"}))
    assert response.status_code == 302
    assert _stages(ws)[1].stuck_after_days == 45
    assert client.post("/accounts/stages/", _stage_post(ws, **{"stages-0-target_share": "150"})).status_code == 400
    assert client.post("/accounts/stages/", _stage_post(ws, **{"stages-0-target_share": "90"})).status_code == 400
    assert client.post("/accounts/stages/", _stage_post(ws, **{"stages-0-stuck_after_days": "0"})).status_code == 400


def test_csm_cannot_change_targets(ws, csm, login, api_for):
    assert login(csm).post("/accounts/stages/", _stage_post(ws)).status_code == 403
    stage = _stages(ws)[0]
    assert api_for(csm).patch(f"/api/v1/stages/{stage.pk}/", {"stuck_after_days": 5}, format="json").status_code == 403


def test_api_targets_validation(ws, manager, api_for):
    api = api_for(manager)
    stage = _stages(ws)[0]
    assert api.patch(f"/api/v1/stages/{stage.pk}/", {"target_share": 101}, format="json").status_code == 400
    response = api.patch(f"/api/v1/stages/{stage.pk}/", {"target_share": 95}, format="json")
    assert response.status_code == 400 and "target_share" in response.json()
    response = api.patch(f"/api/v1/stages/{stage.pk}/", {"stuck_after_days": 21, "target_share": "10"}, format="json")
    assert response.status_code == 200
    stage.refresh_from_db()
    assert stage.stuck_after_days == 21 and stage.target_share == Decimal("10")


def test_distribution_page_api_and_csv(ws, csm, login, api_for):
    stage = _stages(ws)[1]
    LifecycleStage.objects.for_workspace(ws).filter(pk=stage.pk).update(stuck_after_days=10)
    account = AccountFactory(workspace=ws, stage=stage, owner=csm, name="Slow Starter")
    _entered(ws, account, 15)
    client = login(csm)
    page = client.get("/lifecycle/stages/")
    assert page.status_code == 200
    assert "Slow Starter" in page.content.decode() and "<svg" in page.content.decode()
    assert client.get("/lifecycle/stages/?weeks=4").context["report"]["weeks"] == 4
    csv = client.get("/lifecycle/stages/distribution.csv").content.decode()
    assert stage.name in csv
    assert "Slow Starter" in client.get("/lifecycle/stages/stuck.csv").content.decode()
    api = api_for(csm)
    data = api.get("/api/v1/lifecycle/stage-distribution/?weeks=5").json()
    assert len(data["days"]) == 5 and len(data["rows"][0]["points"]) == 5
    assert api.get("/api/v1/lifecycle/stage-distribution/?weeks=1").status_code == 400
    assert api.get("/api/v1/lifecycle/stage-distribution/?weeks=x").status_code == 400
    assert api.get("/api/v1/lifecycle/stuck/?stage=abc").status_code == 400
    stuck = api.get(f"/api/v1/lifecycle/stuck/?stage={stage.pk}").json()
    assert [r["account_name"] for r in stuck] == ["Slow Starter"]


def test_empty_stuck_state_and_japanese(ws, manager, login):
    client = login(manager)
    page = client.get("/lifecycle/stages/", HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200


def test_tenancy_of_stage_reports(ws, other_ws, outsider, api_for, login):
    stage = _stages(ws)[1]
    LifecycleStage.objects.for_workspace(ws).filter(pk=stage.pk).update(stuck_after_days=1)
    mine = AccountFactory(workspace=ws, stage=stage, name="Acme Secret")
    _entered(ws, mine, 50)
    api = api_for(outsider)
    assert api.get("/api/v1/lifecycle/stuck/").json() == []
    assert api.get(f"/api/v1/lifecycle/stuck/?stage={stage.pk}").json() == []
    data = api.get("/api/v1/lifecycle/stage-distribution/").json()
    assert data["totals"][-1] == 0
    assert "Acme Secret" not in login(outsider).get("/lifecycle/stages/").content.decode()
