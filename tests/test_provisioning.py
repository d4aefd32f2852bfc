"""Reads are pure: a workspace's defaults exist from its creation, and reading never writes."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coverage.models import CadencePolicy, TouchModel
from cs_platform.provisioning import create_workspace, provision
from healthscore.models import HealthSettings, Scorecard
from usage.models import IngestSettings

pytestmark = pytest.mark.django_db

DEFAULT_ROWS = {TouchModel: 1, CadencePolicy: 3, HealthSettings: 1, Scorecard: 1, IngestSettings: 1}


def default_counts(workspace):
    counts = {model: model.objects.for_workspace(workspace).count() for model in DEFAULT_ROWS}
    counts["stages"] = workspace_stage_count(workspace)
    return counts


def workspace_stage_count(workspace):
    from accounts.models import LifecycleStage

    return LifecycleStage.objects.for_workspace(workspace).count()


def test_a_new_workspace_has_every_default_and_provisioning_again_adds_nothing():
    workspace = create_workspace(name="New team", slug="new-team")
    assert default_counts(workspace) == {**DEFAULT_ROWS, "stages": 5}
    assert Scorecard.objects.for_workspace(workspace).get().versions.count() == 1
    provision(workspace=workspace)
    assert default_counts(workspace) == {**DEFAULT_ROWS, "stages": 5}


def test_the_data_migrations_give_older_workspaces_their_defaults(ws):
    for model in DEFAULT_ROWS:
        model.objects.for_workspace(ws).delete()
    for module in ("coverage.migrations.0004_defaults_for_existing_workspaces",
                   "healthscore.migrations.0004_defaults_for_existing_workspaces",
                   "usage.migrations.0009_defaults_for_existing_workspaces"):
        importlib.import_module(module).create_missing_defaults(apps, None)
    assert default_counts(ws) == {**DEFAULT_ROWS, "stages": 5}


def test_the_admin_provisions_a_workspace_it_creates(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pass-word-123")
    client.force_login(root)
    response = client.post("/admin/workspaces/workspace/add/", {
        "name": "Made in the admin", "slug": "made-in-admin", "time_zone": "Asia/Tokyo", "currency": "JPY",
        "nightly_hour": 2, "language": "ja",
    })
    assert response.status_code == 302
    from workspaces.models import Workspace

    workspace = Workspace.objects.get(slug="made-in-admin")
    assert default_counts(workspace)[TouchModel] == 1
    assert workspace.language == "ja"  # the defaults are written in it (tests/test_language.py)


WRITES = ("INSERT", "UPDATE", "DELETE")
PAGES = ["/", "/accounts/", "/accounts/stages/", "/coverage/", "/coverage/accounts/", "/coverage/due/",
         "/coverage/matrix/", "/coverage/touch-model/", "/segments/", "/health/", "/health/alerts/",
         "/health/backtest/", "/imports/", "/usage/settings/", "/workspace/members/", "/workspace/tokens/"]
API = ["/api/v1/touch-model/current/", "/api/v1/cadence-policies/", "/api/v1/health/settings/",
       "/api/v1/health/scorecards/", "/api/v1/coverage/report/", "/api/v1/accounts/"]


def test_reading_pages_and_the_api_writes_nothing(login, api_for, admin, account):
    client = login(admin)
    api = api_for(admin)
    for url in PAGES:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)
                  and "django_session" not in q["sql"]]
        assert writes == [], (url, writes)
    for url in API:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200, url
        # The one write a token makes: when it was last used (at most once a minute, by design).
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)
                  and '"last_used_at"' not in q["sql"]]
        assert writes == [], (url, writes)
