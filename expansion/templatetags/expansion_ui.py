"""`{% toss_ups_panel account %}`: the account page's toss-ups (the latest ones and a link to log one)."""

from django import template

from workspaces.policy import allows

from ..models import Opportunity
from ..selectors import account_opportunities

register = template.Library()


@register.inclusion_tag("expansion/_account_panel.html", takes_context=True)
def toss_ups_panel(context, account):
    membership = context.get("membership")
    can_create = bool(membership and allows(membership, "opportunities.create",
                                            Opportunity(workspace=account.workspace, account=account)))
    return {"account": account, "opportunities": account_opportunities(account=account, limit=5),
            "can_create": can_create, "request": context.get("request")}
