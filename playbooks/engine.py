"""The playbook engine: who enrols, which steps fall due, which runs end. Set-based and idempotent.

One evaluation (`evaluate_playbooks`, the nightly step; the accounts signals run the same for the
accounts they name) does, for the workspace's playbooks:

1. Enrol. Per enabled, non-manual playbook, its newest version's trigger is read for all accounts at
   once (triggers.py: one read per trigger kind, shared by playbooks with the same trigger), then the
   enrolment rules decide (`_decide`): an account with an active run of the playbook waits; one that
   already ran for this occurrence (reason key) is done with it; then the limit, the cooldown and the
   condition (segment rules) may hold it back, recorded as a `PlaybookHold`. The others get a run,
   inserted as plain rows skipping conflicts: the database's rules (one active run per account and
   playbook, one run per account, playbook and reason) make a concurrent evaluation insert nothing
   twice, and the insert returns only the runs this evaluation wrote.
2. End. A run whose version says `when_trigger_clears` exits when its account no longer matches that
   version's trigger; any run of a churned account exits. Open tasks are cancelled or kept as the
   version says.
3. Advance. Every active run's due steps are created: a task (unique per run and step, so a second
   night creates nothing) or an action done once (`RunAction`); a run whose steps are all created and
   whose tasks are all closed completes.

Runs keep the version they started with: steps and exits read `run.version.definition`.
"""

import contextvars
import datetime as dt
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, LifecycleStage
from accounts.services import update_account
from accounts.writes.sql import chunks
from healthscore.selectors import weakest_groups
from renewals.selectors import next_renewal_by_account
from segments.selectors import accounts_matching, segments_by_id
from segments.services import add_to_segment
from webhooks.events import emit, emit_many
from workspaces.audit import record_audit, record_audit_rows
from workspaces.errors import DomainError, NotAllowed
from workspaces.models import Membership
from workspaces.policy import SystemActor, acting_member, authorize, authorize_role
from workspaces.sql import insert_rows

from .assignees import Picker
from .models import (
    OPEN_STATUSES,
    HoldReason,
    Playbook,
    PlaybookHold,
    PlaybookRun,
    PlaybookVersion,
    RunAction,
    RunStatus,
    Task,
    TaskSource,
    TaskStatus,
    TriggerKind,
)
from .placeholders import account_values, render, uses
from .triggers import EVENT_KINDS, Match, describe_why, keyed_by_episode, trigger_matches

logger = logging.getLogger(__name__)

PLAYBOOKS = SystemActor("playbooks")
CHUNK = 500  # ids per IN (…) list

# Set while the engine itself writes accounts (a step that sets a stage or a tag): the accounts
# signals it causes are not evaluated again inside it (the next night sees them).
_evaluating = contextvars.ContextVar("playbooks_evaluating", default=False)


def newest_versions(*, workspace, playbook_ids):
    """{playbook_id: its newest PlaybookVersion}."""
    newest = {}
    for version in (PlaybookVersion.objects.for_workspace(workspace).filter(playbook_id__in=list(playbook_ids))
                    .order_by("playbook_id", "-number")):
        newest.setdefault(version.playbook_id, version)
    return newest


@dataclass(slots=True)
class NightRun:
    """A run as the night reads and changes it: a first night holds tens of thousands, and a model
    instance each costs more than the work. `version` and `playbook` are attached by the reader."""

    pk: int
    playbook_id: int
    version_id: int
    account_id: int
    reason_key: str
    why: dict
    status: str
    started_on: dt.date
    ended_on: dt.date | None = None
    ended_why: str = ""
    version: object = None
    playbook: object = None


NIGHT_RUN_FIELDS = ["pk", "playbook_id", "version_id", "account_id", "reason_key", "why", "status", "started_on",
                    "ended_on", "ended_why"]


class _Triggers:
    """Trigger reads of one evaluation, shared by every playbook (and version) with the same trigger."""

    def __init__(self, *, workspace, as_of, account_ids=None):
        self.workspace, self.as_of, self.account_ids = workspace, as_of, account_ids
        self.cache = {}

    def matches(self, trigger):
        key = json.dumps(trigger, sort_keys=True)
        if key not in self.cache:
            self.cache[key] = trigger_matches(workspace=self.workspace, trigger=trigger, as_of=self.as_of,
                                              account_ids=self.account_ids)
        return self.cache[key]


# --- the enrolment rules ----------------------------------------------------------------------------


def _condition_ids(*, workspace, condition, as_of):
    """The ids of the accounts meeting `condition` (segment rules), or None when there is none."""
    if not condition or not condition.get("conditions"):
        return None
    return set(accounts_matching(workspace=workspace, rules=condition, as_of=as_of).values_list("pk", flat=True))


