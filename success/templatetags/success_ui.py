from django import template

from workspaces.policy import allows

from ..selectors import plan_figures, plan_of

register = template.Library()


@register.inclusion_tag("success/_success_panel.html", takes_context=True)
def success_panel(context, account):
    """The account page's entry: the plan's state and gap, links to the plan and the report card."""
    membership = context.get("membership")
    plan = plan_of(workspace=account.workspace, account=account)
    return {"account": account, "plan": plan, "figures": plan_figures(plan) if plan else None,
            "can_edit": membership is not None and allows(membership, "success.edit_plan", account)}


@register.filter
def level_of(levels, number):
    """The LevelDefinition of `number` from a {level: definition} dict (None when missing)."""
    return (levels or {}).get(number)
