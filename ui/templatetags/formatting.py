"""Numbers as the pages show them: money in the workspace currency, rates, signed changes.

    {% load formatting %}
    {{ account.arr|money:workspace.currency }}   {{ row.rate|rate }}   {{ change|signed }}
"""

from decimal import Decimal, InvalidOperation

from django import template

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
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}".strip()


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