def _decide(*, workspace, playbook, definition, matches, as_of, holds=None, strict_condition=True):
    """Apply the enrolment rules to `matches` ({account_id: Match}).

    Returns {"enrol": {id: Match}, "held": {id: (HoldReason, Match)}, "active": {ids}, "done": {ids}}:
    `active` have a run of this playbook going, `done` already ran for this occurrence (neither is a
    hold: the account is, or was, in the playbook). `playbook` None (a preview before saving) has no
    runs. `holds` ({(account_id, reason_key): hold}) lets an episode keep its key while it lasts."""
    runs = defaultdict(list)
    if playbook is not None and playbook.pk:
        for row in (PlaybookRun.objects.for_workspace(workspace).filter(playbook=playbook)
                    .values("account_id", "reason_key", "status", "started_on", "ended_on")):
            runs[row["account_id"]].append(row)
    matches = _episode_keys(matches, trigger=definition["trigger"], runs=runs, holds=holds or {}, as_of=as_of)
    enrolment = definition.get("enrolment") or {}
    limit, cooldown = enrolment.get("limit", "once_per_reason"), enrolment.get("cooldown_days", 0)
    result = {"enrol": {}, "held": {}, "active": set(), "done": set()}
    candidates = {}
    for account_id, match in matches.items():
        previous = runs.get(account_id, [])
        if any(run["status"] == RunStatus.ACTIVE for run in previous):
            result["active"].add(account_id)
        elif any(run["reason_key"] == match.reason_key for run in previous):
            result["done"].add(account_id)
        elif _over_limit(limit, enrolment, previous, as_of):
            result["held"][account_id] = (HoldReason.LIMIT, match)
        elif cooldown and any(run["ended_on"] and run["ended_on"] > as_of - dt.timedelta(days=cooldown)
                              for run in previous):
            result["held"][account_id] = (HoldReason.COOLDOWN, match)
        else:
            candidates[account_id] = match
    try:
        meeting = _condition_ids(workspace=workspace, condition=definition.get("condition"), as_of=as_of)
    except DomainError:
        if strict_condition:
            raise
        # A condition that no longer compiles (a stage it names was deleted) holds everyone back
        # rather than stopping the night; the playbook's page shows the error when it is edited.
        logger.warning("Playbook %s: its condition does not compile; nobody enrols.", playbook and playbook.pk)
        meeting = set()
    for account_id, match in candidates.items():
        if meeting is not None and account_id not in meeting:
            result["held"][account_id] = (HoldReason.CONDITION, match)
        else:
            result["enrol"][account_id] = match
    return result


def _over_limit(limit, enrolment, previous, as_of):
    if limit == "once_ever":
        return bool(previous)
    if limit == "times":
        return len(previous) >= enrolment["times"]
    if limit == "times_per_days":
        since = as_of - dt.timedelta(days=enrolment["per_days"])
        return sum(1 for run in previous if run["started_on"] > since) >= enrolment["times"]
    return False  # once_per_reason: the dedup rule is the limit


def _episode_keys(matches, *, trigger, runs, holds, as_of):
    """A state without a date of its own ("usage below", "no champion"…) is keyed by the day it was
    first seen: the key of the account's active run, or of its hold seen yesterday or today, when it
    has the same kind; a new episode otherwise (after the run exited, or completed while the state
    still holds: a cooldown keeps that from enrolling again at once)."""
    if not keyed_by_episode(trigger):
        return matches
    out = {}
    held_keys = defaultdict(list)
    for (account_id, key), hold in holds.items():
        if hold.last_on >= as_of - dt.timedelta(days=1):
            held_keys[account_id].append(key)
    for account_id, match in matches.items():
        # The trigger's own prefix ("drop:", "usage_below:"…): the key of that day, up to its date.
        prefix = match.reason_key.rsplit(":", 1)[0] + ":"
        key = next((run["reason_key"] for run in runs.get(account_id, [])
                    if run["status"] == RunStatus.ACTIVE and run["reason_key"].startswith(prefix)), None)
        key = key or next((k for k in sorted(held_keys.get(account_id, [])) if k.startswith(prefix)), None)
        out[account_id] = Match(key, match.values) if key else match
    return out


# --- evaluation ------------------------------------------------------------------------------------


def evaluate_playbooks(*, workspace, as_of, playbooks=None, account_ids=None, by="nightly", actor=None):
    """Enrol, end and advance the runs of `workspace`'s playbooks (all, or `playbooks`) on `as_of`;
    only the accounts in `account_ids` when given (an accounts signal). Returns counts.

    Only enabled playbooks whose trigger is not manual enrol; every active run of the playbooks
    considered may end and advances, whatever its playbook's state now."""
    summary = {"playbooks": 0, "matched": 0, "enrolled": 0, "held": 0, "exited": 0, "completed": 0,
               "tasks": 0, "actions": 0}
    selected = Playbook.objects.for_workspace(workspace)
    if playbooks is not None:
        selected = selected.filter(pk__in=[getattr(p, "pk", p) for p in playbooks])
    selected = list(selected.order_by("pk"))
    if not selected:
        return summary
    token = uuid.uuid4().hex
    # Who the audit log names: whoever started the night (the platform, a member's "Recompute now"),
    # the demo; "playbooks" for what a playbook did at once after an account's event.
    actor = actor or (PLAYBOOKS if by == "event" else SystemActor(by))
    triggers = _Triggers(workspace=workspace, as_of=as_of, account_ids=account_ids)
    reset = _evaluating.set(True)
    try:
        with transaction.atomic():
            versions = newest_versions(workspace=workspace, playbook_ids=[p.pk for p in selected])
            for playbook in selected:
                version = versions.get(playbook.pk)
                if not playbook.enabled or version is None or playbook.trigger_kind == TriggerKind.MANUAL:
                    continue
                summary["playbooks"] += 1
                _enrol_matching(workspace=workspace, playbook=playbook, version=version, as_of=as_of,
                                triggers=triggers, token=token, by=by, summary=summary, actor=actor)
            active = (PlaybookRun.objects.for_workspace(workspace)
                      .filter(playbook__in=selected, status=RunStatus.ACTIVE))
            if account_ids is not None:
                active = active.filter(account_id__in=list(account_ids))
            active = _with_versions(workspace, [NightRun(*row) for row in active.order_by("pk")
                                                .values_list(*NIGHT_RUN_FIELDS)], playbooks=selected)
            ended = _end_cleared(workspace=workspace, runs=active, as_of=as_of, triggers=triggers, actor=actor)
            summary["exited"] = len(ended)
            still = [run for run in active if run.pk not in ended]
            summary.update(_advance(workspace=workspace, runs=still, as_of=as_of, actor=actor))
    finally:
        _evaluating.reset(reset)
    return summary


