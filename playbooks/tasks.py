"""Writes of tasks: create, edit, reassign, snooze, complete (with the touch that did it), cancel, reopen.

Every write asks the policy first (workspaces.policy: "tasks.create", "tasks.change": managers every
task, a CSM the tasks assigned to them or on the accounts they own), checks that what the input names
(account, assignee) is of the task's workspace, and is audited. Completing a contact task logs the
touchpoint through accounts.services in the same transaction, so the touch counts for coverage at once
(accounts.signals.touchpoints_changed) and a refused touch leaves the task open.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import log_touchpoint
from webhooks.events import emit
from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError
from workspaces.models import Membership
from workspaces.policy import acting_member, authorize, authorize_role

from .engine import advance_run
from .models import CONTACT_TASK_CHANNELS, OPEN_STATUSES, Task, TaskSource, TaskStatus

EDITABLE_FIELDS = ("type", "title", "description", "due_on", "priority", "account", "assignee", "external_id")
MAX_DUE_YEARS = 10  # a due date further out is a typo, not a plan


def _check_account(workspace, account):
    if account is None or account.workspace_id != workspace.pk:
        raise DomainError(_("Choose an account of this workspace."), field="account")


def _check_assignee(workspace, assignee, *, field="assignee"):
    if assignee is None:
        return
    if not isinstance(assignee, Membership) or assignee.workspace_id != workspace.pk:
        raise DomainError(_("Choose a member of this workspace."), field=field)
    if not assignee.is_active:
        raise DomainError(_("This member is deactivated: choose an active member."), field=field)


def _check_fields(workspace, title, due_on):
    if not (title or "").strip():
        raise DomainError(_("Give the task a title."), field="title")
    if not isinstance(due_on, dt.date):
        raise DomainError(_("Give the task a due date."), field="due_on")
    today = workspace.today()
    if abs((due_on - today).days) > MAX_DUE_YEARS * 366:
        raise DomainError(_("Choose a due date within ten years of today."), field="due_on")


def task_payload(task):
    """What outbound webhooks say about a task (ids and values, no names of people)."""
    return {
        "id": task.pk, "account": {"id": task.account_id, "external_id": task.account.external_id},
        "assignee": task.assignee_id, "type": task.type, "title": task.title,
        "due_on": task.due_on.isoformat(), "priority": task.priority, "status": task.status,
        "source": task.source, "run": task.run_id, "external_id": task.external_id,
        "outcome": task.outcome, "touchpoint": task.touchpoint_id,
        "completed_on": task.completed_on.isoformat() if task.completed_on else None,
    }


@transaction.atomic
def create_task(*, workspace, actor, account, title, due_on, assignee=None, type="call", description="",
                priority=2, source=TaskSource.MANUAL, external_id=""):
    """A task made by a member on a page (source manual) or through the API (source api).

    The assignee defaults to the member who creates it. Playbook and alert tasks are written by
    their own services with their source."""
    if source not in (TaskSource.MANUAL, TaskSource.API):
        raise DomainError(_("Tasks made here are manual or from the API."), field="source")
    if assignee is None:
        assignee = acting_member(actor)
    task = Task(workspace=workspace, account=account, assignee=assignee, type=type, title=(title or "").strip(),
                description=description or "", due_on=due_on, priority=priority, source=source,
                external_id=external_id or "", created_by=acting_member(actor))
    authorize_role(actor, "tasks.create")  # the role first; the task's account and assignee decide next
    _check_account(workspace, account)
    authorize(actor, "tasks.create", task)
    _check_assignee(workspace, assignee)
    _check_fields(workspace, title, due_on)
    if external_id and Task.objects.for_workspace(workspace).filter(external_id=external_id).exists():
        raise DomainError(_("Another task of this workspace already has this external ID."), field="external_id")
    task.full_clean(exclude=["workspace", "account", "assignee", "run", "alert", "touchpoint"], validate_unique=False)
    task.save()
    record_audit(workspace=workspace, actor=actor, action="task.created", obj=task)
    emit(workspace=workspace, event="task.created", payload=task_payload(task))
    return task


@transaction.atomic
def update_task(*, task, actor, **fields):
    """Edit what a task asks (type, title, description, due date, priority) and whose and where it is.

    The actor must be allowed to change the task as it is and as it will be (a CSM cannot move a
    task onto an account and an assignee both outside their book)."""
    authorize(actor, "tasks.change", task)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
                          field=sorted(unknown)[0])
    workspace = task.workspace
    if "account" in fields:
        _check_account(workspace, fields["account"])
    if "assignee" in fields:
        _check_assignee(workspace, fields["assignee"])
    _check_fields(workspace, fields.get("title", task.title), fields.get("due_on", task.due_on))
    if "title" in fields:
        fields["title"] = fields["title"].strip()
    if fields.get("external_id") and Task.objects.for_workspace(workspace).filter(
            external_id=fields["external_id"]).exclude(pk=task.pk).exists():
        raise DomainError(_("Another task of this workspace already has this external ID."), field="external_id")
    changes = model_changes(task, fields)
    if not changes:
        return task
    for name, value in fields.items():
        setattr(task, name, value)
    authorize(actor, "tasks.change", task)
    task.full_clean(exclude=["workspace", "account", "assignee", "run", "alert", "touchpoint"], validate_unique=False)
    task.save()
    record_audit(workspace=workspace, actor=actor, action="task.updated", obj=task, changes=changes)
    return task


@transaction.atomic
def reassign_tasks(*, workspace, actor, tasks, assignee):
    """Give `tasks` to `assignee` (an active member of the workspace): all of them or, if the actor
    may not change one of them, none. Returns how many changed hands."""
    tasks = list(tasks)
    if not tasks:
        raise DomainError(_("Choose at least one task."), field="ids")
    for task in tasks:
        if task.workspace_id != workspace.pk:
            raise DomainError(_("Not found in this workspace."), field="ids")
        authorize(actor, "tasks.change", task)
    if assignee is None:
        raise DomainError(_("Choose the member who takes the tasks."), field="assignee")
    _check_assignee(workspace, assignee)
    moved = [task for task in tasks if task.assignee_id != assignee.pk]
    for task in moved:
        record_audit(workspace=workspace, actor=actor, action="task.reassigned", obj=task,
                     changes={"assignee": [task.assignee_id and str(task.assignee_id), str(assignee.pk)]})
    Task.objects.for_workspace(workspace).filter(pk__in=[t.pk for t in moved]).update(assignee=assignee)
    for task in moved:
        task.assignee = assignee
    return len(moved)


@transaction.atomic
def delete_task(*, task, actor):
    """Remove a task made by mistake (its touchpoint, if any, stays on the account's timeline)."""
    authorize(actor, "tasks.change", task)
    record_audit(workspace=task.workspace, actor=actor, action="task.deleted", obj=task)
    task.delete()


def _require_open(task):
    if task.status not in OPEN_STATUSES:
        raise DomainError(_("This task is already closed (%(status)s).") % {"status": task.get_status_display()},
                          field="status")


@transaction.atomic
def snooze_task(*, task, actor, until):
    """Put an open task away until `until` (after today): it leaves My book and the open lists, and
    the night wakes it on that day (wake_snoozed_tasks)."""
    authorize(actor, "tasks.change", task)
    _require_open(task)
    today = task.workspace.today()
    if not isinstance(until, dt.date) or until <= today:
        raise DomainError(_("Snooze until a day after today."), field="until")
    if (until - today).days > 366:
        raise DomainError(_("Snooze for a year at most."), field="until")
    changes = model_changes(task, {"status": TaskStatus.SNOOZED, "snoozed_until": until})
    task.status, task.snoozed_until = TaskStatus.SNOOZED, until
    task.save(update_fields=["status", "snoozed_until", "updated_at"])
    record_audit(workspace=task.workspace, actor=actor, action="task.snoozed", obj=task, changes=changes)
    return task


def wake_snoozed_tasks(*, workspace, as_of):
    """Open again every snoozed task of the workspace whose day has come (snoozed_until <= as_of).
    One statement; the night calls it before anything reads open tasks. Returns how many woke."""
    return Task.objects.for_workspace(workspace).filter(
        status=TaskStatus.SNOOZED, snoozed_until__lte=as_of).update(status=TaskStatus.OPEN, snoozed_until=None)


@transaction.atomic
def reopen_task(*, task, actor):
    """A done, cancelled or snoozed task open again (its touchpoint, if any, stays on the timeline)."""
    authorize(actor, "tasks.change", task)
    if task.status == TaskStatus.OPEN:
        raise DomainError(_("This task is already open."), field="status")
    changes = model_changes(task, {"status": TaskStatus.OPEN, "completed_on": None})
    task.status, task.snoozed_until, task.completed_on, task.completed_by = TaskStatus.OPEN, None, None, None
    task.save(update_fields=["status", "snoozed_until", "completed_on", "completed_by", "updated_at"])
    record_audit(workspace=task.workspace, actor=actor, action="task.reopened", obj=task, changes=changes)
    return task


reopen = reopen_task


@transaction.atomic
def cancel_task(*, task, actor, outcome=""):
    authorize(actor, "tasks.change", task)
    _require_open(task)
    changes = model_changes(task, {"status": TaskStatus.CANCELLED})
    task.status, task.snoozed_until = TaskStatus.CANCELLED, None
    if outcome:
        task.outcome = outcome
    task.completed_on, task.completed_by = task.workspace.today(), acting_member(actor)
    task.save(update_fields=["status", "snoozed_until", "outcome", "completed_on", "completed_by", "updated_at"])
    record_audit(workspace=task.workspace, actor=actor, action="task.cancelled", obj=task, changes=changes)
    if task.run_id:
        _after_close(task, actor)
    return task


def default_touch(task):
    """The touch a contact task's complete form offers: the task type's channel, now, its title."""
    channel = CONTACT_TASK_CHANNELS.get(task.type)
    if channel is None:
        return None
    return {"channel": channel, "summary": task.title}


@transaction.atomic
def complete_task(*, task, actor, outcome="", touch=None):
    """Close `task` as done, on the workspace's today, by the actor.

    `touch` ({channel, occurred_at, summary, contacts, sentiment}; all but the channel optional) logs the
    touchpoint that did it on the task's account, in the same transaction, and links it: the touch
    counts for coverage and the task closes with it. A refused or invalid touch leaves the task open."""
    authorize(actor, "tasks.change", task)
    _require_open(task)
    touchpoint = None
    if touch is not None:
        if not isinstance(touch, dict) or not touch.get("channel"):
            raise DomainError(_("Say how the customer was contacted (the channel)."), field="channel")
        touchpoint = log_touchpoint(
            account=task.account, actor=actor, channel=touch["channel"], occurred_at=touch.get("occurred_at"),
            summary=touch.get("summary") or task.title, contacts=list(touch.get("contacts") or ()),
            sentiment=touch.get("sentiment") or "neutral",
        )
    changes = model_changes(task, {"status": TaskStatus.DONE})
    task.status, task.snoozed_until = TaskStatus.DONE, None
    task.outcome = outcome or task.outcome
    task.completed_on, task.completed_by = task.workspace.today(), acting_member(actor)
    if touchpoint is not None:
        task.touchpoint = touchpoint
        changes["touchpoint"] = [None, str(touchpoint.pk)]
    task.save(update_fields=["status", "snoozed_until", "outcome", "completed_on", "completed_by", "touchpoint",
                             "updated_at"])
    record_audit(workspace=task.workspace, actor=actor, action="task.completed", obj=task, changes=changes)
    emit(workspace=task.workspace, event="task.completed", payload=task_payload(task))
    if task.run_id:
        _after_close(task, actor)
    return task


def _after_close(task, actor):
    """A playbook task closed (done or cancelled): its run moves on to its next step now (one that
    counts from this completion appears at once), and completes when every step is done."""
    advance_run(task.run, actor=actor)
