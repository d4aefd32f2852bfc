"""The touch model (tier thresholds, matrix bands, cadence policies), tier history and daily coverage.

State that changes over time keeps its history, so that the coverage of any past day can be
recomputed from what was true on that day: tiers (`TierChange`) are written forward only by the
nightly tier step, segment membership by the segments app (read through its selectors), and
`CoverageSnapshot` stores one row per account and day that every report reads.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account, Channel, TouchTier
from workspaces.models import Membership, WorkspaceOwned

DEFAULT_HIGH_MIN_ARR = 10_000_000
DEFAULT_LOW_MIN_ARR = 1_000_000

# Users (licensed seats) band x tenure band, from the field reports: IDs A >= 21, B 11-20, C 6-10,
# D 1-5; tenure in months a 0-3, b 4-7, c 8-11, d >= 12. Each band is its lower bound.
DEFAULT_SEAT_BANDS = [{"label": "A", "min": 21}, {"label": "B", "min": 11}, {"label": "C", "min": 6},
                      {"label": "D", "min": 1}]
DEFAULT_TENURE_BANDS = [{"label": "a", "min": 0}, {"label": "b", "min": 4}, {"label": "c", "min": 8},
                        {"label": "d", "min": 12}]


def default_seat_bands():
    return [dict(b) for b in DEFAULT_SEAT_BANDS]


def default_tenure_bands():
    return [dict(b) for b in DEFAULT_TENURE_BANDS]


class MatrixUsers(models.TextChoices):
    """What the matrix's "IDs" (ID数) axis counts."""

    ACTIVE_USERS = "active_users", _("Active users (30 days)")
    SEATS = "seats", _("Licensed seats")


class TouchModel(WorkspaceOwned):
    """One per workspace: tier thresholds by ARR and the priority-matrix bands."""

    high_min_arr = models.DecimalField(
        _("high touch from ARR"), default=DEFAULT_HIGH_MIN_ARR, validators=[MinValueValidator(0)], **MONEY
    )
    low_min_arr = models.DecimalField(
        _("low touch from ARR"), default=DEFAULT_LOW_MIN_ARR, validators=[MinValueValidator(0)], **MONEY
    )
    seat_bands = models.JSONField(_("seat bands"), default=default_seat_bands)
    tenure_bands = models.JSONField(_("tenure bands (months)"), default=default_tenure_bands)
    must_not_lose = models.JSONField(_("must-not-lose cells"), default=list, blank=True)
    # The people who use the product (distinct users with events in 30 days) by default: a seat
    # nobody uses is not a user to keep. Workspaces created before this setting keep seats.
    matrix_users = models.CharField(_("matrix IDs count"), max_length=20, choices=MatrixUsers.choices,
                                    default=MatrixUsers.ACTIVE_USERS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="touch_model_one_per_workspace"),
            models.CheckConstraint(
                condition=Q(high_min_arr__gte=models.F("low_min_arr")),
                name="touch_model_high_above_low",
                violation_error_message=_("The high-touch threshold must not be below the low-touch threshold."),
            ),
        ]

    def __str__(self):
        return f"touch model of {self.workspace_id}"

    def tier_for_arr(self, arr):
        if arr >= self.high_min_arr:
            return TouchTier.HIGH
        if arr >= self.low_min_arr:
            return TouchTier.LOW
        return TouchTier.TECH


class TierPin(WorkspaceOwned):
    """A manager's manual tier for one account; it wins over the ARR thresholds."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="tier_pin")
    tier = models.CharField(_("tier"), max_length=10, choices=TouchTier.choices)
    reason = models.CharField(_("reason"), max_length=300)
    pinned_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    pinned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pinned_at"]

    def __str__(self):
        return f"{self.account} pinned {self.tier}"


class TierChange(WorkspaceOwned):
    """The account's tier from `day` on (until its next change). Written forward only."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tier_changes")
    day = models.DateField()
    tier = models.CharField(max_length=10, choices=TouchTier.choices)
    pinned = models.BooleanField(default=False)

    class Meta:
        ordering = ["account_id", "day"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="tier_change_unique_account_day")]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return f"{self.account_id} {self.day} {self.tier}"