def _with_versions(workspace, runs, *, playbooks):
    """`runs` with their version and playbook attached, one object per version: a night's tens of
    thousands of runs share a few definitions instead of each parsing its own copy."""
    versions = PlaybookVersion.objects.for_workspace(workspace).in_bulk({run.version_id for run in runs})
    by_id = {playbook.pk: playbook for playbook in playbooks}
    for run in runs:
        run.version = versions[run.version_id]
        run.playbook = by_id[run.playbook_id]
    return runs


def _enrol_matching(*, workspace, playbook, version, as_of, triggers, token, by, summary, actor):
    definition = version.definition
    trigger = definition["trigger"]
    matches = triggers.matches(trigger)
    summary["matched"] += len(matches)
    holds = {(h.account_id, h.reason_key): h
             for h in PlaybookHold.objects.for_workspace(workspace).filter(playbook=playbook)}
    decision = _decide(workspace=workspace, playbook=playbook, definition=definition, matches=matches,
                       as_of=as_of, holds=holds, strict_condition=False)
    _record_holds(workspace=workspace, playbook=playbook, held=decision["held"], holds=holds, as_of=as_of)
    summary["held"] += len(decision["held"])
    if decision["enrol"]:
        new = _start_runs(workspace=workspace, playbook=playbook, version=version, as_of=as_of, token=token,
                          enrol=decision["enrol"], why_of=lambda m: {"trigger": trigger["kind"], "values": m.values,
                                                                     "by": by, "batch": token}, actor=actor)
        summary["enrolled"] += len(new)


def _record_holds(*, workspace, playbook, held, holds, as_of):
    new, changed = [], []
    for account_id, (reason, match) in sorted(held.items()):
        hold = holds.get((account_id, match.reason_key))
        if hold is None:
            new.append(PlaybookHold(workspace=workspace, playbook=playbook, account_id=account_id,
                                    reason_key=match.reason_key, held_because=reason, first_on=as_of, last_on=as_of))
        elif hold.last_on < as_of or hold.held_because != reason:
            hold.last_on, hold.held_because = max(hold.last_on, as_of), reason
            changed.append(hold)
    PlaybookHold.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    PlaybookHold.objects.for_workspace(workspace).bulk_update(changed, ["last_on", "held_because"], batch_size=1000)


def _start_runs(*, workspace, playbook, version, as_of, token, enrol, why_of, started_by=None, actor=PLAYBOOKS):
    """Insert the runs (what a concurrent evaluation inserted first is skipped) and return the ones
    this call inserted, each audited as `actor`'s and announced (run_started)."""
    now = timezone.now()
    started_by_id = started_by.pk if started_by is not None else None
    rows = {account_id: (workspace.pk, playbook.pk, version.pk, account_id, match.reason_key, why_of(match),
                         RunStatus.ACTIVE, as_of, "", started_by_id, now)
            for account_id, match in sorted(enrol.items())}
    # Plain rows (a first night starts tens of thousands); what a concurrent evaluation inserted first
    # is skipped by the dedup constraint, and only what this call inserted comes back.
    inserted = insert_rows(PlaybookRun, RUN_COLUMNS, rows.values(), on_conflict_do_nothing=True,
                           returning=["id", "account_id"])
    new = sorted((NightRun(pk=pk, playbook_id=playbook.pk, version_id=version.pk, account_id=account_id,
                           reason_key=rows[account_id][4], why=rows[account_id][5], status=RunStatus.ACTIVE,
                           started_on=as_of) for pk, account_id in inserted), key=lambda run: run.pk)
    _audit_runs(workspace=workspace, actor=actor, action="playbook_run.started", runs=new,
                changes=lambda run: {"playbook_name": [None, playbook.name]})
    emit_many(workspace=workspace, event="playbook.run_started",
              payloads=(_run_payload(run, playbook=playbook) for run in new))
    return new


# The columns of a run _start_runs writes, in its order.
RUN_COLUMNS = ["workspace_id", "playbook_id", "version_id", "account_id", "reason_key", "why", "status", "started_on",
               "ended_why", "started_by_id", "created_at"]


