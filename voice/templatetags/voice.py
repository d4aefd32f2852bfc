from django import template

from workspaces.policy import allows

from ..selectors import account_requests, account_responses

register = template.Library()


@register.inclusion_tag("voice/_voice_panel.html", takes_context=True)
def voice_panel(context, account):
    """The account page's voice panel: what it asked for, its latest survey answers, a link to add."""
    membership = context.get("membership")
    return {
        "account": account, "workspace": account.workspace,
        "requests": list(account_requests(workspace=account.workspace, account=account)[:10]),
        "responses": list(account_responses(workspace=account.workspace, account=account, limit=5)),
        "can_add": membership is not None and allows(membership, "voice.add_evidence", account),
    }
