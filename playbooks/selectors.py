"""Reads of tasks: the list (through the one FilterSet), an account's tasks, a member's open tasks for
My book, and each CSM's load. Every read is scoped to one workspace.

The composition floor (homes) reads tasks only through the functions here.
"""

import datetime as dt

from django.db.models import Count, F, Q

from workspaces.models import Membership, Role

from .filtersets import TaskFilterSet, open_tasks_q
from .models import Task, TaskStatus

LOAD_DAYS = 30  # "done on time" looks back this many days
RECENT_DONE = 5  # done tasks shown under an account's open ones
RECENT_DONE_DAYS = 90  # ... from this many days back

# Sort keys of the task list (page and API): key -> ordering, ties broken by id.
TASK_ORDERINGS = {
    "due_on": ("due_on", "-priority"), "-due_on": ("-due_on", "-priority"),
    "priority": ("priority", "due_on"), "-priority": ("-priority", "due_on"),
    "title": ("title",), "-title": ("-title",),
    "account": ("account__name",), "-account": ("-account__name",),
    "assignee": ("assignee__user__first_name", "assignee__user__last_name"),
    "-assignee": ("-assignee__user__first_name", "-assignee__user__last_name"),
    "status": ("status", "due_on"), "-status": ("-status", "due_on"),
}


def tasks_of(*, workspace):
    return (Task.objects.for_workspace(workspace)
            .select_related("account", "account__owner__user", "assignee__user", "run__playbook"))


def task_list(*, workspace, filters=None, request=None, ordering="due_on"):
    tasks = tasks_of(workspace=workspace).order_by(*TASK_ORDERINGS.get(ordering, TASK_ORDERINGS["due_on"]), "id")
    if filters is not None:
        tasks = TaskFilterSet(filters, queryset=tasks, request=request).qs
    return tasks


def account_tasks(*, account, today=None, recent=RECENT_DONE, done_days=RECENT_DONE_DAYS):
    """{"open": the account's open tasks, soonest due first; "done": its last `recent` done ones of the
    last `done_days` days}. One query (the account page counts them)."""
    today = today or account.workspace.today()
    rows = list(tasks_of(workspace=account.workspace).filter(account=account).filter(
        Q(status__in=[TaskStatus.OPEN, TaskStatus.SNOOZED]) |
        Q(status=TaskStatus.DONE, completed_on__gte=today - dt.timedelta(days=done_days))
    ).order_by("due_on", "-priority", "id"))
    done = sorted((t for t in rows if t.status == TaskStatus.DONE), key=lambda t: (t.completed_on, t.pk), reverse=True)
    return {"open": [t for t in rows if t.status != TaskStatus.DONE], "done": done[:recent], "today": today}


def open_tasks_for_book(*, workspace, assignee, today, all_members=False):
    """The open tasks (snoozed ones whose day has come included) of `assignee` (a member; None:
    nobody's), or of everyone with `all_members`, on active accounts: My book's task source."""
    tasks = tasks_of(workspace=workspace).filter(open_tasks_q(today), account__status="active")
    if not all_members:
        tasks = tasks.filter(assignee=assignee) if assignee is not None else tasks.filter(assignee__isnull=True)
    return tasks.order_by("due_on", "-priority", "-account__arr", "id")


def task_load(*, workspace, today, days=LOAD_DAYS):
    """Each member's load, one row per member who has tasks (and every active CSM):
    open (snoozed ones whose day has come included), overdue (open and due before today), done in the
    last `days` days, and of those done on time (completed on or before the due day). One query."""
    since = today - dt.timedelta(days=days - 1)
    is_open = open_tasks_q(today)
    done = Q(status=TaskStatus.DONE, completed_on__gte=since, completed_on__lte=today)
    sums = {
        row["assignee_id"]: row for row in Task.objects.for_workspace(workspace).order_by().values("assignee_id").annotate(
            open=Count("id", filter=is_open),
            overdue=Count("id", filter=is_open & Q(due_on__lt=today)),
            done=Count("id", filter=done),
            on_time=Count("id", filter=done & Q(completed_on__lte=F("due_on"))),
        )
    }
    rows = []
    members = Membership.objects.for_workspace(workspace).select_related("user").order_by(
        "user__first_name", "user__last_name", "id")
    for member in members:
        if member.pk not in sums and not (member.is_active and member.role == Role.CSM):
            continue
        rows.append(_load_row(member, sums.get(member.pk)))
    if None in sums:
        rows.append(_load_row(None, sums[None]))
    return {"rows": rows, "since": since, "today": today, "days": days,
            "totals": {key: sum(r[key] for r in rows) for key in ("open", "overdue", "done", "on_time")}}


def _load_row(member, sums):
    sums = sums or {}
    done, on_time = sums.get("done", 0), sums.get("on_time", 0)
    return {"member": member, "open": sums.get("open", 0), "overdue": sums.get("overdue", 0), "done": done,
            "on_time": on_time, "on_time_rate": round(on_time * 100 / done, 1) if done else None}
