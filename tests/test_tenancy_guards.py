"""Structural guards: scoping must be impossible to forget, not just tested where remembered.

Every domain model carries a workspace, every API viewset is scoped by the one base mixin, and
every admin page by the one base admin. A new model, viewset or admin that skips them fails here.
"""

from django.apps import apps
from django.contrib import admin

from cs_platform.api_urls import router
from workspaces.api.viewsets import WorkspaceScopedMixin
from workspaces.models import WorkspaceOwned

PROJECT_APPS = {"workspaces", "accounts", "usage", "segments", "coverage", "healthscore", "imports"}

# Models that are not WorkspaceOwned, and why that is safe.
NOT_WORKSPACE_OWNED = {
    "workspaces.workspace",  # the tenant itself
    "workspaces.apitoken",  # belongs to a membership, which belongs to a workspace
    "usage.ingestsettings",  # one row per workspace, keyed by it (OneToOne)
}

# API viewsets that are deliberately not workspace-scoped querysets (and why).
UNSCOPED_VIEWSETS = {
    # These have no model queryset: each passes `request.workspace` (set by IsWorkspaceMember)
    # to a service or selector that takes the workspace as a required argument.
    "MeViewSet",  # answers only with the caller's own membership
    "ExportViewSet",  # imports.exports.* (workspace=...)
    "TouchModelViewSet",  # coverage.services.ensure_touch_model(workspace=...)
    "BacktestViewSet",  # healthscore back-test report(workspace=...)
}


def _project_models():
    for model in apps.get_models():
        if model._meta.app_label in PROJECT_APPS and not model._meta.auto_created:
            yield model


def test_every_domain_model_belongs_to_a_workspace():
    missing = [
        model._meta.label_lower
        for model in _project_models()
        if not issubclass(model, WorkspaceOwned) and model._meta.label_lower not in NOT_WORKSPACE_OWNED
    ]
    assert missing == [], f"models without a workspace: {missing}"


def test_every_api_viewset_is_workspace_scoped():
    unscoped = [
        f"{prefix}: {viewset.__name__}"
        for prefix, viewset, _ in router.registry
        if not issubclass(viewset, WorkspaceScopedMixin) and viewset.__name__ not in UNSCOPED_VIEWSETS
    ]
    assert unscoped == [], f"viewsets not built on WorkspaceScopedMixin: {unscoped}"


def test_every_admin_page_of_a_domain_model_is_scoped():
    from workspaces.admin import WorkspaceScopedAdmin

    unscoped = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS
        and model._meta.label_lower not in NOT_WORKSPACE_OWNED
        and not isinstance(model_admin, WorkspaceScopedAdmin)
    ]
    assert unscoped == [], f"admin pages not built on WorkspaceScopedAdmin: {unscoped}"
