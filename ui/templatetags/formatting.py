"""Numbers as the pages show them: money in the workspace currency, counts, rates, signed changes.

    {% load formatting %}
    {{ account.arr|money:workspace.currency }}   {{ accounts|number }}   {{ row.rate|rate }}   {{ change|signed }}

Money and counts follow the active language (Japanese: 1,234円; English: ¥1,234) and always group
thousands. USE_THOUSAND_SEPARATOR stays off (it would put commas into ids in URLs and data
attributes): use these filters where a person reads a number, never for machine values.
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation

register = template.Library()

SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "CN¥", "KRW": "₩", "INR": "₹"}
# ISO 4217 currencies without minor units: showing ".00" would look wrong.
ZERO_DECIMALS = {"JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"}


@register.filter
def money(value, currency="JPY"):
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    currency = (currency or "").upper()
    digits = 0 if currency in ZERO_DECIMALS else 2
    number = f"{amount:,.{digits}f}"
    if currency == "JPY" and _japanese():
        return f"-{number[1:]}円" if number.startswith("-") else f"{number}円"
    symbol = SYMBOLS.get(currency)
    if not symbol:
        return f"{number} {currency}".strip()
    return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"


def _japanese():
    return (translation.get_language() or "").split("-")[0] == "ja"


@register.filter
def number(value, digits=0):
    """A count or amount that is not money, thousands grouped: 12345 → 12,345; `|number:1` → 12,345.6."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
        digits = int(digits)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return f"{amount:,.{digits}f}"


@register.filter
def rate(value):
    """A percentage already in 0-100, e.g. a coverage rate."""
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def pct(value):
    """A share in 0-1 as a whole percentage."""
    return "—" if value is None else f"{value * 100:.0f}%"


@register.filter
def signed(value):
    return "—" if value is None else f"{value:+.1f}"


@register.filter
def delta_class(value):
    if not value:
        return ""
    return "delta-up" if value > 0 else "delta-down"


@register.filter
def field_label(form, name):
    field = form.fields.get(name)
    return field.label if field is not None and field.label else name