def _audit_runs(*, workspace, actor, action, runs, changes):
    """One audit event per run, inserted at once (the night starts and ends runs in batches), each named
    as a run names itself, "<playbook> · <account>", from one query of names rather than one per run."""
    if not runs:
        return
    playbooks = dict(Playbook.objects.for_workspace(workspace).filter(pk__in={run.playbook_id for run in runs})
                     .values_list("pk", "name"))
    accounts = {}
    for chunk in chunks({run.account_id for run in runs}, CHUNK * 10):
        accounts.update(Account.objects.for_workspace(workspace).filter(pk__in=chunk).values_list("pk", "name"))
    record_audit_rows(workspace=workspace, actor=actor, action=action, object_type="playbookrun", rows=[
        (run.pk, f"{playbooks.get(run.playbook_id)} · {accounts.get(run.account_id)}", changes(run)) for run in runs])


def _run_payload(run, *, playbook=None):
    playbook = playbook or run.playbook
    return {"run": run.pk, "playbook": playbook.pk, "playbook_name": playbook.name, "account": run.account_id,
            "reason_key": run.reason_key, "why": {k: v for k, v in (run.why or {}).items() if k != "batch"},
            "status": run.status, "started_on": run.started_on.isoformat(),
            "ended_on": run.ended_on.isoformat() if run.ended_on else None, "ended_why": run.ended_why}


# --- ending runs -----------------------------------------------------------------------------------


def _end_cleared(*, workspace, runs, as_of, triggers, actor):
    """End the runs whose trigger cleared (per their version) or whose account churned; their ids."""
    if not runs:
        return set()
    churned = set()
    account_ids = {run.account_id for run in runs}
    not_active = Account.objects.for_workspace(workspace).exclude(status=AccountStatus.ACTIVE)
    for queryset in _narrowed(not_active, account_ids):
        churned |= set(queryset.values_list("pk", flat=True)) & account_ids
    ending = defaultdict(list)  # (open_tasks, why) -> runs
    for run in runs:
        definition = run.version.definition
        exit_ = definition.get("exit") or {}
        open_tasks = exit_.get("open_tasks", "cancel")
        if run.account_id in churned:
            ending[(open_tasks, "churned")].append(run)
        elif exit_.get("when_trigger_clears") and run.account_id not in triggers.matches(definition["trigger"]):
            ending[(open_tasks, "cleared")].append(run)
    ended = set()
    for (open_tasks, reason), group in ending.items():
        why = _("The account churned.") if reason == "churned" else _("The trigger no longer holds.")
        ended |= _end(workspace=workspace, runs=group, status=RunStatus.EXITED, why=why, open_tasks=open_tasks,
                      as_of=as_of, actor=actor)
    return ended


def _end(*, workspace, runs, status, why, open_tasks, as_of, actor=None):
    """End these runs (those still active), cancel or keep their open tasks; the ids ended. With
    `actor` (the platform's own ends), each ended run and cancelled task is audited as its; a member's
    end is audited by end_run."""
    ended = set()
    for chunk in chunks([run.pk for run in runs], CHUNK):
        still = list(PlaybookRun.objects.for_workspace(workspace).filter(pk__in=chunk, status=RunStatus.ACTIVE)
                     .values_list("pk", flat=True))
        PlaybookRun.objects.for_workspace(workspace).filter(pk__in=still, status=RunStatus.ACTIVE).update(
            status=status, ended_on=as_of, ended_why=str(why)[:200])
        if open_tasks == "cancel":
            cancelling = Task.objects.for_workspace(workspace).filter(run_id__in=still, status__in=OPEN_STATUSES)
            if actor is not None:
                record_audit_rows(workspace=workspace, actor=actor, action="task.cancelled", object_type="task", rows=[
                    (pk, title, {"status": [status, TaskStatus.CANCELLED]})
                    for pk, title, status in cancelling.values_list("pk", "title", "status")])
            cancelling.update(status=TaskStatus.CANCELLED, snoozed_until=None, updated_at=timezone.now())
        ended |= set(still)
    done = [run for run in runs if run.pk in ended]
    for run in done:
        run.status, run.ended_on, run.ended_why = status, as_of, str(why)[:200]
    emit_many(workspace=workspace, event="playbook.run_ended", payloads=[_run_payload(run) for run in done])
    if actor is not None:
        _audit_runs(workspace=workspace, actor=actor, action="playbook_run.ended", runs=done,
                    changes=lambda run: {"status": [RunStatus.ACTIVE, run.status], "ended_why": [None, run.ended_why]})
    return ended


# --- steps -----------------------------------------------------------------------------------------


