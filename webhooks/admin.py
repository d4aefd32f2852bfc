"""Webhooks in the Django admin: shown for support, changed in the app (where the policy and the
SSRF checks apply). The signing secret is never shown here."""

from django.contrib import admin

from workspaces.admin import ReadOnlyScopedAdmin, RelatedOnly

from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyScopedAdmin):
    list_display = ["url", "enabled", "consecutive_failures", "disabled_reason", "created_at"]
    list_filter = ["enabled", ("workspace", RelatedOnly)]
    search_fields = ["url", "description"]
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event", ("workspace", RelatedOnly)]
    list_select_related = ["endpoint"]
    search_fields = ["event_id"]
    show_full_result_count = False
