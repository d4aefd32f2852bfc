from django import template
from django.utils.translation import gettext as _

from workspaces.policy import allows

from ..selectors import account_coverage
from ..views import log_link

register = template.Library()


@register.filter
def log_url(row):
    """Link to the account page's quick log form with the covering channel preselected."""
    return log_link(row.account_id, row.fix_channel)


@register.filter
def breaks(row):
    """What breaks coverage, in words."""
    if row.covered:
        return ""
    if row.broken_rule == "never":
        return _("Never touched")
    if row.broken_rule == "cadence":
        return _("Cadence overdue")
    return row.broken_rule


@register.inclusion_tag("coverage/_coverage_panel.html", takes_context=True)
def coverage_panel(context, account):
    from ..forms import PinForm
    from ..models import TierPin

    membership = context.get("membership")
    pin = TierPin.objects.for_workspace(account.workspace).filter(account=account).select_related("pinned_by__user").first()
    return {
        "account": account, "row": account_coverage(account=account), "pin": pin,
        "can_pin": bool(membership and allows(membership, "coverage.manage", account)),
        "pin_form": PinForm(initial={"tier": account.touch_tier or "low"}),
        "csrf_token": context.get("csrf_token"), "workspace": context.get("workspace"),
    }
