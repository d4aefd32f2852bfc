"""Tasks (what a CSM does) and playbooks (what managers design to make tasks happen).

A playbook's trigger, enrolment rules, steps and exit live in an immutable `PlaybookVersion.definition`
(see `definition.py` for its shape); editing a playbook writes a new version and running runs keep
the version they started with, like scorecards.

A run (`PlaybookRun`) is one account going through one playbook, started for a reason: the trigger
and the values that matched (`why`), and a `reason_key` naming the occurrence ("renewal:2027-03-31").
The database keeps the two enrolment rules that must hold even when two evaluations race: one
active run per account and playbook, and one run per account, playbook and reason.
An account that matched but was held back by a limit, a cooldown or the condition is remembered in
`PlaybookHold`: it is the comparison group of "did it work?".
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Touchpoint
from workspaces.models import Membership, WorkspaceOwned


class TaskType(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    REVIEW = "review", _("Account review")
    INTERNAL = "internal", _("Internal")
    OTHER = "other", _("Other")


# The task types done by contacting the customer: completing one logs a touchpoint, which counts
# for coverage. Its default channel is the one the "log a touch" form offers first.
CONTACT_TASK_CHANNELS = {TaskType.CALL: "phone", TaskType.MEETING: "video_meeting", TaskType.EMAIL: "email"}


class TaskPriority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = [TaskStatus.OPEN, TaskStatus.SNOOZED]


class TaskSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    PLAYBOOK = "playbook", _("Playbook")
    ALERT = "alert", _("Health alert")
    API = "api", _("API")


class Task(WorkspaceOwned):
    """A call-to-action on one account, for one member."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        Membership, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="tasks",
    )
    type = models.CharField(_("type"), max_length=20, choices=TaskType.choices, default=TaskType.CALL)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_on = models.DateField(_("due"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=TaskPriority.choices,
                                                default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=TaskSource.choices, default=TaskSource.MANUAL)
    run = models.ForeignKey("PlaybookRun", verbose_name=_("playbook run"), null=True, blank=True,
                            on_delete=models.SET_NULL, related_name="tasks")
    step_index = models.PositiveSmallIntegerField(null=True, blank=True)
    # The health alert a task was made from (the healthscore app's model, named by label: peers
    # never import each other's models).
    alert = models.ForeignKey("healthscore.HealthAlert", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="tasks")
    # The touch that completed a contact task: it counts for coverage, the task closes with it.
    touchpoint = models.ForeignKey(Touchpoint, verbose_name=_("touchpoint"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="tasks")
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    completed_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "-priority", "id"]
        constraints = [
            # A night that runs twice creates a step's task once.
            models.UniqueConstraint(fields=["run", "step_index"], name="task_one_per_run_step"),
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""),
                name="task_unique_external_id_per_workspace",
                violation_error_message=_("Another task of this workspace already has this external ID."),
            ),
            models.CheckConstraint(
                condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False),
                name="task_snoozed_has_date",
                violation_error_message=_("A snoozed task needs the date it wakes up."),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "assignee", "status", "due_on"]),
            models.Index(fields=["account", "status"]),
            models.Index(fields=["workspace", "status", "completed_on"]),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_contact(self):
        return self.type in CONTACT_TASK_CHANNELS


class TriggerKind(models.TextChoices):
    SEGMENT_ENTERED = "segment_entered", _("Account enters a segment")
    HEALTH_RED = "health_red", _("Health enters red")
    HEALTH_DROP = "health_drop", _("Health drops by N points")
    STAGE_TIME = "stage_time", _("Too long in a lifecycle stage")
    RENEWAL_WITHIN = "renewal_within", _("Renewal within N days")
    COVERAGE_BROKEN = "coverage_broken", _("Coverage broken")
    KEY_CONTACT_LEFT = "key_contact_left", _("A key contact left")
    CHAMPION_VACANT = "champion_vacant", _("No champion")
    ONBOARDING_LATE = "onboarding_late", _("Onboarding not done by day N")
    USAGE_BELOW = "usage_below", _("Usage fell below a level")
    NEW_ACCOUNT = "new_account", _("New account")
    NPS_DETRACTOR = "nps_detractor", _("NPS detractor")
    SILENT = "silent", _("Silent account (no touch, falling usage)")
    PLAN_GAP = "plan_gap", _("Success plan below objective")
    SCHEDULE = "schedule", _("On a schedule")
    LEVEL_CHANGED = "level_changed", _("Usage level changed")
    MANUAL = "manual", _("Manual enrolment only")


