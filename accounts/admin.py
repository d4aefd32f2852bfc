from django.contrib import admin

from workspaces.admin import ReadOnlyScopedAdmin, RelatedOnly, WorkspaceScopedAdmin

from . import line_history
from .models import Account, Contact, Contract, LifecycleStage, StageChange, Tag, Touchpoint


@admin.register(LifecycleStage)
class LifecycleStageAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "position", "target_share", "workspace"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["workspace"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["workspace"]
    search_fields = ["name"]


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "email", "title", "role", "is_key_person", "left_on"]
    extra = 0
    show_change_link = True


@admin.register(Account)
class AccountAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "external_id", "owner", "arr", "stage", "status", "touch_tier", "health_score",
                    "renewal_date", "workspace"]
    list_filter = ["status", "touch_tier", "health_band", ("workspace", RelatedOnly), ("stage", RelatedOnly),
                   ("owner", RelatedOnly)]
    list_select_related = ["owner__user", "stage", "workspace"]
    search_fields = ["name", "external_id", "domain"]
    readonly_fields = ["stage_entered_at", "touch_tier", "health_score", "health_band", "health_change_30d",
                       "created_at", "updated_at"]
    filter_horizontal = ["tags"]
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyScopedAdmin):
    list_display = ["account", "from_stage", "to_stage", "changed_at", "changed_by"]
    list_select_related = ["account", "from_stage", "to_stage", "changed_by__user"]
    search_fields = ["account__name"]
    date_hierarchy = "changed_at"


@admin.register(Contact)
class ContactAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "email", "account", "role", "is_key_person", "left_on"]
    list_filter = ["role", "is_key_person", ("workspace", RelatedOnly)]
    list_select_related = ["account"]
    search_fields = ["name", "email", "external_id", "account__name"]
    raw_id_fields = []
    show_full_result_count = False


@admin.register(Touchpoint)
class TouchpointAdmin(WorkspaceScopedAdmin):
    list_display = ["occurred_at", "account", "channel", "author", "sentiment"]
    list_filter = ["channel", "sentiment", ("workspace", RelatedOnly)]
    list_select_related = ["account", "author__user"]
    search_fields = ["summary", "account__name", "external_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Contract)
class ContractAdmin(WorkspaceScopedAdmin):
    list_display = ["product", "account", "mrr", "quantity", "start_date", "end_date", "renewal_date"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["account"]
    search_fields = ["product", "external_id", "account__name"]
    show_full_result_count = False

    def delete_queryset(self, request, queryset):
        # Their versions stay, closed today in each line's workspace (as Contract.delete does).
        by_workspace = {}
        for line in queryset.select_related("workspace"):
            by_workspace.setdefault(line.workspace, []).append(line.pk)
        for workspace, line_ids in by_workspace.items():
            line_history.record_deleted(workspace, line_ids)
        super().delete_queryset(request, queryset)
