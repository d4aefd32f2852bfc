from django import template

from ..selectors import account_level

register = template.Library()


@register.inclusion_tag("lifecycle/_account_panel_body.html")
def lifecycle_panel(account):
    return {"account": account, "level": account_level(account=account), "stage": account.stage}
