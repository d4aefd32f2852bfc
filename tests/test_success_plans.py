"""Success plans: the gap and "achieved" arithmetic by hand, the approval workflow and who may do what,
the history every change leaves, and the API (400s, permissions, tenancy)."""

import datetime as dt

import pytest

from success import services
from success.models import EventKind, LevelDefinition, Objective, PlanEvent, PlanStatus, SuccessPlan
from workspaces.errors import DomainError, NotAllowed


# --- arithmetic by hand ----------------------------------------------------------------------------
def test_gap_is_the_sum_of_shortfalls_and_ignores_objectives_passed():
    # (objective, achievement): 3-1 = 2 short, 4-3 = 1 short, 2-4 passed (0, never -2) → 3
    assert services.plan_gap([(3, 1), (4, 3), (2, 4)]) == 3
    assert services.objective_gap(2, 4) == 0
    assert services.plan_gap([(3, 3)]) == 0
    assert services.plan_gap([]) is None


def test_successful_when_every_objective_is_achieved():
    assert services.is_successful([(3, 3), (2, 4)]) is True
    assert services.is_successful([(3, 3), (4, 3)]) is False
    assert services.is_successful([]) is False


def test_default_levels_exist_in_the_workspace_language(ws):
    rows = list(LevelDefinition.objects.for_workspace(ws).order_by("level"))
    assert [r.level for r in rows] == [1, 2, 3, 4]
    assert rows[0].name == "Getting started"


# --- workflow ----------------------------------------------------------------------------------------
@pytest.fixture
def plan(ws, csm, account):
    plan = services.create_plan(workspace=ws, actor=csm, account=account)
    services.save_objective(plan=plan, actor=csm, text="Every rep logs visits", kpi="weekly active reps",
                            objective_level=3, achievement_level=1)
    return plan


def test_csm_submits_manager_approves_and_history_records_each_step(ws, csm, manager, plan):
    services.submit_plan(plan=plan, actor=csm, comment="Ready")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED
    with pytest.raises(NotAllowed):
        services.approve_plan(plan=plan, actor=csm)
    services.approve_plan(plan=plan, actor=manager, comment="Agreed")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.decided_by == manager
    kinds = list(PlanEvent.objects.for_workspace(ws).filter(plan=plan).order_by("id").values_list(
        "kind", "actor_id", "comment", "status_after", "gap_after"))
    assert kinds == [
        (EventKind.CREATED, csm.pk, "", "draft", None),
        (EventKind.OBJECTIVE_ADDED, csm.pk, "", "draft", 2),
        (EventKind.SUBMITTED, csm.pk, "Ready", "submitted", 2),
        (EventKind.APPROVED, manager.pk, "Agreed", "approved", 2),
    ]


def test_request_changes_needs_a_comment_and_lets_the_csm_edit_again(ws, csm, manager, plan):
    services.submit_plan(plan=plan, actor=csm)
    with pytest.raises(DomainError) as exc:
        services.request_changes(plan=plan, actor=manager, comment="  ")
    assert exc.value.field == "comment"
    services.request_changes(plan=plan, actor=manager, comment="Which KPI?")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CHANGES_REQUESTED
    objective = plan.objectives.get()
    services.save_objective(plan=plan, actor=csm, objective=objective, kpi="reps active weekly (%)")
    services.submit_plan(plan=plan, actor=csm)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUBMITTED


