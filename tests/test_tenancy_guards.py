"""Structural guards: scoping must be impossible to forget, not just tested where remembered.

Every domain model carries a workspace, every API viewset is scoped by the one base mixin, and
every admin page by the one base admin. A new model, viewset or admin that skips them fails here.
"""

import pytest
from django.apps import apps
from django.contrib import admin

from cs_platform.api_urls import router
from workspaces.api.viewsets import WorkspaceScopedMixin
from workspaces.models import UnscopedQuery, WorkspaceOwned, WorkspaceQuerySet, WorkspaceScopedManager

PROJECT_APPS = {"workspaces", "accounts", "usage", "segments", "coverage", "healthscore", "imports"}

# Models that are not WorkspaceOwned, and why that is safe.
NOT_WORKSPACE_OWNED = {
    "workspaces.workspace",  # the tenant itself
    "workspaces.apitoken",  # belongs to a membership, which belongs to a workspace
    "workspaces.userpreference",  # a person's own settings, the same in each of their workspaces
}

# API viewsets that are deliberately not workspace-scoped querysets (and why).
UNSCOPED_VIEWSETS = {
    # These have no model queryset: each passes `request.workspace` (set by WorkspaceAPIMixin)
    # to a service or selector that takes the workspace as a required argument.
    "MeViewSet",  # answers only with the caller's own membership
    "ExportViewSet",  # imports.exports.* (workspace=...)
    "TouchModelViewSet",  # coverage.services.ensure_touch_model(workspace=...)
    "BacktestViewSet",  # healthscore back-test report(workspace=...)
    # revenue.selectors window_report / movements / churn_by_reason(workspace, ...)
    "MetricsViewSet", "MovementsViewSet", "ChurnReasonsViewSet",
    # lifecycle.selectors stage_distribution / stuck_accounts / level_definitions / level_churn(workspace=...)
    "StageDistributionViewSet", "StuckViewSet", "UsageLevelViewSet", "LevelReportViewSet",
    # onboarding.selectors account_milestones / onboarding_report, services.record_milestones(workspace=...)
    "MilestoneViewSet", "OnboardingReportViewSet",
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


def test_every_domain_model_scopes_through_the_one_queryset():
    """`objects` insists on for_workspace(); `all_workspaces`, Django's default manager, is the
    named way across workspaces (related objects, validation, the admin, nightly jobs)."""
    wrong = []
    for model in _project_models():
        if not issubclass(model, WorkspaceOwned):
            continue
        if model._meta.default_manager.name != "all_workspaces":
            wrong.append(f"{model._meta.label}: default manager is {model._meta.default_manager.name}")
        if not isinstance(model.objects, WorkspaceScopedManager):
            wrong.append(f"{model._meta.label}: objects is not a WorkspaceScopedManager")
        for manager in (model.objects, model.all_workspaces):
            if not issubclass(manager._queryset_class, WorkspaceQuerySet):
                wrong.append(f"{model._meta.label}.{manager.name}: not a WorkspaceQuerySet")
    assert wrong == []


@pytest.mark.django_db
def test_a_query_that_names_no_workspace_refuses_to_run(ws, account, other_account):
    from accounts.models import Account, Touchpoint

    for run in (
        lambda: list(Account.objects.all()),
        lambda: Account.objects.filter(name=account.name).first(),
        lambda: Account.objects.get(pk=account.pk),
        lambda: Account.objects.count(),
        lambda: Account.objects.exists(),
        lambda: Account.objects.active().update(plan="x"),
        lambda: Account.objects.filter(pk=other_account.pk).delete(),
        lambda: Touchpoint.all_workspaces.filter(account__in=Account.objects.all()).count(),
    ):
        with pytest.raises(UnscopedQuery):
            run()
    assert list(Account.objects.for_workspace(ws)) == [account]
    assert Account.objects.for_workspace(ws).filter(pk=other_account.pk).count() == 0
    assert Account.all_workspaces.count() == 2  # a decision, spelled out
    assert Account.objects.none().count() == 0


def test_every_api_viewset_sets_the_workspace_in_its_base():
    """`request.workspace` comes from the base view, never from a permission class as a side effect."""
    from workspaces.api.viewsets import WorkspaceAPIMixin

    assert [viewset.__name__ for _prefix, viewset, _ in router.registry
            if not issubclass(viewset, WorkspaceAPIMixin)] == []


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