def _advance(*, workspace, runs, as_of, actor=PLAYBOOKS):
    """Create the due steps of `runs` (active, with version and playbook loaded); complete the runs
    whose steps are all there and whose tasks are all closed. Returns counts."""
    counts = {"tasks": 0, "actions": 0, "completed": 0}
    if not runs:
        return counts
    tasks, actions = defaultdict(dict), defaultdict(dict)
    wanted = {run.pk for run in runs}
    for queryset in _of_runs(Task.objects.for_workspace(workspace), wanted):
        for run_id, index, status, completed_on, updated_at in queryset.values_list(
                "run_id", "step_index", "status", "completed_on", "updated_at"):
            if run_id not in wanted:
                continue
            if status in OPEN_STATUSES:
                tasks[run_id][index] = None
            else:  # done, or cancelled by someone: the step is over, on the day it closed
                tasks[run_id][index] = completed_on or workspace.local_day(updated_at)
    for queryset in _of_runs(RunAction.objects.for_workspace(workspace), wanted):
        for run_id, index, done_on in queryset.values_list("run_id", "step_index", "done_on"):
            if run_id in wanted:
                actions[run_id][index] = done_on
    due_tasks, due_actions, complete = [], [], []
    for run in runs:
        done = {**tasks[run.pk], **actions[run.pk]}
        steps = run.version.definition["steps"]
        due = _due_steps(steps, run=run, done=done, as_of=as_of)
        for index, on in due:
            (due_tasks if steps[index]["kind"] == "task" else due_actions).append((run, index, on))
            # A task created now is open; an action is done now.
            done[index] = None if steps[index]["kind"] == "task" else as_of
        if len(done) == len(steps) and all(day is not None for day in done.values()):
            complete.append(run)
    counts["tasks"] = _create_tasks(workspace=workspace, due=due_tasks, as_of=as_of, actor=actor)
    counts["actions"] = _do_actions(workspace=workspace, due=due_actions, as_of=as_of)
    counts["completed"] = len(_end(workspace=workspace, runs=complete, status=RunStatus.COMPLETED,
                                   why=_("All steps are done."), open_tasks="keep", as_of=as_of, actor=actor))
    return counts


def _of_runs(queryset, run_ids):
    """`queryset` (tasks or actions) narrowed to the rows of these active runs (see _narrowed); for
    many, one join on the active runs."""
    return _narrowed(queryset, run_ids, field="run_id", many=queryset.filter(run__status=RunStatus.ACTIVE))


def _narrowed(queryset, ids, *, field="pk", many=None):
    """The querysets to read for the rows of `ids`: IN lists of CHUNK ids for a few; for a night's
    many (over MANY_ACCOUNTS), one read of `many` (default: all of `queryset`), whose rows the caller
    filters itself, instead of one IN list per few hundred ids."""
    if len(ids) > MANY_ACCOUNTS:
        return [queryset if many is None else many]
    return [queryset.filter(**{f"{field}__in": chunk}) for chunk in chunks(ids, CHUNK)]


def _due_steps(steps, *, run, done, as_of):
    """[(step index, the day it falls due)] of the steps not created yet and due by `as_of`.

    `done`: {index: the day the step was done, or None while its task is open}. A step counts from
    the enrolment or from the previous step's completion; an action step due now is done now, so the
    next step may count from it in the same pass."""
    done = dict(done)
    due = []
    for index, step in enumerate(steps):
        if index in done:
            continue
        if step.get("from") == "previous" and index > 0:
            previous = done.get(index - 1)
            if previous is None:
                continue
            on = previous + dt.timedelta(days=step.get("day", 0))
        else:
            on = run.started_on + dt.timedelta(days=step.get("day", 0))
        if on <= as_of:
            due.append((index, on))
            done[index] = as_of if step["kind"] != "task" else None
    return due


def _create_tasks(*, workspace, due, as_of, actor=PLAYBOOKS):
    if not due:
        return 0
    accounts = _placeholder_rows(workspace, {run.account_id for run, _i, _on in due})
    reasons = {}
    wanting_reason = {run.account_id for run, index, _on in due
                      if any(uses(run.version.definition["steps"][index].get(f), "health_reason")
                             for f in ("title", "description"))}
    if wanting_reason:
        reasons = weakest_groups(workspace=workspace, account_ids=wanting_reason, on_or_before=as_of)
    renewals = {}
    wanting_renewal = {run.account_id for run, index, _on in due
                       if any(uses(run.version.definition["steps"][index].get(f), "renewal_date")
                              for f in ("title", "description"))}
    if len(wanting_renewal) > MANY_ACCOUNTS:  # two queries for the whole workspace beat many IN lists
        renewals = next_renewal_by_account(workspace=workspace, as_of=as_of)
    elif wanting_renewal:
        for chunk in chunks(wanting_renewal, CHUNK):
            renewals.update(next_renewal_by_account(workspace=workspace, as_of=as_of, account_ids=chunk))
    picker = Picker(workspace=workspace)
    now = timezone.now()
    rows = []
    for run, index, on in sorted(due, key=lambda item: (item[0].pk, item[1])):
        step = run.version.definition["steps"][index]
        account = accounts.get(run.account_id)
        if account is None:
            continue
        values = account_values(account, health_reason=reasons.get(run.account_id),
                                renewal_date=renewals.get(run.account_id))
        rows.append((
            workspace.pk, run.account_id, TaskSource.PLAYBOOK, run.pk, index,
            picker.pick(rule=step.get("assignee") or {"rule": "owner"}, owner_id=account["owner_id"],
                        playbook_id=run.playbook_id),
            step.get("type", "call"), step.get("priority", 2), render(step.get("title"), values)[:200],
            render(step.get("description", ""), values), on + dt.timedelta(days=step.get("due_days", 0)),
            TaskStatus.OPEN, "", "", now, now,
        ))
    # Plain rows, not a model instance each: a first night creates tens of thousands. A step's task
    # that a concurrent evaluation created first is skipped (one task per run and step), and only
    # the tasks this call inserted come back.
    inserted = insert_rows(Task, TASK_COLUMNS, rows, on_conflict_do_nothing=True,
                           returning=["id", "run_id", "step_index"])
    written = {(row[T_RUN], row[T_STEP]): row for row in rows}
    created = sorted((pk, written[(run_id, index)]) for pk, run_id, index in inserted)
    # Who made each task, in the log a member reads ("the playbooks, run 12, step 1"), as the task
    # services log a member's; one insert for the batch.
    record_audit_rows(workspace=workspace, actor=actor, action="task.created", object_type="task", rows=(
        (pk, row[T_TITLE], {"run": [None, str(row[T_RUN])], "step": [None, str(row[T_STEP] + 1)]})
        for pk, row in created))
    # Generators: a night's tens of thousands of payloads are built only if an endpoint listens.
    emit_many(workspace=workspace, event="task.created", payloads=({
        "task": pk, "account": row[T_ACCOUNT], "run": row[T_RUN], "step_index": row[T_STEP], "title": row[T_TITLE],
        "type": row[T_TYPE], "due_on": row[T_DUE].isoformat(), "assignee": row[T_ASSIGNEE], "source": row[T_SOURCE]}
        for pk, row in created))
    return len(created)


