"""The admin page of workspaces themselves: creating a tenant is a composition act (provisioning)."""

from django.contrib import admin

from workspaces.admin import WorkspaceAdmin
from workspaces.models import Workspace

from .provisioning import provision


@admin.register(Workspace)
class ProvisionedWorkspaceAdmin(WorkspaceAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            provision(workspace=obj)
