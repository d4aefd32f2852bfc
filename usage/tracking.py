"""The tracking API: Segment/RudderStack-compatible `POST /v1/batch` and the single-call routes.

Plain Django views on purpose: no DRF parsing, content negotiation or session work on a route
that takes hundreds of requests per second. Statuses follow what the SDKs do with them:
exactly 200 on success (Rudder and the legacy SDK resend on any other 2xx), 400/401/413 with a
JSON body holding both `code` and `message` for a request to drop, 429 (over the write key's rate)
and 503 (database down or busy) with Retry-After for "try again".
"""

import base64
import binascii
import json
import logging
import math
import time

from django.conf import settings as django_settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.throttling import SimpleRateThrottle

from . import services
from .ingest import RequestError, check_batch_size, parse_batch, parse_json, read_body

logger = logging.getLogger(__name__)

# Rudder batches reach 4 MiB; Segment's are under 500 KB. The site-wide Django limit stays as is.
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
DEFAULT_RETRY_AFTER_SECONDS = 5
# Twice the design target for one key (10,000 events/s in batches of 100: docs/benchmarks.md).
DEFAULT_RATE_LIMIT = "200/s"
OK_BODY = b'{"success":true}'


def _json_response(status, code, message, retry_after=None):
    response = HttpResponse(
        json.dumps({"code": code, "message": str(message)}), status=status, content_type="application/json"
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _retry_after():
    return getattr(django_settings, "USAGE_INGEST_RETRY_AFTER_SECONDS", DEFAULT_RETRY_AFTER_SECONDS)


def _basic_user(request):
    """The user name of HTTP Basic auth (the write key); the password is empty by convention."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise RequestError(401, "invalid_write_key", _("The Authorization header is not valid Basic auth.")) from None
    user, _sep, password = decoded.partition(":")
    return user or password


class WriteKeyRateThrottle(SimpleRateThrottle):
    """Requests per write key, DRF's sliding window on Django's cache (Redis in production, so
    every process counts together). The rate is the USAGE_INGEST_RATE_LIMIT setting, e.g. "200/s";
    None ("off" in the environment) turns the limit off. Keyed on the key's hash, never the plaintext."""

    scope = "tracking"

    def __init__(self, write_key):
        self.write_key = write_key
        super().__init__()

    def get_rate(self):
        return getattr(django_settings, "USAGE_INGEST_RATE_LIMIT", DEFAULT_RATE_LIMIT) or None

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.write_key.key_hash[:32]}


def _rate_limited(write_key):
    """None when the request may go on, else the 429 (every SDK retries it; Segment's after
    Retry-After)."""
    try:
        throttle = WriteKeyRateThrottle(write_key)
        if throttle.allow_request(None, None):
            return None
    except Exception:
        # The cache (Redis) is down, or the rate setting is malformed: storing events needs only
        # the database, so keep accepting, and say so in the log.
        logger.warning("tracking API: rate limit not checked", exc_info=True)
        return None
    logger.info("tracking API: write key %s… over its rate of %s", write_key.key_hint, throttle.rate)
    return _json_response(429, "rate_limited", _("Too many requests for this write key; slow down."),
                          retry_after=max(1, math.ceil(throttle.wait() or 1)))


def _authenticate(key):
    if not key:
        raise RequestError(401, "missing_write_key", _("Send the workspace write key as the Basic auth user name."))
    found = services.authenticate_write_key(key=key)
    if found is None:
        raise RequestError(401, "invalid_write_key", _("The write key is unknown or revoked."))
    return found


def _test_fault():
    """Fault injection for the SDK tests only: USAGE_INGEST_FAULTS is a list the tests fill.

    "unavailable" answers 503 once without storing anything; "slow:N" stores the batch and then
    holds the 200 back N seconds, as a busy server would. Unset in every real deployment.
    """
    faults = getattr(django_settings, "USAGE_INGEST_FAULTS", None)
    if faults:
        try:
            return faults.pop(0)
        except IndexError:
            return None
    return None


def _handle(request, forced_type=None):
    if request.method != "POST":
        response = _json_response(405, "method_not_allowed", _("Send events with POST."))
        response["Allow"] = "POST"
        return response
    fault = _test_fault()
    if fault == "unavailable":
        return _json_response(503, "unavailable", _("Try again shortly."), retry_after=_retry_after())
    received_at = timezone.now()
    try:
        # The key is usually in the header: check it, and the key's rate, before reading the body.
        key = _basic_user(request)
        found = _authenticate(key) if key else None
        if found is not None and (limited := _rate_limited(found[0])):
            return limited
        max_bytes = getattr(django_settings, "USAGE_INGEST_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        body = read_body(request, max_bytes=max_bytes)
        payload = parse_json(body)
        if not isinstance(payload, dict):
            raise RequestError(400, "invalid_request", _("The body must be a JSON object."))
        if found is None:
            # Segment 2.x also puts the key in the body; a caller may send it there only.
            found = _authenticate(payload.get("writeKey") if isinstance(payload.get("writeKey"), str) else None)
            if limited := _rate_limited(found[0]):
                return limited
        write_key, ingest_settings = found
        if forced_type is None:
            messages = payload.get("batch")
            if not isinstance(messages, list):
                raise RequestError(400, "invalid_batch", _("The body needs a \"batch\" list of messages."))
            check_batch_size(len(body), messages)
            sent_at = payload.get("sentAt")
        else:
            messages = [payload]
            sent_at = None  # a single call's own sentAt is read from the message
        parsed = parse_batch(
            messages, received_at=received_at, sent_at=sent_at, mapping=ingest_settings.trait_mapping,
            forced_type=forced_type,
        )
        services.ingest_batch(
            workspace=write_key.workspace, settings=ingest_settings, parsed=parsed, received_at=received_at
        )
        services.note_key_used(write_key=write_key, at=received_at)
    except RequestError as error:
        return _json_response(error.status, error.code, error.message)
    except (OperationalError, InterfaceError):
        # Database down, locked or a deadlock between two batches: nothing was committed, so the
        # SDK's retry is safe and the messageIds keep it exactly-once.
        logger.warning("tracking API: database unavailable, asked the client to retry", exc_info=True)
        return _json_response(503, "unavailable", _("Storage is busy; try again shortly."),
                              retry_after=_retry_after())
    if forced_type is not None and parsed.rejected:
        # A plain HTTP caller sent exactly one message: tell it why it was set aside.
        return _json_response(400, "invalid_message", parsed.rejected[0][0])
    if isinstance(fault, str) and fault.startswith("slow:"):
        time.sleep(float(fault.split(":", 1)[1]))
    return HttpResponse(OK_BODY, status=200, content_type="application/json")


@csrf_exempt
def batch(request):
    return _handle(request)


def _single(message_type):
    @csrf_exempt
    def view(request):
        return _handle(request, forced_type=message_type)

    view.__name__ = f"{message_type}_view"
    return view


track = _single("track")
identify = _single("identify")
group = _single("group")
page = _single("page")
screen = _single("screen")
alias = _single("alias")