def test_editing_a_submitted_plan_withdraws_it_and_submitting_twice_changes_nothing(ws, csm, manager, plan):
    services.submit_plan(plan=plan, actor=csm)
    services.submit_plan(plan=plan, actor=csm)
    assert PlanEvent.objects.for_workspace(ws).filter(plan=plan, kind=EventKind.SUBMITTED).count() == 1
    services.save_objective(plan=plan, actor=csm, objective=plan.objectives.get(), achievement_level=2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    with pytest.raises(DomainError):  # a draft is not decided on
        services.approve_plan(plan=plan, actor=manager)


def test_editing_an_approved_plan_returns_it_to_draft(ws, csm, manager, plan):
    services.submit_plan(plan=plan, actor=csm)
    services.approve_plan(plan=plan, actor=manager)
    plan.refresh_from_db()
    services.save_objective(plan=plan, actor=csm, objective=plan.objectives.get(), achievement_level=3)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    last = list(PlanEvent.objects.for_workspace(ws).filter(plan=plan).order_by("-id").values_list(
        "kind", "status_after", "gap_after")[:2])
    assert last == [(EventKind.OBJECTIVE_CHANGED, "draft", 0), (EventKind.REOPENED, "draft", 2)]


def test_viewer_and_other_csm_cannot_edit(ws, viewer, csm2, plan, account):
    for member in (viewer, csm2):
        with pytest.raises(NotAllowed):
            services.save_objective(plan=plan, actor=member, text="x", objective_level=2, achievement_level=1)
        with pytest.raises(NotAllowed):
            services.submit_plan(plan=plan, actor=member)


def test_submit_needs_an_objective(ws, csm, account):
    plan = services.create_plan(workspace=ws, actor=csm, account=account)
    with pytest.raises(DomainError) as exc:
        services.submit_plan(plan=plan, actor=csm)
    assert exc.value.field == "objectives"


def test_one_plan_per_account(ws, csm, plan, account):
    with pytest.raises(DomainError):
        services.create_plan(workspace=ws, actor=csm, account=account)


def test_levels_outside_1_to_4_are_refused(csm, plan):
    with pytest.raises(DomainError) as exc:
        services.save_objective(plan=plan, actor=csm, text="x", objective_level=5, achievement_level=1)
    assert exc.value.field == "objective_level"


def test_only_managers_write_level_definitions(ws, csm, manager):
    with pytest.raises(NotAllowed):
        services.save_level(workspace=ws, actor=csm, level=2, name="Using")
    services.save_level(workspace=ws, actor=manager, level=2, name="Using", description="Weekly use")
    assert LevelDefinition.objects.for_workspace(ws).get(level=2).name == "Using"


# --- API --------------------------------------------------------------------------------------------
def test_api_workflow_and_permissions(ws, csm, manager, viewer, account, api_for):
    api = api_for(csm)
    response = api.post("/api/v1/success-plans/", {"account": account.pk, "summary": "Goals"}, format="json")
    assert response.status_code == 201, response.content
    plan_id = response.json()["id"]
    response = api.post("/api/v1/success-objectives/", {"plan": plan_id, "text": "Halve report time",
                                                        "objective_level": 3, "achievement_level": 2}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["gap"] == 1
    assert api.post(f"/api/v1/success-plans/{plan_id}/submit/", {}, format="json").status_code == 200
    assert api.post(f"/api/v1/success-plans/{plan_id}/approve/", {}, format="json").status_code == 403
    assert api_for(viewer).post("/api/v1/success-objectives/", {"plan": plan_id, "text": "x"},
                                format="json").status_code == 403
    boss = api_for(manager)
    response = boss.post(f"/api/v1/success-plans/{plan_id}/request-changes/", {"comment": ""}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    response = boss.post(f"/api/v1/success-plans/{plan_id}/approve/", {"comment": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    body = api.get(f"/api/v1/success-plans/{plan_id}/").json()
    assert body["gap"] == 1 and body["successful"] is False
    history = api.get(f"/api/v1/success-plans/{plan_id}/history/").json()
    kinds = [e["kind"] for e in (history["results"] if isinstance(history, dict) else history)]
    assert kinds[0] == "approved" and "submitted" in kinds


def test_api_bad_input_is_400_naming_the_field(ws, csm, account, api_for):
    api = api_for(csm)
    plan_id = api.post("/api/v1/success-plans/", {"account": account.pk}, format="json").json()["id"]
    response = api.post("/api/v1/success-objectives/", {"plan": plan_id, "text": "x", "objective_level": 7},
                        format="json")
    assert response.status_code == 400 and "objective_level" in response.json()
    response = api.post("/api/v1/success-objectives/", {"plan": plan_id, "text": ""}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    response = api.post("/api/v1/success-plans/", {"account": account.pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == plan_id  # one plan per account
    response = api.post(f"/api/v1/success-plans/{plan_id}/submit/", {}, format="json")
    assert response.status_code == 400 and "objectives" in response.json()
    response = api.post("/api/v1/kpt-notes/", {"period_kind": "year", "period_start": "2026-11-03", "kind": "keep",
                                               "text": "x"}, format="json")
    assert response.status_code == 400 and "period_kind" in response.json()


def test_api_tenancy(ws, csm, account, other_ws, outsider, other_account, api_for):
    plan = services.create_plan(workspace=ws, actor=csm, account=account)
    services.save_objective(plan=plan, actor=csm, text="Ours", objective_level=3, achievement_level=1)
    theirs = api_for(outsider)
    assert theirs.get(f"/api/v1/success-plans/{plan.pk}/").status_code == 404
    assert theirs.get("/api/v1/success-plans/").json()["count"] == 0
    assert theirs.get("/api/v1/success-objectives/").json()["count"] == 0
    assert theirs.post(f"/api/v1/success-plans/{plan.pk}/approve/", {}, format="json").status_code == 404
    response = theirs.post("/api/v1/success-plans/", {"account": account.pk}, format="json")
    assert response.status_code == 400 and "account" in response.json()
    response = theirs.post("/api/v1/success-objectives/", {"plan": plan.pk, "text": "x"}, format="json")
    assert response.status_code == 400 and "plan" in response.json()
    objective = Objective.objects.for_workspace(ws).get()
    assert theirs.patch(f"/api/v1/success-objectives/{objective.pk}/", {"achievement_level": 4},
                        format="json").status_code == 404
    levels = theirs.get("/api/v1/success-levels/").json()
    assert {row["id"] for row in levels}.isdisjoint(set(LevelDefinition.objects.for_workspace(ws).values_list(
        "pk", flat=True)))
    assert SuccessPlan.objects.for_workspace(other_ws).count() == 0


def test_api_levels_managers_only(ws, csm, manager, api_for):
    level = LevelDefinition.objects.for_workspace(ws).get(level=3)
    assert api_for(csm).patch(f"/api/v1/success-levels/{level.pk}/", {"name": "x"}, format="json").status_code == 403
    response = api_for(manager).patch(f"/api/v1/success-levels/{level.pk}/", {"name": "Results"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Results"


def test_plan_list_puts_submitted_first(ws, csm, manager, api_for):
    from tests.factories import AccountFactory

    first = AccountFactory(workspace=ws, owner=csm, name="A first")
    second = AccountFactory(workspace=ws, owner=csm, name="B second")
    services.create_plan(workspace=ws, actor=csm, account=first)
    waiting = services.create_plan(workspace=ws, actor=csm, account=second)
    services.save_objective(plan=waiting, actor=csm, text="x", objective_level=2, achievement_level=1,
                            target_date=dt.date(2027, 1, 1))
    services.submit_plan(plan=waiting, actor=csm)
    rows = api_for(manager).get("/api/v1/success-plans/").json()["results"]
    assert [r["account"]["name"] for r in rows] == ["B second", "A first"]
    rows = api_for(manager).get("/api/v1/success-plans/?status=draft").json()["results"]
    assert [r["account"]["name"] for r in rows] == ["A first"]