def _placeholder_rows(workspace, account_ids):
    """{account_id: what the placeholders read of it (placeholders.account_values)}, as plain values:
    a first night fills tens of thousands of tasks. Owners and stages are a workspace's few, read once;
    for many accounts the whole workspace is read at once rather than through many IN lists."""
    owners = {member.pk: member.display_name for member in
              Membership.objects.for_workspace(workspace).select_related("user")}
    stages = dict(LifecycleStage.objects.for_workspace(workspace).values_list("pk", "name"))
    rows = {}
    for queryset in _narrowed(Account.objects.for_workspace(workspace).order_by(), account_ids):
        for pk, name, renewal_date, health_score, arr, owner_id, stage_id in queryset.values_list(
                "pk", "name", "renewal_date", "health_score", "arr", "owner_id", "stage_id"):
            if pk in account_ids:
                rows[pk] = {"name": name, "renewal_date": renewal_date, "health_score": health_score, "arr": arr,
                            "owner_id": owner_id, "owner": owners.get(owner_id), "stage": stages.get(stage_id)}
    return rows


# Above this many accounts, a reader reads the whole workspace's rows at once.
MANY_ACCOUNTS = 1000


# The columns of a task a playbook step creates, in the order _create_tasks writes them.
TASK_COLUMNS = ["workspace_id", "account_id", "source", "run_id", "step_index", "assignee_id", "type", "priority",
                "title", "description", "due_on", "status", "outcome", "external_id", "created_at", "updated_at"]
T_ACCOUNT, T_SOURCE, T_RUN, T_STEP, T_ASSIGNEE, T_TYPE, T_TITLE, T_DUE = (
    TASK_COLUMNS.index(name) for name in ("account_id", "source", "run_id", "step_index", "assignee_id", "type",
                                          "title", "due_on"))


def _do_actions(*, workspace, due, as_of):
    """Claim each due action step by inserting its RunAction (a concurrent evaluation's claim wins,
    and this one reads back only its own), then do it and keep its result."""
    if not due:
        return 0
    token = uuid.uuid4().hex
    RunAction.objects.bulk_create(
        [RunAction(workspace=workspace, run_id=run.pk, step_index=index, done_on=as_of, result={"batch": token})
         for run, index, _on in sorted(due, key=lambda item: (item[0].pk, item[1]))],
        ignore_conflicts=True, batch_size=1000)
    claimed = {(a.run_id, a.step_index): a for a in RunAction.objects.for_workspace(workspace)
               .filter(run_id__in=list({run.pk for run, _i, _on in due}), result__batch=token)}
    done = []
    additions = {}  # segment id → the claimed "add to a segment" actions: one write per segment
    for run, index, _on in sorted(due, key=lambda item: (item[0].pk, item[1])):
        action = claimed.get((run.pk, index))
        if action is None:
            continue
        step = run.version.definition["steps"][index]
        if step["kind"] == "add_to_segment":
            additions.setdefault(step["segment"], []).append((action, run))
            continue
        if step["kind"] == "webhook":  # nothing to write here: no savepoint
            action.result = _act(workspace=workspace, run=run, index=index, step=step)
            done.append(action)
            continue
        try:
            with transaction.atomic():
                action.result = _act(workspace=workspace, run=run, index=index, step=step)
        except DomainError as error:
            # The step could not be done (a stage deleted since): the run goes on; the result says why.
            action.result = {"error": str(error)}
        done.append(action)
    done += _add_to_segments(workspace=workspace, additions=additions)
    RunAction.objects.for_workspace(workspace).bulk_update(done, ["result"], batch_size=1000)
    return len(done)


