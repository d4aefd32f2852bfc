"""The platform's usage record: product users, raw usage events and daily per-account rollups.

Health scores and usage levels read these tables; ingestion (Segment/RudderStack-compatible
tracking API) writes them.
"""

import hashlib
import secrets

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from workspaces.models import Workspace, WorkspaceOwned, WorkspaceQuerySet, WorkspaceScopedManager


class BrinOnPostgres(models.Index):
    """A BRIN index on PostgreSQL (a plain index elsewhere, e.g. SQLite in development).

    Events are appended roughly in time order, so a block-range index answers "events between
    these two instants" almost as well as a btree, at a fraction of its size and of its cost on
    every insert (measured at 10M events: 1.6 s to build vs 15 s for the btree).
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)


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

    # The biggest table by far, and every index costs each ingested event: no single-column
    # indexes on the foreign keys, since the composite indexes below start with them.
    # No foreign-key constraints in the database either (db_constraint=False): checking them cost a
    # bulk load a lookup per row and key (30 s of a 6-million-event history import). What they
    # guaranteed is kept by the code: every writer takes the account from the workspace's own
    # accounts and holds it (usage.services.batches.hold_accounts, FOR KEY SHARE, as the constraint
    # did) until it commits; deleting an account or a workspace locks its row first and deletes its
    # events through Django's cascade (on_delete below), so no event outlives its account.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False,
                                  db_constraint=False)
    message_id = models.CharField(max_length=200)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="usage_events",
                                db_index=False, db_constraint=False)
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
            # Time windows (rollups, retention, the nightly 30 days) of every workspace.
            BrinOnPostgres(fields=["occurred_at"], name="usage_event_time_brin"),
            # alias rewrites a user's events; without this it would scan the workspace's events.
            models.Index(fields=["workspace", "user_id"], name="usage_event_user_idx"),
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
    # The day's distinct product users (their non-empty ids, sorted). A window's distinct users are
    # then read from its days' rows (30 small rows an account) instead of the window's raw events,
    # and stay exact after retention removed those (usage.selectors.window_users). Null: rolled up
    # before these were kept, or written by hand; the raw events answer then.
    user_ids = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="daily_usage_unique_account_day")]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.account_id} {self.day}"


class WriteKeyQuerySet(WorkspaceQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class WriteKey(WorkspaceOwned):
    """A workspace's key for the tracking API (the SDKs' `write_key`).

    Only a SHA-256 of the key is stored, like personal API tokens: a leaked database or backup
    then holds nothing that can send events. Keys are 256-bit random, so an unsalted hash is not
    guessable and lets the tracking API find the key with one indexed lookup. The price is that a
    key is shown once, at creation; SDK snippets show a placeholder afterwards, and a team that
    lost its key rotates it (several keys can be active at once, so rotation needs no downtime).
    """

    PREFIX = "wk_"

    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=12, help_text=_("The first characters, to recognise the key."))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "workspaces.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    all_workspaces = WriteKeyQuerySet.as_manager()
    objects = WorkspaceScopedManager.from_queryset(WriteKeyQuerySet)()

    class Meta:
        ordering = ["revoked_at", "-created_at"]

    def __str__(self):
        return f"{self.name} ({self.key_hint}…)"

    @staticmethod
    def hash_key(key):
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def generate_key(cls):
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self):
        return self.revoked_at is None


# Which account field each group trait updates, unless the workspace chose otherwise.
DEFAULT_TRAIT_MAPPING = {"name": "name", "plan": "plan", "seats": "licensed_seats", "arr": "arr"}
# Account fields a group trait may write. Everything else about an account stays the CRM's.
MAPPABLE_ACCOUNT_FIELDS = ["name", "domain", "plan", "licensed_seats", "arr", "contract_start", "renewal_date"]


def default_trait_mapping():
    return dict(DEFAULT_TRAIT_MAPPING)


class IngestSettings(WorkspaceOwned):
    """Per-workspace choices for the tracking API (one row, created with the workspace)."""

    create_unknown_accounts = models.BooleanField(
        _("group calls create unknown accounts"), default=True,
        help_text=_("Off: a group call for an unknown groupId only remembers it; the CRM creates accounts."),
    )
    trait_mapping = models.JSONField(
        _("group trait mapping"), default=default_trait_mapping, blank=True,
        help_text=_("Group trait → account field, e.g. {\"seats\": \"licensed_seats\"}."),
    )
    numeric_traits_to_attributes = models.BooleanField(
        _("keep other numeric traits as account attributes"), default=True,
    )
    retention_days = models.PositiveIntegerField(
        _("keep raw events for (days)"), default=180, validators=[MinValueValidator(7)],
        help_text=_("Older raw events are deleted nightly; daily rollups are kept."),
    )
    # The day the accounts' 30-day active users were last computed for (see refresh_active_users).
    active_users_on = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("usage ingestion settings")
        constraints = [models.UniqueConstraint(fields=["workspace"], name="ingest_settings_one_per_workspace")]

    def __str__(self):
        return f"ingest settings {self.workspace_id}"


class RejectedMessage(WorkspaceOwned):
    """A message of an accepted batch that could not be used, kept aside with the reason."""

    received_at = models.DateTimeField()
    message_id = models.CharField(max_length=200, blank=True)
    message_type = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["workspace", "received_at"])]

    def __str__(self):
        return f"{self.message_type or '?'} {self.message_id}: {self.reason}"


class ProcessedMessage(WorkspaceOwned):
    """messageIds of identify, group and alias calls already applied (events dedupe on UsageEvent)."""

    message_id = models.CharField(max_length=200)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "message_id"], name="processed_message_unique_id")
        ]
        indexes = [models.Index(fields=["workspace", "received_at"])]

    def __str__(self):
        return self.message_id


class DirtyUsageDay(WorkspaceOwned):
    """A (workspace, day) whose rollup is stale: one row per batch and day, insert-only.

    Insert-only on purpose: an upsert of one row per day would make every concurrent batch of a
    workspace wait for the previous one's commit. The rollup task deletes exactly the rows it
    read, so a batch committed while it ran leaves its row for the next run.
    """

    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.workspace_id} {self.day}"


def history_upload_path(instance, filename):
    return f"usage-history/{instance.workspace_id}/{secrets.token_hex(8)}.csv"


class HistoryImport(WorkspaceOwned):
    """One load of historical events (a checked file, normalised) or one rebuild of a range of days.

    The file is checked when it is uploaded (a bad row refuses it at once, naming the line and the
    field); the job only holds checked rows, loads them and rebuilds the rollups of their days.
    """

    class Kind(models.TextChoices):
        IMPORT = "import", _("import")
        REBUILD = "rebuild", _("rebuild")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        LOADING = "loading", _("loading events")
        REBUILDING = "rebuilding", _("rebuilding rollups")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IMPORT)
    created_by = models.ForeignKey("workspaces.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    file = models.FileField(upload_to=history_upload_path, blank=True)
    identities = models.JSONField(default=list, blank=True)
    rows = models.PositiveIntegerField(default=0)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def is_running(self):
        return self.status in (self.Status.QUEUED, self.Status.LOADING, self.Status.REBUILDING)

    @property
    def progress_percent(self):
        return {self.Status.QUEUED: 0, self.Status.LOADING: 20, self.Status.REBUILDING: 70}.get(self.status, 100)
