"""Outbound webhooks: the HTTPS endpoints a workspace's admins registered, and the delivery log.

The secret of an endpoint is stored as it is (not hashed): the platform signs every body with it
(HMAC), so it needs the secret itself. It is shown once, when made (registration, rotation).
"""

import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.models import Membership, WorkspaceOwned


def new_secret():
    return "whsec_" + secrets.token_hex(32)


class Endpoint(WorkspaceOwned):
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)  # keys of webhooks.events.EVENTS
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]
        indexes = [models.Index(fields=["workspace", "enabled"])]

    def __str__(self):
        return self.url

    @property
    def secret_hint(self):
        """Enough of the secret to tell which one a receiver holds, never enough to sign."""
        return self.secret[:10]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")


class Delivery(WorkspaceOwned):
    """One event sent (or to be sent) to one endpoint; `event_id` is the same on every attempt."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=60)
    payload = models.JSONField(_("payload"), default=dict)
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "endpoint", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["workspace", "created_at"]),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id}"
