"""The onboarding settings and milestone plan through the API (the page's services, the page's rules)."""

import pytest

from onboarding.models import MilestoneTemplate, OnboardingSettings
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_settings_read_by_everyone_changed_by_managers(api_for, ws, manager, csm):
    listed = api_for(csm).get("/api/v1/onboarding/settings/")
    assert listed.status_code == 200
    row = listed.json()[0]
    assert row["required_fields"] == ["why_bought", "objectives", "decision_maker"] and row["handoff_gates_stage"]
    url = f"/api/v1/onboarding/settings/{row['id']}/"
    assert api_for(csm).patch(url, {"handoff_gates_stage": False}, format="json").status_code == 403
    changed = api_for(manager).patch(url, {"required_fields": ["risks", "why_bought"], "handoff_gates_stage": False},
                                     format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["required_fields"] == ["why_bought", "risks"]  # the form's order
    settings = OnboardingSettings.objects.for_workspace(ws).get()
    assert settings.required_fields == ["why_bought", "risks"] and not settings.handoff_gates_stage
    assert AuditEvent.objects.for_workspace(ws).filter(action="onboarding_settings.updated").exists()
    bad = api_for(manager).patch(url, {"required_fields": ["shoe_size"]}, format="json")
    assert bad.status_code == 400 and "required_fields" in bad.json()


def test_the_milestone_plan_crud_with_the_pages_rules(api_for, ws, manager, csm):
    api = api_for(manager)
    plan = api.get("/api/v1/onboarding/milestone-plan/").json()["results"]
    assert [row["key"] for row in plan] == ["kickoff", "hearing_sheet", "operational_design", "first_success",
                                            "report_card"]
    created = api.post("/api/v1/onboarding/milestone-plan/", {"key": "kickoff", "name": "Kickoff (high touch)",
                                                               "target_day": 3, "tier": "high"}, format="json")
    assert created.status_code == 201, created.json()
    duplicate = api.post("/api/v1/onboarding/milestone-plan/", {"key": "kickoff", "name": "Again", "target_day": 3,
                                                                 "tier": "high"}, format="json")
    assert duplicate.status_code == 400 and "key" in duplicate.json()
    bad_day = api.patch(f"/api/v1/onboarding/milestone-plan/{created.json()['id']}/", {"target_day": 9999},
                        format="json")
    assert bad_day.status_code == 400 and "target_day" in bad_day.json()
    moved = api.patch(f"/api/v1/onboarding/milestone-plan/{created.json()['id']}/", {"target_day": 5}, format="json")
    assert moved.status_code == 200 and moved.json()["target_day"] == 5
    assert api_for(csm).post("/api/v1/onboarding/milestone-plan/", {"key": "x", "name": "X", "target_day": 1},
                             format="json").status_code == 403
    assert api.delete(f"/api/v1/onboarding/milestone-plan/{created.json()['id']}/").status_code == 204
    assert MilestoneTemplate.objects.for_workspace(ws).count() == 5


def test_another_workspace_sees_none_of_it(api_for, ws, outsider):
    ours = MilestoneTemplate.objects.for_workspace(ws).first()
    settings = OnboardingSettings.objects.for_workspace(ws).get()
    api = api_for(outsider)
    assert ours.pk not in [row["id"] for row in api.get("/api/v1/onboarding/milestone-plan/").json()["results"]]
    assert api.get(f"/api/v1/onboarding/milestone-plan/{ours.pk}/").status_code == 404
    assert api.patch(f"/api/v1/onboarding/settings/{settings.pk}/", {"handoff_gates_stage": False},
                     format="json").status_code == 404
