"""Custom attributes (pushed by integrations as JSON) shown as label: value, never as JSON.

`{"risk_flags": ["late_payment", "champion_left"], "nps": 42, "is_partner": true}` reads
"Risk flags: late_payment, champion_left", "NPS: 42", "Is partner: Yes".
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

ACRONYMS = {"nps", "csat", "arr", "mrr", "id", "crm", "sla", "url"}


def attribute_label(key):
    """`risk_flags` → "Risk flags", `nps_score` → "NPS score", `openExpansions` stays readable."""
    words = str(key).replace("_", " ").replace("-", " ").split()
    if not words:
        return str(key)
    words = [w.upper() if w.lower() in ACRONYMS else w for w in words]
    first = words[0]
    words[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


def attribute_value(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{Decimal(str(value)):,}"
    if isinstance(value, list):
        return pgettext("list separator", ", ").join(attribute_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return pgettext("list separator", ", ").join(
            f"{attribute_label(k)}: {attribute_value(v)}" for k, v in sorted(value.items())) or "—"
    return str(value)


def attribute_rows(attributes):
    """[(key, label, value), …] of an account's custom attributes, sorted by label. The key stays at
    hand: a scorecard's custom measure names the attribute by it."""
    if not isinstance(attributes, dict):
        return []
    return sorted(((str(k), attribute_label(k), attribute_value(v)) for k, v in attributes.items()),
                  key=lambda row: row[1].lower())