def _add_to_segments(*, workspace, additions):
    """The "add to a segment" steps due, one write per segment (through the segments service, which
    adds the accounts and brings the segment's membership to today)."""
    segments = segments_by_id(workspace=workspace, ids=additions)
    done = []
    for segment_id, actions in sorted(additions.items()):
        segment = segments.get(segment_id)
        try:
            if segment is None:
                raise DomainError(_("The segment this step adds to no longer exists."), field="segment")
            add_to_segment(segment=segment, account_ids=sorted({run.account_id for _a, run in actions}),
                           actor=PLAYBOOKS, source="playbook")
            result = {"segment": segment_id}
        except DomainError as error:
            # As for the other steps: the run goes on; the result says why (segment deleted, or its
            # rules no longer count additions).
            result = {"error": str(error)}
        for action, _run in actions:
            action.result = result
            done.append(action)
    return done


def _act(*, workspace, run, index, step):
    kind = step["kind"]
    if kind == "webhook":
        payload = {**_run_payload(run), "step_index": index, "note": step.get("note", "")}
        emit(workspace=workspace, event="playbook.step", payload=payload)
        return {"event": "playbook.step"}
    account = Account.objects.for_workspace(workspace).get(pk=run.account_id)
    if kind == "add_tag":
        tags = sorted(set(account.tags.values_list("name", flat=True)) | {step["tag"]})
        update_account(account=account, actor=PLAYBOOKS, tags=tags)
        return {"tag": step["tag"]}
    if step["field"] == "stage":
        stage = LifecycleStage.objects.for_workspace(workspace).filter(pk=step["value"]).first()
        if stage is None:
            raise DomainError(_("The lifecycle stage this step sets no longer exists."), field="stage")
        update_account(account=account, actor=PLAYBOOKS, stage=stage)
        return {"stage": stage.pk}
    update_account(account=account, actor=PLAYBOOKS,
                   attributes={**(account.attributes or {}), step["name"]: step["value"]})
    return {"attribute": step["name"], "value": step["value"]}


# --- what pages and the API call ------------------------------------------------------------------


def advance_run(run, *, as_of=None, actor=PLAYBOOKS):
    """Create the due steps of one run now (after one of its tasks closed, by `actor`, whom the audit
    names for what follows); complete it when all its steps are done. Returns the counts."""
    workspace = run.workspace
    as_of = as_of or workspace.today()
    reset = _evaluating.set(True)
    try:
        with transaction.atomic():
            run = (PlaybookRun.objects.for_workspace(workspace).select_related("version", "playbook")
                   .filter(pk=run.pk, status=RunStatus.ACTIVE).first())
            if run is None:
                return {"tasks": 0, "actions": 0, "completed": 0}
            return _advance(workspace=workspace, runs=[run], as_of=as_of, actor=actor)
    finally:
        _evaluating.reset(reset)


@transaction.atomic
def end_run(*, run, actor, why, open_tasks="cancel"):
    """A member stops a run (status cancelled); its open tasks are cancelled or kept."""
    authorize(actor, "playbooks.enrol", run.account)
    if open_tasks not in ("cancel", "keep"):
        raise DomainError(_("Open tasks are either cancelled or kept."), field="open_tasks")
    if run.status != RunStatus.ACTIVE:
        raise DomainError(_("This run has already ended."), field="run")
    why = (why or "").strip() or _("Stopped by hand.")
    workspace = run.workspace
    ended = _end(workspace=workspace, runs=[run], status=RunStatus.CANCELLED, why=why, open_tasks=open_tasks,
                 as_of=workspace.today())
    if ended:
        record_audit(workspace=workspace, actor=actor, action="playbook_run.ended", obj=run,
                     changes={"status": [RunStatus.ACTIVE, RunStatus.CANCELLED], "why": [None, why[:200]],
                              "open_tasks": [None, open_tasks]})
    run.refresh_from_db()
    return run


HOLD_TEXT = {
    HoldReason.LIMIT: lambda: _("The playbook's enrolment limit is reached for this account."),
    HoldReason.COOLDOWN: lambda: _("The account is in the cooldown after its last run."),
    HoldReason.CONDITION: lambda: _("The account does not meet the playbook's condition."),
}


