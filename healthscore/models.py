"""Health scores: versioned scorecards, CSM sentiment, daily snapshots, alerts.

A scorecard's rules live in an immutable `ScorecardVersion.definition` (see `definition.py` for
its shape); editing a scorecard writes a new version, and every snapshot names the version that
produced it, so history stays explainable after the rules change.
"""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, HealthBand
from workspaces.models import Membership, Workspace, WorkspaceOwned


class HealthSettings(WorkspaceOwned):
    """The workspace's health settings (one row per workspace, created on first use)."""

    key_features = models.JSONField(
        _("key features"), default=list, blank=True,
        help_text=_("Event names whose adoption counts, e.g. [\"report_exported\", \"workflow_created\"]."),
    )
    sentiment_stale_days = models.PositiveSmallIntegerField(
        _("sentiment goes stale after (days)"), default=45, validators=[MinValueValidator(1)]
    )
    alert_drop_points = models.PositiveSmallIntegerField(
        _("alert on a drop of (points within 30 days)"), default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    alert_weekly_budget = models.PositiveSmallIntegerField(
        _("alerts pushed per CSM and week"), default=5, validators=[MaxValueValidator(100)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="health_settings_one_per_workspace")]

    def __str__(self):
        return f"health settings · {self.workspace_id}"


class Scorecard(WorkspaceOwned):
    """Which rules apply to which accounts. The rules themselves are in its versions."""

    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(_("default scorecard"), default=False)
    # Lower numbers win when an account matches several scorecards; the default applies last.
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    tiers = models.JSONField(_("touch tiers"), default=list, blank=True)
    segments = models.JSONField(
        _("segments"), default=list, blank=True, help_text=_("IDs of segments this scorecard applies to.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="scorecard_one_default_per_workspace",
                violation_error_message=_("The workspace already has a default scorecard."),
            ),
            models.UniqueConstraint(
                fields=["workspace", "name"], name="scorecard_unique_name_per_workspace",
                violation_error_message=_("A scorecard with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class ScorecardVersion(WorkspaceOwned):
    """An immutable set of groups, measures, weights, rules and bands."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scorecard_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="scorecard_version_unique_number")
        ]

    def __str__(self):
        return f"{self.scorecard} v{self.number}"


class SentimentReason(models.TextChoices):
    VALUE_SEEN = "value_seen", _("Sees clear value")
    EXEC_ENGAGED = "exec_engaged", _("Executive sponsor engaged")
    EXPANDING = "expanding", _("Expanding use")
    ADOPTION_STALLED = "adoption_stalled", _("Adoption stalled")
    CHAMPION_RISK = "champion_risk", _("Champion left or at risk")
    UNRESPONSIVE = "unresponsive", _("Unresponsive")
    SUPPORT_ISSUES = "support_issues", _("Support or quality issues")
    BUDGET_PRESSURE = "budget_pressure", _("Budget pressure")
    COMPETITOR = "competitor", _("Evaluating a competitor")
    ORG_CHANGE = "org_change", _("Reorganisation")


class SentimentRating(WorkspaceOwned):
    """A CSM's qualitative rating against the shared rubric; kept apart from the computed score."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sentiment_ratings")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    rated_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        ordering = ["-rated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="sentiment_rating_1_to_5",
                violation_error_message=_("A rating is between 1 and 5."),
            )
        ]
        indexes = [models.Index(fields=["workspace", "rated_at"]), models.Index(fields=["account", "rated_at"])]

    def __str__(self):
        return f"{self.account} · {self.rating}/5"


class HealthSnapshot(WorkspaceOwned):
    """One account's score on one day, with every measure's raw value and points."""

    # 100k rows a night: no single-column indexes on the foreign keys, whose lookups the unique
    # (account, day) and the (workspace, day) indexes already serve.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_snapshots", db_index=False)
    day = models.DateField()
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="snapshots")
    total = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=10, choices=HealthBand.choices)
    available_weight = models.FloatField(default=0)
    # {group_key: {"score": float|None, "weight": configured, "weight_used": share of total}}
    groups = models.JSONField(default=dict)
    # {measure_key: {"group", "kind", "value": float|None, "points": float|None, "weight_used": share}}
    measures = models.JSONField(default=dict)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="health_snapshot_unique_account_day")]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.account_id} {self.day}: {self.total}"


def week_of(day):
    """The Monday of `day`'s week: alerts are budgeted per CSM and week."""
    return day - dt.timedelta(days=day.weekday())


class AlertKind(models.TextChoices):
    ENTERED_RED = "entered_red", _("Entered red")
    DROP = "drop", _("Score dropped")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class AlertOutcome(models.TextChoices):
    NONE = "", _("No outcome yet")
    ACTED_ON = "acted_on", _("Acted on")
    DISMISSED = "dismissed", _("Dismissed")
    CHURNED = "churned", _("Account churned")


class HealthAlert(WorkspaceOwned):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_alerts")
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    # The group that pulled the score down; part of the identity of an open alert.
    reason = models.CharField(_("reason"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    opened_on = models.DateField(_("opened on"))
    last_seen_on = models.DateField(_("last seen on"))
    score = models.FloatField(_("score"), null=True, blank=True)
    previous_score = models.FloatField(_("previous score"), null=True, blank=True)
    drop = models.FloatField(_("drop"), default=0)
    arr_at_risk = models.DecimalField(_("ARR at risk"), max_digits=16, decimal_places=2, default=0)
    priority = models.FloatField(default=0)
    # Pushed alerts are within the CSM's weekly budget; the others are listed in the digest only.
    pushed = models.BooleanField(_("pushed"), default=False)
    week = models.DateField(_("week"), help_text=_("Monday of the week the alert was opened."))
    outcome = models.CharField(_("outcome"), max_length=20, choices=AlertOutcome.choices, blank=True, default="")
    outcome_reason = models.CharField(_("outcome reason"), max_length=300, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    preceded_churn = models.BooleanField(_("account churned within 90 days"), default=False)

    class Meta:
        ordering = ["-opened_on", "-priority", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "reason"], condition=Q(status="open"),
                name="health_alert_one_open_per_account_kind_reason",
                violation_error_message=_("An open alert of this kind already exists for this account."),
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "owner", "week"]),
            models.Index(fields=["workspace", "status", "opened_on"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.account}"