class CadencePolicy(WorkspaceOwned):
    """The longest allowed gap between qualifying touches, for a tier or (winning) a segment."""

    name = models.CharField(_("name"), max_length=120)
    tier = models.CharField(_("tier"), max_length=10, choices=TouchTier.choices, blank=True)
    # A segment's own cadence: the segments app's model, named by label (peers never import each other's models).
    segment = models.OneToOneField(
        "segments.Segment", verbose_name=_("segment"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="cadence_policy",
    )
    # When an account is in several segments that have a policy, the lowest priority wins.
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    max_gap_days = models.PositiveSmallIntegerField(_("longest gap (days)"), validators=[MinValueValidator(1)])
    channels = models.JSONField(_("qualifying channels"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["segment_id", "tier", "priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(segment__isnull=True) & ~Q(tier="")) | (Q(segment__isnull=False) & Q(tier="")),
                name="cadence_policy_tier_xor_segment",
                violation_error_message=_("A cadence policy applies to either a tier or a segment."),
            ),
            models.UniqueConstraint(
                fields=["workspace", "tier"], condition=~Q(tier=""), name="cadence_policy_one_per_tier",
                violation_error_message=_("This tier already has a cadence policy."),
            ),
        ]

    def __str__(self):
        return self.name


class CadenceRule(WorkspaceOwned):
    """An extra rule of a policy, e.g. "a meeting with a decision maker every 180 days".

    An account is covered only when the policy's cadence AND every one of its rules are met.
    """

    policy = models.ForeignKey(CadencePolicy, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("name"), max_length=120)
    channels = models.JSONField(_("channels"), default=list)
    contact_role = models.CharField(_("with a contact of role"), max_length=20, blank=True)
    max_gap_days = models.PositiveSmallIntegerField(_("every (days)"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["policy_id", "id"]

    def __str__(self):
        return self.name


class CoverageSnapshot(WorkspaceOwned):
    """One account on one day (in the workspace's time zone): every coverage report reads these."""

    day = models.DateField()
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="coverage_snapshots")
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier = models.CharField(max_length=10, choices=TouchTier.choices, blank=True)
    # ",3,7," — segment ids with delimiters, so "in segment 3" is a portable `contains ",3,"`.
    segment_keys = models.CharField(max_length=500, blank=True, default="")
    policy_name = models.CharField(max_length=120, blank=True)
    seat_band = models.CharField(max_length=10, blank=True)
    tenure_band = models.CharField(max_length=10, blank=True)
    cell = models.CharField(max_length=21, blank=True)
    arr = models.DecimalField(default=0, **MONEY)
    in_scope = models.BooleanField()
    covered = models.BooleanField()
    last_touch_on = models.DateField(null=True, blank=True)
    days_since_last_touch = models.PositiveIntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    overdue_days = models.PositiveIntegerField(null=True, blank=True)
    # What breaks coverage: "cadence", "never", or the name of an overdue rule; blank when covered.
    broken_rule = models.CharField(max_length=120, blank=True)
    # Everything that is broken, in the policy's order (cadence first, then the rules): the first is
    # `broken_rule`. Empty when covered (and on rows computed before this list existed).
    broken_rules = models.JSONField(default=list, blank=True)
    fix_channel = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["day", "account_id"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="coverage_snapshot_unique")]
        indexes = [
            models.Index(fields=["workspace", "day", "in_scope", "covered"]),
            models.Index(fields=["workspace", "day", "owner"]),
            # The accounts breaking coverage, already in the order the report lists them (largest
            # ARR, then longest overdue; DESC puts NULLs first): the top 10 without sorting ~10k rows.
            models.Index(fields=["workspace", "day", "-arr", "-overdue_days"], name="coverage_breaking_idx",
                         condition=Q(in_scope=True, covered=False)),
        ]

    def __str__(self):
        return f"{self.account_id} {self.day} {'covered' if self.covered else 'not covered'}"

    @property
    def segment_ids(self):
        return [int(s) for s in self.segment_keys.strip(",").split(",") if s]

    @property
    def fix_channel_label(self):
        return dict(Channel.choices).get(self.fix_channel, self.fix_channel)


# What every coverage figure is made of: over a set of in-scope snapshot rows, the number of
# accounts, how many are covered, their ARR and the covered ARR. Stored per rollup row, and the
# same four aggregates over either kind of row, so reports read either without another formula.
SNAPSHOT_MEASURES = {
    "n": models.Count("id"), "c": models.Count("id", filter=Q(covered=True)),
    "a": models.Sum("arr"), "ac": models.Sum("arr", filter=Q(covered=True)),
}
ROLLUP_MEASURES = {
    "n": models.Sum("in_scope_count"), "c": models.Sum("covered_count"),
    "a": models.Sum("in_scope_arr"), "ac": models.Sum("covered_arr"),
}


class CoverageRollup(WorkspaceOwned):
    """The in-scope snapshot rows of one day summed per owner, tier, matrix cell and combination
    of segments.

    A day has ~100,000 snapshot rows but only a few hundred or thousand of these, so the reports,
    the trend and the matrix read these instead whenever their filters narrow by these columns
    alone (owner, tier, cell, segment).
    Written from the day's snapshot rows in the same transaction (see coverage.rollup_coverage);
    the owner is SET_NULL like the snapshot's, so both always sum to the same figures.
    """

    # The snapshot columns a rollup row keeps; a filter on anything else reads the snapshot rows.
    DIMENSIONS = ("owner", "tier", "cell", "segment_keys")

    day = models.DateField()
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier = models.CharField(max_length=10, choices=TouchTier.choices, blank=True)
    cell = models.CharField(max_length=21, blank=True)
    # As the snapshot's: ",3,7," (the segments the rows were in). A few hundred combinations a day at
    # most, so the per-segment report sums these instead of the day's rows.
    segment_keys = models.CharField(max_length=500, blank=True, default="")
    in_scope_count = models.PositiveIntegerField()
    covered_count = models.PositiveIntegerField()
    # Sums of up to every account's ARR: wider than one account's MONEY.
    in_scope_arr = models.DecimalField(max_digits=22, decimal_places=2)
    covered_arr = models.DecimalField(max_digits=22, decimal_places=2)

    class Meta:
        ordering = ["day", "id"]
        indexes = [models.Index(fields=["workspace", "day"])]

    def __str__(self):
        return (f"{self.day} {self.owner_id} {self.tier} {self.cell} {self.segment_keys}: "
                f"{self.covered_count}/{self.in_scope_count}")
