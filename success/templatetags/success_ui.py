from django import template

from workspaces.policy import allows

from ..models import SuccessPlan
from ..selectors import with_figures

register = template.Library()


@register.inclusion_tag("success/_success_panel.html", takes_context=True)
def success_panel(context, account):
    """The account page's entry: the plan's state and gap, links to the plan and the report card."""
    membership = context.get("membership")
    # One query: the plan with its counts and gap annotated.
    plan = with_figures(SuccessPlan.objects.for_workspace(account.workspace).filter(account=account)).first()
    figures = None
    if plan is not None:
        figures = {"objectives": plan.objective_count, "achieved": plan.achieved_count, "gap": plan.gap,
                   "successful": plan.objective_count > 0 and plan.achieved_count == plan.objective_count}
    return {"account": account, "plan": plan, "figures": figures,
            "can_edit": membership is not None and allows(membership, "success.edit_plan", account)}


@register.filter
def level_of(levels, number):
    """The LevelDefinition of `number` from a {level: definition} dict (None when missing)."""
    return (levels or {}).get(number)
