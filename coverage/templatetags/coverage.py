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


def _in_words(name):
    if name == "never":
        return _("Never touched")
    if name == "cadence":
        return _("Cadence overdue")
    return name


@register.filter
def breaks(row):
    """What breaks coverage first, in words."""
    if row.covered:
        return ""
    return _in_words(row.broken_rule)


@register.filter
def all_breaks(row):
    """Everything that breaks coverage, in words, cadence first then the rules (rows computed
    before the list was kept name only the first)."""
    if row.covered:
        return []
    return [_in_words(name) for name in (row.broken_rules or [row.broken_rule])]


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
