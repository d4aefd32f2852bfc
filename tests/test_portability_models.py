"""Every model of the platform is either in the workspace archive or excluded from it with a
reason: a model added later fails here until whoever added it decides (cs_platform/portability/parts.py)."""

from django.apps import apps
from django.conf import settings

from cs_platform.portability.parts import NOT_EXPORTED, PARTS, exported_models
from workspaces.models import Workspace, WorkspaceOwned

# The apps of this project (the others are Django's and libraries').
OURS = {"workspaces", "accounts", "usage", "imports", "segments", "coverage", "healthscore", "playbooks", "webhooks", "cs_platform",
        "ui", "renewals", "expansion", "voice", "programmes", "lifecycle", "success", "onboarding"}


def our_models():
    """Every model of our apps, the implicit many-to-many tables included."""
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in OURS]


def test_every_model_travels_or_is_excluded_with_a_reason():
    exported = exported_models() | {Workspace}  # the workspace's own row is the manifest's "workspace"
    unclassified = [m._meta.label for m in our_models() if m not in exported and m._meta.label not in NOT_EXPORTED]
    assert unclassified == [], (
        "Add these models to their app's portability.PART (see docs/portability.md), or to NOT_EXPORTED "
        f"in cs_platform/portability/parts.py with the reason a restore does not need them: {unclassified}")
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in NOT_EXPORTED.values())
    assert not set(NOT_EXPORTED) & {m._meta.label for m in exported}


def test_every_workspace_owned_model_is_one_of_ours():
    # The test above only sees our apps: a WorkspaceOwned model elsewhere would escape it.
    owned = [m for m in apps.get_models() if issubclass(m, WorkspaceOwned)]
    assert owned and all(m._meta.app_label in OURS for m in owned)
    assert get_user_model_label() in {m._meta.label for m in exported_models()}


def test_tables_come_after_the_tables_they_refer_to():
    seen = set()
    for part in PARTS:
        for table in part.tables:
            for field in table.fields:
                if field.is_relation:
                    assert field.related_model in seen, f"{table.name}.{field.name} refers to a later table"
            seen.add(table.model)


def get_user_model_label():
    return apps.get_model(settings.AUTH_USER_MODEL)._meta.label
