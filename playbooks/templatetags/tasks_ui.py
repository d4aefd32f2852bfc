"""`{% tasks_panel account %}`: the account page's tasks panel (open tasks, a few done ones, and the
playbooks running on the account with why each started)."""

from django import template

from workspaces.policy import allows

from ..describe import describe_why
from ..models import PlaybookRun, RunStatus, Task
from ..selectors import account_tasks

register = template.Library()


@register.inclusion_tag("playbooks/_account_tasks_panel.html", takes_context=True)
def tasks_panel(context, account):
    membership = context.get("membership")
    tasks = account_tasks(account=account)
    for task in tasks["open"]:
        task.can_change = bool(membership and allows(membership, "tasks.change", task))
    can_create = bool(membership and allows(membership, "tasks.create",
                                            Task(workspace=account.workspace, account=account, assignee=membership)))
    runs = list(PlaybookRun.objects.for_workspace(account.workspace).filter(account=account, status=RunStatus.ACTIVE)
                .select_related("playbook").order_by("-started_on", "-pk"))
    for run in runs:
        run.why_text = describe_why(run)
    return {"account": account, "tasks": tasks, "runs": runs, "can_create": can_create,
            "request": context.get("request")}


@register.inclusion_tag("playbooks/_plan_tasks_list.html")
def plan_tasks(account):
    """The account's open tasks on its success plan and report card (settings.SUCCESS_PLAN_PANELS)."""
    return {"account": account, "tasks": account_tasks(account=account)}
