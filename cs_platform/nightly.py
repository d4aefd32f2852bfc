"""The night of one workspace: each capability's step, in the order they read each other.

    usage      rolls up the day's events; copies 30-day active users onto the accounts
    tiers      puts every active account in its touch tier (segments may select on it)
    segments   materializes every segment's membership as of the day
    coverage   writes the day's coverage snapshot and rollup (tiers, segments, touches)
    health     scores every account; snapshots, current score on the account, alerts (reads all above)
    lifecycle  every active account's usage level (Lv1-Lv4) on the day, into the level history
    playbooks  evaluates every playbook's trigger for all accounts: enrols (or holds back), ends the
               runs whose trigger cleared, creates the steps' due tasks (reads all above)

Each step is `step(*, workspace, as_of)` in its app's nightly.py: set-based, idempotent for a day
(re-running it writes the same rows), safe to re-run after a failure. The whole night of a workspace
runs under one lock (`workspace_lock`), so the beat, a manual "recompute now" and `manage.py
recompute` never overlap on the same workspace; a second one skips and says so.
"""

import datetime as dt
import logging
from typing import NamedTuple

from django.db.models import Q

from coverage import nightly as coverage_nightly
from healthscore import nightly as health_nightly
from lifecycle import nightly as lifecycle_nightly
from playbooks import nightly as playbooks_nightly
from segments import nightly as segments_nightly
from usage import nightly as usage_nightly
from workspaces.audit import record_audit
from workspaces.locks import advisory_lock
from workspaces.models import Workspace
from workspaces.policy import SystemActor

NIGHTLY = SystemActor("nightly")

logger = logging.getLogger(__name__)


class NightlyStep(NamedTuple):
    name: str
    run: object  # step(*, workspace, as_of), or step(*, workspace, as_of, actor) when `acts`
    # A step that writes records members own and edit (playbook runs and tasks) audits each one, as
    # whoever started the night: the platform, or the member who asked for "Recompute now".
    acts: bool = False

    @property
    def path(self):
        return f"{self.run.__module__}.{self.run.__name__}"


NIGHTLY_STEPS = [
    NightlyStep("usage", usage_nightly.step),
    NightlyStep("tiers", coverage_nightly.tiers_step),
    NightlyStep("segments", segments_nightly.step),
    NightlyStep("coverage", coverage_nightly.coverage_step),
    NightlyStep("health", health_nightly.step),
    NightlyStep("lifecycle", lifecycle_nightly.step),
    NightlyStep("playbooks", playbooks_nightly.step, acts=True),
]


def run_nightly(*, workspace, as_of, only=None, actor=NIGHTLY):
    """Run the steps (all, or those named in `only`) for one workspace and day; returns their names.

    The caller holds the workspace's lock (see cs_platform.tasks.recompute_workspace). What the steps
    derive (snapshots, rollups, segment membership, tiers, scores, alerts) is audited once per run:
    one "nightly.run" event naming `actor` (the platform, or the member who asked for "Recompute now")."""
    unknown = set(only or ()) - {step.name for step in NIGHTLY_STEPS}
    if unknown:
        raise ValueError(f"Unknown nightly step(s): {', '.join(sorted(unknown))}.")
    ran = []
    for step in NIGHTLY_STEPS:
        if only and step.name not in only:
            continue
        if step.acts:
            step.run(workspace=workspace, as_of=as_of, actor=actor)
        else:
            step.run(workspace=workspace, as_of=as_of)
        ran.append(step.name)
    record_audit(workspace=workspace, actor=actor, action="nightly.run", obj=workspace,
                 changes={"day": as_of.isoformat(), "steps": ", ".join(ran)})
    return ran


# Advisory lock keys of this pipeline: this namespace and the workspace's id (workspaces.locks).
LOCK_NAMESPACE = 0x6E696768  # "nigh"


def workspace_lock(workspace):
    """Hold the workspace's nightly lock for the block; yields False (and holds nothing) when
    another run holds it; released at the end of the block, or by the database if the worker dies."""
    return advisory_lock(LOCK_NAMESPACE, workspace.pk)


# A night queued this long ago and still not done is queued again: its task was lost (a broker
# restarted without persistence) or its worker died. Longer than a queue backlog should last; a
# night still running then is not disturbed (the second one skips on the workspace's lock).
REQUEUE_AFTER = dt.timedelta(hours=2)


def workspaces_due(*, now):
    """[(workspace, its local date)] of the workspaces whose night should start now.

    A workspace's night starts once its local time has reached its `nightly_hour`, once per local
    date, computed as of that date: so a Tokyo and a New York workspace each get their night at
    about 2:00 where they work. Each is claimed with a conditional update (only one beat can claim
    a workspace's date, even if two ran), so a slow queue never starts the same night twice; a night
    claimed but not done within REQUEUE_AFTER is claimed again, so a lost task loses no night.
    """
    due = []
    for workspace in Workspace.objects.order_by("pk"):
        local = now.astimezone(workspace.tz)
        if local.hour < workspace.nightly_hour:
            continue
        today = local.date()
        claimed = (
            Workspace.objects.filter(pk=workspace.pk)
            .filter(Q(nightly_done_on__isnull=True) | Q(nightly_done_on__lt=today))
            .filter(Q(nightly_queued_on__isnull=True) | Q(nightly_queued_on__lt=today)
                    | Q(nightly_queued_at__lte=now - REQUEUE_AFTER))
            .update(nightly_queued_on=today, nightly_queued_at=now)
        )
        if claimed:
            due.append((workspace, today))
    return due


def mark_night_done(workspace, day):
    """The night of `day` ran to its end: the beat need not queue it again."""
    Workspace.objects.filter(pk=workspace.pk).filter(
        Q(nightly_done_on__isnull=True) | Q(nightly_done_on__lt=day)).update(nightly_done_on=day)


def night_done(workspace, day):
    return workspace.nightly_done_on is not None and workspace.nightly_done_on >= day
