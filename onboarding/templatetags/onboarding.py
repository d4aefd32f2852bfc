from django import template

from workspaces.policy import allows

from ..selectors import account_milestones, handoff_of, required_fields

register = template.Library()


@register.inclusion_tag("onboarding/_onboarding_panel.html", takes_context=True)
def onboarding_panel(context, account):
    """The account page's onboarding panel: the handoff's completeness and the milestones, each with its
    target day and done day (editable by the account's CSM or a manager)."""
    membership = context.get("membership")
    workspace = account.workspace
    handoff = handoff_of(workspace=workspace, account=account)
    required = required_fields(workspace)
    return {
        "account": account, "handoff": handoff,
        "missing": len(handoff.missing(required)) if handoff else len(required),
        "milestones": account_milestones(workspace=workspace, account=account),
        "can_edit": membership is not None and allows(membership, "onboarding.record_milestone", account),
        "csrf_token": context.get("csrf_token"),
    }
