"""Playbooks and tasks in the Django admin, scoped to the workspaces the staff member administers.

Designs are edited on the playbook pages (a changed definition is a new version, audited there);
here a playbook's name, description and switch only, and versions, runs, holds, actions and tasks
are read-only."""

from django.contrib import admin

from workspaces.admin import ReadOnlyScopedAdmin, RelatedOnly, WorkspaceScopedAdmin

from .models import Playbook, PlaybookHold, PlaybookRun, PlaybookVersion, RunAction, Task


@admin.register(Playbook)
class PlaybookAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "trigger_kind", "enabled", "library_key", "workspace"]
    list_filter = ["enabled", "trigger_kind", ("workspace", RelatedOnly)]
    list_select_related = ["workspace"]
    search_fields = ["name"]
    fields = ["workspace", "name", "description", "enabled", "trigger_kind", "library_key"]
    readonly_fields = ["workspace", "trigger_kind", "library_key"]

    def has_add_permission(self, request):
        return False  # a playbook starts with a definition: the designer page writes both

    def has_delete_permission(self, request, obj=None):
        return False  # the designer page refuses to delete a playbook with runs (their history)


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(ReadOnlyScopedAdmin):
    list_display = ["playbook", "number", "note", "created_at", "workspace"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["playbook", "workspace"]


@admin.register(PlaybookRun)
class PlaybookRunAdmin(ReadOnlyScopedAdmin):
    list_display = ["playbook", "account", "status", "started_on", "ended_on", "workspace"]
    list_filter = ["status", ("workspace", RelatedOnly)]
    list_select_related = ["playbook", "account", "workspace"]
    search_fields = ["account__name", "reason_key"]


@admin.register(PlaybookHold)
class PlaybookHoldAdmin(ReadOnlyScopedAdmin):
    list_display = ["playbook", "account", "held_because", "first_on", "last_on", "workspace"]
    list_filter = ["held_because", ("workspace", RelatedOnly)]
    list_select_related = ["playbook", "account", "workspace"]


@admin.register(RunAction)
class RunActionAdmin(ReadOnlyScopedAdmin):
    list_display = ["run", "step_index", "done_on", "workspace"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["run", "workspace"]


@admin.register(Task)
class TaskAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "account", "assignee", "due_on", "status", "source", "workspace"]
    list_filter = ["status", "source", "type", ("workspace", RelatedOnly)]
    list_select_related = ["account", "assignee__user", "workspace"]
    search_fields = ["title", "account__name"]
