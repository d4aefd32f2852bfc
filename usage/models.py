"""The platform's usage record: product users, raw usage events and daily per-account rollups.

Health scores and usage levels read these tables; ingestion (Segment/RudderStack-compatible
tracking API) writes them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from workspaces.models import WorkspaceOwned


class ProductUser(WorkspaceOwned):
    """A person as the product knows them (the SDK's userId), linked to an account and contact."""

    user_id = models.CharField(_("user ID"), max_length=200)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="product_users")
    # The last groupId seen for this user, kept even before that account exists here.
    group_id = models.CharField(_("last group ID"), max_length=200, blank=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="product_users")
    email = models.EmailField(_("email"), blank=True)
    traits = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user_id"], name="product_user_unique_per_workspace")
        ]

    def __str__(self):
        return self.user_id


class EventType(models.TextChoices):
    TRACK = "track", "track"
    PAGE = "page", "page"
    SCREEN = "screen", "screen"


class UsageEvent(WorkspaceOwned):
    """One track/page/screen call. `account` is empty until the event's group is known here."""

    message_id = models.CharField(max_length=200)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="usage_events")
    group_id = models.CharField(max_length=200, blank=True)
    user_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=10, choices=EventType.choices, default=EventType.TRACK)
    event = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # Exactly-once effect: a retried or re-sent batch carries the same messageId.
            models.UniqueConstraint(fields=["workspace", "message_id"], name="usage_event_unique_message_id")
        ]
        indexes = [
            models.Index(fields=["account", "occurred_at"]),
            models.Index(fields=["workspace", "occurred_at"]),
            models.Index(fields=["workspace", "group_id"], condition=models.Q(account__isnull=True),
                         name="usage_event_unmatched_idx"),
        ]

    def __str__(self):
        return f"{self.event} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class DailyAccountUsage(WorkspaceOwned):
    """Per account and day (in the workspace's time zone): events, active users, events per name."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_usage")
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)
    active_users = models.PositiveIntegerField(default=0)
    event_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="daily_usage_unique_account_day")]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.account_id} {self.day}"
