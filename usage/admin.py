"""Usage rows are written by ingestion and nightly rollups: the admin shows them, it does not edit."""

from django.contrib import admin

from workspaces.admin import ReadOnlyScopedAdmin, RelatedOnly

from .models import DailyAccountUsage, ProductUser, UsageEvent, WriteKey


@admin.register(ProductUser)
class ProductUserAdmin(ReadOnlyScopedAdmin):
    list_display = ["user_id", "email", "account", "group_id", "last_seen_at"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["account"]
    search_fields = ["user_id", "email", "group_id"]
    show_full_result_count = False


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["occurred_at", "event", "event_type", "user_id", "group_id", "account"]
    list_filter = ["event_type", ("workspace", RelatedOnly)]
    list_select_related = ["account"]
    search_fields = ["message_id", "event", "user_id", "group_id"]
    # Tens of millions of rows: no exact total, no date drill-down (both scan the table).
    show_full_result_count = False


@admin.register(DailyAccountUsage)
class DailyAccountUsageAdmin(ReadOnlyScopedAdmin):
    list_display = ["day", "account", "events", "active_users"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["account"]
    search_fields = ["account__name"]
    show_full_result_count = False


@admin.register(WriteKey)
class WriteKeyAdmin(ReadOnlyScopedAdmin):
    """Ingestion write keys: listed by hint, never by hash; issued and revoked in the app."""

    list_display = ["name", "key_hint", "workspace", "created_at"]
    list_filter = [("workspace", RelatedOnly)]
    list_select_related = ["workspace"]
    exclude = ["key_hash"]
