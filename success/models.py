"""Success plans (one per account) with objectives on a 1-4 level scale, the manager's approval
workflow and its history; the workspace's written level definitions; KPT notes.

An objective has an objective level (where the customer wants to be) and an achievement level
(where they are); it is achieved when achievement >= objective. The plan's gap is the SUM over its
objectives of max(0, objective - achievement): two objectives one level short weigh as much as one
two levels short (docs/success-plans.md). Every change is a `PlanEvent` row carrying the plan's
state after it (status, gap, objectives), so that a past day's gap is read, never recomputed.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Account
from workspaces.models import Membership, WorkspaceOwned

LEVELS = (1, 2, 3, 4)
LEVEL_VALIDATORS = [MinValueValidator(1), MaxValueValidator(4)]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("success plan status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("success plan status", "Submitted")
    APPROVED = "approved", pgettext_lazy("success plan status", "Approved")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("success plan status", "Changes requested")


# The states a CSM edits in; editing an approved plan returns it to draft (a submitted one waits).
EDITABLE_STATES = {PlanStatus.DRAFT, PlanStatus.CHANGES_REQUESTED, PlanStatus.APPROVED}


class LevelDefinition(WorkspaceOwned):
    """What level N means in this workspace (one scale for objective and achievement levels)."""

    level = models.PositiveSmallIntegerField(_("level"), validators=LEVEL_VALIDATORS)
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["level"]
        constraints = [models.UniqueConstraint(fields=["workspace", "level"], name="success_level_unique_per_workspace")]

    def __str__(self):
        return f"Lv{self.level} {self.name}"


class SuccessPlan(WorkspaceOwned):
    """The account's success plan: one per account, kept current (its history is in PlanEvent)."""

    account = models.OneToOneField(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                   related_name="success_plan")
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account__name", "id"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self):
        return str(self.account)


class Objective(WorkspaceOwned):
    plan = models.ForeignKey(SuccessPlan, verbose_name=_("success plan"), on_delete=models.CASCADE,
                             related_name="objectives")
    text = models.CharField(_("objective"), max_length=300)
    kpi = models.CharField(_("KPI"), max_length=200, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    objective_level = models.PositiveSmallIntegerField(_("objective level"), validators=LEVEL_VALIDATORS, default=3)
    achievement_level = models.PositiveSmallIntegerField(_("achievement level"), validators=LEVEL_VALIDATORS,
                                                         default=1)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text

    @property
    def gap(self):
        return max(0, self.objective_level - self.achievement_level)

    @property
    def achieved(self):
        return self.achievement_level >= self.objective_level


class EventKind(models.TextChoices):
    CREATED = "created", _("Plan created")
    UPDATED = "updated", _("Plan changed")
    OBJECTIVE_ADDED = "objective_added", _("Objective added")
    OBJECTIVE_CHANGED = "objective_changed", _("Objective changed")
    OBJECTIVE_REMOVED = "objective_removed", _("Objective removed")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REOPENED = "reopened", _("Returned to draft")
    COMMENTED = "commented", _("Comment")


class PlanEvent(WorkspaceOwned):
    """One change of a plan, its objectives or its workflow, with who, when and the state after it."""

    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="events")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("what"), max_length=20, choices=EventKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    changes = models.JSONField(default=dict, blank=True)
    # The plan after this event: its status, gap (None: no objectives) and objectives.
    status_after = models.CharField(max_length=20, choices=PlanStatus.choices)
    gap_after = models.PositiveIntegerField(null=True, blank=True)
    objectives_after = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["workspace", "account", "occurred_at"])]

    def __str__(self):
        return f"{self.plan_id} {self.kind}"


class PeriodKind(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class KptKind(models.TextChoices):
    KEEP = "keep", pgettext_lazy("KPT", "Keep")
    PROBLEM = "problem", pgettext_lazy("KPT", "Problem")
    TRY = "try", pgettext_lazy("KPT", "Try")


class KptNote(WorkspaceOwned):
    """A Keep, Problem or Try of a period (a week from Monday or a calendar month), about the team's
    work in general, a playbook (by id: playbooks sits above this app) or a segment."""

    period_kind = models.CharField(_("period"), max_length=5, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    kind = models.CharField(_("kind"), max_length=10, choices=KptKind.choices)
    text = models.TextField(_("note"))
    playbook_id = models.PositiveBigIntegerField(_("playbook"), null=True, blank=True)
    segment = models.ForeignKey("segments.Segment", verbose_name=_("segment"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(Membership, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["period_start", "kind", "id"]
        indexes = [models.Index(fields=["workspace", "period_kind", "period_start"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:40]}"