class Playbook(WorkspaceOwned):
    """What managers design. Its rules are in its versions; the newest one enrols."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Copied from the newest version's trigger, so that lists filter and the night groups by it.
    trigger_kind = models.CharField(_("trigger"), max_length=30, choices=TriggerKind.choices)
    # The default library's key ("renewal_120"…); blank for a playbook a manager wrote.
    library_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="playbook_unique_name_per_workspace",
                violation_error_message=_("A playbook with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class PlaybookVersion(WorkspaceOwned):
    """An immutable definition: trigger, enrolment rules, steps, exit (see definition.py)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["playbook_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbook_version_unique_number")
        ]

    def __str__(self):
        return f"{self.playbook} v{self.number}"


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("Running")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Exited (trigger no longer holds)")
    CANCELLED = "cancelled", _("Cancelled")


class PlaybookRun(WorkspaceOwned):
    """One account going through one playbook (one version of it), for one reason."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(PlaybookVersion, on_delete=models.PROTECT, related_name="runs")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="playbook_runs")
    # The occurrence this run answers, e.g. "renewal:2027-03-31" or "red:2026-11-29": with the
    # account and the playbook, unique (the dedup rule, kept by the database).
    reason_key = models.CharField(max_length=120)
    # Why it started: {"trigger": kind, "values": {...what matched...}, "by": "nightly" | member id}.
    why = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    ended_why = models.CharField(_("why it ended"), max_length=200, blank=True)
    started_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "account", "reason_key"], name="playbook_run_dedup"),
            models.UniqueConstraint(
                fields=["playbook", "account"], condition=Q(status="active"), name="playbook_run_one_active",
                violation_error_message=_("This account is already running this playbook."),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["playbook", "started_on"]),
            models.Index(fields=["account", "started_on"]),
        ]

    def __str__(self):
        return f"{self.playbook} · {self.account}"

    @property
    def is_active(self):
        return self.status == RunStatus.ACTIVE


class RunAction(WorkspaceOwned):
    """A step of a run that is not a task (set a field or tag, send a webhook): done once."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="actions")
    step_index = models.PositiveSmallIntegerField()
    done_on = models.DateField()
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["run_id", "step_index"]
        constraints = [models.UniqueConstraint(fields=["run", "step_index"], name="run_action_once")]

    def __str__(self):
        return f"{self.run_id} step {self.step_index}"


class HoldReason(models.TextChoices):
    LIMIT = "limit", _("Enrolment limit reached")
    COOLDOWN = "cooldown", _("In cooldown after a run")
    CONDITION = "condition", _("Condition not met")
    DISABLED = "disabled", _("Playbook disabled")


class PlaybookHold(WorkspaceOwned):
    """An account that matched a playbook's trigger for `reason_key` but was not enrolled, and why.

    The first day it matched is the day "did it work?" compares enrolled accounts against."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="holds")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="playbook_holds")
    reason_key = models.CharField(max_length=120)
    held_because = models.CharField(max_length=10, choices=HoldReason.choices)
    first_on = models.DateField()
    last_on = models.DateField()

    class Meta:
        ordering = ["-first_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "account", "reason_key"], name="playbook_hold_once")
        ]
        indexes = [models.Index(fields=["playbook", "first_on"])]

    def __str__(self):
        return f"{self.playbook} held {self.account}"
