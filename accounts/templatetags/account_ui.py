"""The account's health badge, as every list shows it.

    {% load account_ui %}
    {% health_badge account %}
"""

import re

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def health_badge(account):
    """The account's health score as a badge coloured by its band; an em dash when there is none."""
    if account.health_score is None:
        return format_html('<span class="muted">{}</span>', "—")
    band = re.sub(r"[^a-z0-9-]", "", (account.health_band or "na").lower()) or "na"
    label = account.get_health_band_display() if account.health_band else ""  # "Green", translated
    return format_html('<span class="badge band-{}" title="{}">{}</span>', band, label, f"{account.health_score:.0f}")


@register.filter
def channel_label(code):
    """A touchpoint channel's label ("phone" → "Phone" / 電話); an unknown code is shown as is."""
    from accounts.models import Channel

    labels = dict(Channel.choices)
    return str(labels[code]) if code in labels else code


@register.filter
def channel_labels(codes):
    """A list of channel codes as their labels, joined: ["phone", "email"] → "Phone, Email"."""
    from django.utils.translation import pgettext

    return pgettext("list separator", ", ").join(channel_label(code) for code in codes or [])
