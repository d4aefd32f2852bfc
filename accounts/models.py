"""Customer accounts (companies), their contacts, contracts, lifecycle stages and touchpoints."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.models import Membership, WorkspaceOwned, WorkspaceQuerySet, WorkspaceScopedManager

MONEY = {"max_digits": 16, "decimal_places": 2}


class LifecycleStage(WorkspaceOwned):
    """One step of the workspace's ordered lifecycle (default five; renamed freely)."""

    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    target_share = models.DecimalField(
        _("target share of accounts (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # An account is stuck in the stage from this many days in it on (empty: never stuck).
    stuck_after_days = models.PositiveSmallIntegerField(
        _("stuck after (days)"), null=True, blank=True,
        help_text=_("An account in this stage for this many days or more is stuck (empty: never)."),
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                name="stage_unique_name_per_workspace",
                violation_error_message=_("A lifecycle stage with this name already exists."),
            )
        ]

    def __str__(self):
        return self.name


class Tag(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name_per_workspace")
        ]

    def __str__(self):
        return self.name


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CHURNED = "churned", _("Churned")


class ChurnReasonCategory(WorkspaceOwned):
    """One of the workspace's churn reasons: an account that churns names one by its `code`.

    Every workspace starts with ten (services.default_churn_reasons, in its language); managers
    rename, reorder, add and archive them. An archived reason is not offered for new churns but
    keeps naming the accounts that churned with it. Accounts store the code (a slug), so renaming
    changes no account and reports group by it.
    """

    code = models.SlugField(
        _("code"), max_length=30,
        help_text=_("What accounts, imports and the API store and send, e.g. budget. It cannot change."),
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    counts_as_onboarding_failure = models.BooleanField(
        _("counts as onboarding failure"), default=False,
        help_text=_("Churn with this reason counts in the share of churn caused by failed onboarding."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    archived = models.BooleanField(
        _("archived"), default=False,
        help_text=_("Not offered for new churns; accounts that churned with it keep it."),
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "code"],
                name="churn_reason_unique_code_per_workspace",
                violation_error_message=_("A churn reason with this code already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class HealthBand(models.TextChoices):
    """The health score's band, copied onto the account nightly (healthscore computes it)."""

    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")
    NA = "na", _("Not enough data")


class TouchTier(models.TextChoices):
    HIGH = "high", _("High touch")
    LOW = "low", _("Low touch")
    TECH = "tech", _("Tech touch")


class AccountQuerySet(WorkspaceQuerySet):
    def active(self):
        return self.filter(status=AccountStatus.ACTIVE)


class Account(WorkspaceOwned):
    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The CRM's ID, used to upsert.")
    )
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    owner = models.ForeignKey(
        Membership, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    arr = models.DecimalField(_("ARR"), default=0, validators=[MinValueValidator(0)], **MONEY)
    plan = models.CharField(_("plan"), max_length=80, blank=True)
    licensed_seats = models.PositiveIntegerField(_("licensed seats"), null=True, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    stage = models.ForeignKey(
        LifecycleStage, verbose_name=_("lifecycle stage"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="accounts",
    )
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    churned_on = models.DateField(_("churn date"), null=True, blank=True)
    # The code of one of the workspace's ChurnReasonCategory rows (required when churned: the writers check).
    churn_reason = models.CharField(_("churn reason"), max_length=30, blank=True)
    churn_note = models.TextField(_("churn note"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    attributes = models.JSONField(
        _("custom attributes"), default=dict, blank=True,
        help_text=_("Numeric or text attributes pushed by integrations, e.g. {\"nps\": 42}."),
    )

    # Current values copied here by the nightly jobs so that lists filter and sort on one table.
    touch_tier = models.CharField(_("touch tier"), max_length=10, choices=TouchTier.choices, blank=True)
    health_score = models.FloatField(_("health score"), null=True, blank=True)
    health_band = models.CharField(_("health band"), max_length=20, blank=True, choices=HealthBand.choices)
    health_change_30d = models.FloatField(_("health change (30 days)"), null=True, blank=True)
    # Distinct product users with events in the 30 days up to the last usage step's day.
    active_users_30d = models.PositiveIntegerField(_("active users (30 days)"), default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    all_workspaces = AccountQuerySet.as_manager()
    objects = WorkspaceScopedManager.from_queryset(AccountQuerySet)()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="account_unique_external_id_per_workspace",
                violation_error_message=_("Another account of this workspace already has this external ID."),
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(churned_on__isnull=False),
                name="account_churned_has_date",
                violation_error_message=_("A churned account needs a churn date."),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "name"]),
            models.Index(fields=["workspace", "owner", "status"]),
            models.Index(fields=["workspace", "touch_tier", "owner", "health_score", "id"]),
            models.Index(fields=["workspace", "renewal_date"]),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self):
        return self.status == AccountStatus.ACTIVE

    def save(self, *args, **kwargs):
        """A save outside the writers (the admin, a shell, a fixture) keeps the change log too: the
        writers write in bulk and record their own (accounts.history)."""
        from . import history

        created = self._state.adding or self.pk is None
        before = None
        if not created:
            before = Account.all_workspaces.filter(pk=self.pk).values(
                *(f"{name}_id" if name == "owner" else name for name in TRACKED_FIELDS), "attributes").first()
        super().save(*args, **kwargs)
        history.record_save(self, before)


class StageChange(WorkspaceOwned):
    """Every lifecycle move, with its time, so that time-in-stage can be computed."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(LifecycleStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["account", "changed_at"])]

    def __str__(self):
        return f"{self.account}: {self.from_stage} → {self.to_stage}"


class ContactRole(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    ADMIN = "admin", _("Admin")
    END_USER = "end_user", _("End user")


class Contact(WorkspaceOwned):
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.END_USER)
    is_key_person = models.BooleanField(_("key person"), default=False)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_key_person", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="contact_unique_external_id_per_workspace",
                violation_error_message=_("Another contact of this workspace already has this external ID."),
            )
        ]
        indexes = [models.Index(fields=["workspace", "email"]), models.Index(fields=["account", "role"])]

    def __str__(self):
        return self.name

    @property
    def has_left(self):
        return self.left_on is not None


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VIDEO_MEETING = "video_meeting", _("Video meeting")
    ONSITE_MEETING = "onsite_meeting", _("On-site meeting")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    WEBINAR = "webinar", _("Webinar")
    SEMINAR = "seminar", _("Seminar")
    NEWSLETTER = "newsletter", _("Newsletter")
    IN_APP = "in_app", _("In-app message")
    USER_EVENT = "user_event", _("User event")


# One-to-many channels: they count as touches for tech-touch accounts only (by default).
ONE_TO_MANY_CHANNELS = [Channel.WEBINAR, Channel.SEMINAR, Channel.NEWSLETTER, Channel.IN_APP, Channel.USER_EVENT]
MEETING_CHANNELS = [Channel.VIDEO_MEETING, Channel.ONSITE_MEETING]


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Touchpoint(WorkspaceOwned):
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="touchpoints")
    contacts = models.ManyToManyField(Contact, verbose_name=_("contacts"), blank=True, related_name="touchpoints")
    author = models.ForeignKey(
        Membership, verbose_name=_("author"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("summary"), blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="touchpoint_unique_external_id_per_workspace",
                violation_error_message=_("Another touchpoint of this workspace already has this external ID."),
            )
        ]
        indexes = [
            models.Index(fields=["account", "occurred_at"]),
            models.Index(fields=["workspace", "occurred_at"]),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.account}"


class Contract(WorkspaceOwned):
    """A contract line (subscription): product, recurring amount, quantity and term.

    The line is active on a day when start_date <= day < end_date: the end is *exclusive* (the first
    day it no longer runs), and an open end (null) runs until changed. Revenue sums the MRR of the
    lines active on a day (docs/revenue.md). Imported from CRMs and sheets.
    """

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contracts")
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    product = models.CharField(_("product"), max_length=120)
    mrr = models.DecimalField(_("MRR"), validators=[MinValueValidator(0)], **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True, help_text=_("What the quantity counts, e.g. seats."))
    start_date = models.DateField(_("start"))
    end_date = models.DateField(
        _("end"), null=True, blank=True,
        help_text=_("The first day the line no longer runs (exclusive). Empty: open-ended."),
    )
    renewal_date = models.DateField(
        _("renewal date"), null=True, blank=True,
        help_text=_("When the line comes up for renewal. Empty: its end date."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="contract_unique_external_id_per_workspace",
                violation_error_message=_("Another contract of this workspace already has this external ID."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
                violation_error_message=_("A contract cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.product} · {self.account}"

    @property
    def renews_on(self):
        """The day this line comes up for renewal: its renewal date, else its end date."""
        return self.renewal_date or self.end_date

    def is_active_on(self, day):
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    @property
    def arr(self):
        return self.mrr * 12

    def save(self, *args, **kwargs):
        """A save outside the writers (the admin, a shell, a fixture) keeps the line's versions too:
        the writers write in bulk and record their own (accounts.line_history)."""
        from . import line_history

        created = self._state.adding or self.pk is None
        super().save(*args, **kwargs)
        line_history.record_saved(self, created=created)

    def delete(self, *args, **kwargs):
        """Its versions stay: the line still ran on the days it was known (accounts.line_history)."""
        from . import line_history

        line_history.record_deleted(self.workspace, [self.pk])
        return super().delete(*args, **kwargs)


# The account fields whose past values scoring, segments and coverage may read (AccountChange.field);
# a custom attribute's key is recorded as "attr:<key>".
TRACKED_FIELDS = ("arr", "licensed_seats", "contract_start", "renewal_date", "owner", "status", "churned_on", "plan")
ATTRIBUTE_PREFIX = "attr:"


class AccountChange(WorkspaceOwned):
    """The value a tracked field of an account took, known from `valid_from` (a day where the team works).

    Written by the one write path (accounts.writes.AccountWriter, the tracking API's account calls)
    for every tracked field that changes, and for all of them when an account is created; the data
    migration that introduced it recorded the values accounts had then, known from that day only.
    The value of a field on a day is the latest row on or before it; before the account's first row
    nothing is known (accounts.selectors.attributes_as_of). `owner` is the member column (an id in a
    JSON value would not survive a workspace's archive); every other field is in `value`, as JSON.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=120)
    value = models.JSONField(null=True, blank=True)
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    valid_from = models.DateField()
    changed_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["account_id", "field", "valid_from", "id"]
        indexes = [
            models.Index(fields=["workspace", "valid_from"]),
            models.Index(fields=["account", "field", "valid_from"]),
        ]

    def __str__(self):
        return f"{self.account_id}.{self.field} from {self.valid_from}"


# The values of a contract line its versions keep (ContractVersion): what revenue, seats and renewals read.
LINE_FIELDS = ("account", "product", "mrr", "quantity", "unit", "start_date", "end_date", "renewal_date")


class ContractVersion(WorkspaceOwned):
    """What a contract line said, known from `valid_from` until `valid_to` (exclusive; empty: still).

    Written by the one write path of lines (accounts.writes.ContractWriter, `delete_contract`,
    Contract.save/delete outside it): a new line opens a version from the workspace's day of the
    write; an edit closes the open one on that day and opens another with the new values; a deletion
    closes it (the row stays, `line` becomes empty: the line still ran on the days it was known). Two
    edits on one day leave an empty version [day, day) that no day reads. The data migration that
    introduced versions recorded the lines as they were then, known from that day only. On a day D
    the lines known are the versions with valid_from <= D < valid_to (accounts.selectors.lines_known_on).
    """

    line = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contract_versions")
    product = models.CharField(max_length=120)
    mrr = models.DecimalField(**MONEY)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["line_id", "valid_from", "id"]
        indexes = [
            models.Index(fields=["workspace", "valid_from"]),
            models.Index(fields=["line", "valid_to"]),
            models.Index(fields=["account", "valid_from"]),
        ]

    def __str__(self):
        return f"line {self.line_id} from {self.valid_from}"