@transaction.atomic
def enrol_accounts(*, playbook, accounts, actor, as_of=None):
    """Enrol accounts by hand ("manual:<day>"), under the playbook's enrolment rules.

    Returns {"enrolled": [run ids], "skipped": [{"account": id, "why": text}]}."""
    authorize_role(actor, "playbooks.enrol")
    workspace = playbook.workspace
    member = acting_member(actor)
    if member is not None and member.workspace_id != workspace.pk:
        raise NotAllowed(_("Not found in this workspace."))
    as_of = as_of or workspace.today()
    enrolled, skipped = [], []
    allowed = {}
    for account in accounts:
        try:
            authorize(actor, "playbooks.enrol", account)
        except NotAllowed as refusal:
            skipped.append({"account": account.pk, "why": str(refusal)})
            continue
        if account.workspace_id != workspace.pk:  # the actor may be the platform
            skipped.append({"account": account.pk, "why": _("Not found in this workspace.")})
        elif account.status != AccountStatus.ACTIVE:
            skipped.append({"account": account.pk, "why": _("The account has churned.")})
        elif not playbook.enabled:
            skipped.append({"account": account.pk, "why": _("The playbook is disabled.")})
        else:
            allowed[account.pk] = Match(f"manual:{as_of.isoformat()}", {})
    version = newest_versions(workspace=workspace, playbook_ids=[playbook.pk]).get(playbook.pk)
    if allowed and version is None:
        raise DomainError(_("This playbook has no version yet."), field="playbook")
    if allowed:
        decision = _decide(workspace=workspace, playbook=playbook, definition=version.definition, matches=allowed,
                           as_of=as_of)
        for account_id in sorted(decision["active"]):
            skipped.append({"account": account_id, "why": _("The account is already running this playbook.")})
        for account_id in sorted(decision["done"]):
            skipped.append({"account": account_id, "why": _("The account was already enrolled today.")})
        for account_id, (reason, _match) in sorted(decision["held"].items()):
            skipped.append({"account": account_id, "why": HOLD_TEXT[reason]()})
        token = uuid.uuid4().hex
        by = member.pk if member is not None else str(actor)
        reset = _evaluating.set(True)
        try:
            new = _start_runs(workspace=workspace, playbook=playbook, version=version, as_of=as_of, token=token,
                              enrol=decision["enrol"], started_by=member, actor=actor,
                              why_of=lambda m: {"trigger": TriggerKind.MANUAL, "values": {}, "by": by,
                                                "batch": token})
            runs = list(PlaybookRun.objects.for_workspace(workspace).select_related("version", "playbook")
                        .filter(pk__in=[run.pk for run in new]))
            _advance(workspace=workspace, runs=runs, as_of=as_of, actor=actor)
        finally:
            _evaluating.reset(reset)
        enrolled = [run.pk for run in new]
        lost = set(decision["enrol"]) - {run.account_id for run in new}
        for account_id in sorted(lost):  # a concurrent enrolment won
            skipped.append({"account": account_id, "why": _("The account is already running this playbook.")})
    return {"enrolled": enrolled, "skipped": skipped}


def preview_playbook(*, workspace, definition, as_of=None, sample=10, playbook=None):
    """How many accounts `definition` (validated) would enrol today, how many match and how many are
    held back and why, with a sample. A pure read. With `playbook` (editing one), its runs count."""
    as_of = as_of or workspace.today()
    trigger = definition["trigger"]
    matches = trigger_matches(workspace=workspace, trigger=trigger, as_of=as_of)
    holds = {}
    if playbook is not None and playbook.pk:
        holds = {(h.account_id, h.reason_key): h
                 for h in PlaybookHold.objects.for_workspace(workspace).filter(playbook=playbook)}
    decision = _decide(workspace=workspace, playbook=playbook, definition=definition, matches=matches,
                       as_of=as_of, holds=holds)
    held = {"limit": 0, "cooldown": 0, "condition": 0, "active": len(decision["active"])}
    for reason, _match in decision["held"].values():
        held[reason] += 1
    held["limit"] += len(decision["done"])  # already ran for this occurrence: the once-per-reason limit
    chosen = sorted(decision["enrol"])[:max(0, sample)]
    names = dict(Account.objects.for_workspace(workspace).filter(pk__in=chosen).values_list("pk", "name"))
    return {
        "count": len(decision["enrol"]),
        "matching": len(matches),
        "held": held,
        "sample": [{"id": pk, "name": names.get(pk, ""),
                    "why": describe_why({"trigger": trigger["kind"], "values": decision["enrol"][pk].values})}
                   for pk in chosen],
    }


# --- accounts signals ------------------------------------------------------------------------------


def evaluate_event(*, workspace, account_ids, event):
    """At once, for the accounts an accounts signal names: the playbooks whose trigger that event
    can change (triggers.EVENT_KINDS) are evaluated for those accounts only, as the night would."""
    if _evaluating.get() or not account_ids:
        return None
    kinds = EVENT_KINDS[event]
    playbooks = list(Playbook.objects.for_workspace(workspace).filter(trigger_kind__in=kinds).values_list("pk", flat=True))
    if not playbooks:
        return None
    return evaluate_playbooks(workspace=workspace, as_of=workspace.today(), playbooks=playbooks,
                              account_ids=list(account_ids), by="event")


# Receivers of the accounts signals (connected in apps.py): one-line calls into evaluate_event.
def on_account_created(sender, *, workspace, account_ids, **kwargs):
    evaluate_event(workspace=workspace, account_ids=account_ids, event="account_created")


def on_stage_changed(sender, *, workspace, account_ids, **kwargs):
    evaluate_event(workspace=workspace, account_ids=account_ids, event="stage_changed")


def on_contact_left(sender, *, workspace, account_ids, **kwargs):
    evaluate_event(workspace=workspace, account_ids=account_ids, event="contact_left")


def on_handoff_completed(sender, *, workspace, account_ids, **kwargs):
    """Onboarding's handoff_completed (connected by the composition floor): "handoff received"."""
    evaluate_event(workspace=workspace, account_ids=account_ids, event="handoff_completed")
