"""`{% tasks_panel account %}`: the account page's tasks panel (open tasks, a few done ones)."""

from django import template

from workspaces.policy import allows

from ..models import Task
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
    return {"account": account, "tasks": tasks, "can_create": can_create, "request": context.get("request")}
