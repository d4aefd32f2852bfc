"""Small display helpers for account pages: money in the workspace currency and health badges.

    {% load account_ui %}
    {{ account.arr|money:workspace.currency }}
    {% health_badge account %}
"""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

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


@register.simple_tag
def health_badge(account):
    """The account's health score as a badge coloured by its band; an em dash when there is none."""
    if account.health_score is None:
        return format_html('<span class="muted">—</span>')
    band = re.sub(r"[^a-z0-9-]", "", (account.health_band or "na").lower()) or "na"
    return format_html(
        '<span class="badge band-{}" title="{}">{}</span>', band, account.health_band or "", f"{account.health_score:.0f}"
    )


@register.filter
def field_label(form, name):
    field = form.fields.get(name)
    return field.label if field is not None and field.label else name
