"""Who is calling, and what a locked-out sign-in sees (django-axes; settings in cs_platform/settings.py).

Every sign-in goes through Django's `authenticate(request, ...)` — the login page, the admin site's,
the invitation page's — and django-axes counts the failures per (username, client address). After
AXES_FAILURE_LIMIT of them the pair is refused, even with the right password, for AXES_COOLOFF_TIME.
A workspace admin lifts a member's lockout on the members page (services.unlock_member); the site's
superuser sees every attempt in the Django admin.
"""

import ipaddress

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.shortcuts import render


def client_ip(request):
    """The client's address, for the sign-in lockout and the API throttles.

    The connection's own address, unless NUM_PROXIES proxies stand in front: then the address the
    outermost of them saw, counted from the right of X-Forwarded-For (what is further left is whatever
    the client sent, and proves nothing).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote
    candidate = addresses[-min(proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # not an address: the proxy setting does not match the deployment


def lockout_response(request, original_response, credentials):
    """The page a locked-out sign-in gets: 429, when to try again, and who can help sooner."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    response = render(request, "registration/locked_out.html", {
        "username": get_client_username(request, credentials) or "",
        "minutes": minutes,
    }, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
