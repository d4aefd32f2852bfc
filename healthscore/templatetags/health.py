"""`{% health_panel account %}`: the account page's health panel (score, explanation, trend, sentiment)."""

from django import template

from workspaces.policy import allows

from ..forms import SENTIMENT_RUBRIC, SentimentForm
from ..selectors import account_health

register = template.Library()


@register.inclusion_tag("healthscore/_panel.html", takes_context=True)
def health_panel(context, account):
    membership = context.get("membership")
    health = account_health(account=account)
    can_rate = bool(membership and allows(membership, "health.rate_sentiment", account))
    return {
        "account": account, "health": health, "current": health["current"], "rubric": SENTIMENT_RUBRIC,
        "sentiment_form": SentimentForm() if can_rate else None, "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }



@register.filter
def reason_label(alert, labels):
    """The label of the group an alert names (`{{ alert|reason_label:group_labels }}`), else its key."""
    return (labels or {}).get(alert.reason, alert.reason)
