"""Writes of webhooks: endpoints (admins only), the deliveries that events queue, and each attempt.

Retries. An attempt that fails (no 2xx within the timeout, or a refused address) is tried again
after 1 minute, 5, 30 and 2 hours (`RETRY_DELAYS`), five attempts at most; then the
delivery is given up and counts as one failure of its endpoint. After `WEBHOOKS_DISABLE_AFTER`
(5) deliveries given up in a row, the endpoint is disabled with the reason on its page; a
delivery that succeeds resets the count. Pings are tried once and never count.

Every attempt first claims its delivery (a conditional update on the number of attempts), so the
task retried by Celery and the beat's sweep (`retry_due_deliveries`) never send one attempt twice.
"""

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import socket
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import SystemActor, acting_member, authorize

from . import transport
from .events import EVENTS, PING
from .models import Delivery, DeliveryStatus, Endpoint, new_secret

logger = logging.getLogger(__name__)
WEBHOOKS = SystemActor("webhooks")
# Seconds to wait before the 2nd, 3rd, 4th and 5th attempt.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 60 * 60)  # after attempts 1-4; the fifth is the last
MAX_ATTEMPTS = 5
USER_AGENT = "CS-Platform-Webhooks/1"
RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP)


def timeout_seconds():
    return getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 10)


def disable_after():
    return getattr(settings, "WEBHOOKS_DISABLE_AFTER", 5)


def retention_days():
    return getattr(settings, "WEBHOOKS_DELIVERY_RETENTION_DAYS", 30)


# --- endpoints --------------------------------------------------------------------------------------
def validate_url(url):
    url = (url or "").strip()
    if not url:
        raise DomainError(_("Enter the URL that receives the events."), field="url")
    if len(url) > 500:
        raise DomainError(_("The URL is longer than 500 characters."), field="url")
    try:
        transport.check_url(url)
    except transport.UnsafeURL as exc:
        raise DomainError(str(exc), field="url") from None
    return url


def validate_events(events):
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise DomainError(_("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))},
                          field="events")
    if not events:
        raise DomainError(_("Choose at least one event."), field="events")
    return events


@transaction.atomic
def register_endpoint(*, workspace, actor, url, events, description=""):
    """A new endpoint and its secret, which the caller shows once."""
    authorize(actor, "webhooks.manage")
    endpoint = Endpoint(workspace=workspace, url=validate_url(url), events=validate_events(events),
                        description=(description or "").strip(), created_by=acting_member(actor))
    endpoint.save()
    record_audit(workspace=workspace, actor=actor, action="webhook.created", obj=endpoint,
                 changes={"events": endpoint.events})
    return endpoint, endpoint.secret


@transaction.atomic
def update_endpoint(*, endpoint, actor, **fields):
    """Change url, description, events or enabled. Enabling clears the failure count and reason."""
    authorize(actor, "webhooks.manage", endpoint)
    changes = {}
    if "url" in fields and (fields["url"] or "").strip() != endpoint.url:
        # Checked only when it changes: a stored URL whose host no longer resolves stays editable.
        changes["url"] = [endpoint.url, validate_url(fields["url"])]
    if "events" in fields:
        events = validate_events(fields["events"])
        if events != endpoint.events:
            changes["events"] = [endpoint.events, events]
    if "description" in fields and (fields["description"] or "").strip() != endpoint.description:
        changes["description"] = [endpoint.description, (fields["description"] or "").strip()]
    if "enabled" in fields and bool(fields["enabled"]) != endpoint.enabled:
        changes["enabled"] = [endpoint.enabled, bool(fields["enabled"])]
    for name, (_old, new) in changes.items():
        setattr(endpoint, name, new)
    if changes.get("enabled") == [False, True]:
        endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
    elif changes.get("enabled") == [True, False]:
        endpoint.disabled_reason = _("Disabled by an admin.")
    if changes:
        endpoint.save()
        record_audit(workspace=endpoint.workspace, actor=actor, action="webhook.updated", obj=endpoint,
                     changes={k: [str(o), str(n)] for k, (o, n) in changes.items()})
    return endpoint


def enable_endpoint(*, endpoint, actor):
    return update_endpoint(endpoint=endpoint, actor=actor, enabled=True)


@transaction.atomic
def rotate_secret(*, endpoint, actor):
    """A new secret, effective for the next attempt; the caller shows it once."""
    authorize(actor, "webhooks.manage", endpoint)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    record_audit(workspace=endpoint.workspace, actor=actor, action="webhook.secret_rotated", obj=endpoint)
    return endpoint.secret


@transaction.atomic
def delete_endpoint(*, endpoint, actor):
    authorize(actor, "webhooks.manage", endpoint)
    record_audit(workspace=endpoint.workspace, actor=actor, action="webhook.deleted", obj=endpoint)
    endpoint.delete()


@transaction.atomic
def send_ping(*, endpoint, actor):
    """A test event ("ping") to this endpoint, enabled or not; tried once, counted nowhere."""
    authorize(actor, "webhooks.manage", endpoint)
    delivery = Delivery.objects.create(
        workspace=endpoint.workspace, endpoint=endpoint, event=PING, next_attempt_at=timezone.now(),
        payload={"message": "ping", "endpoint": endpoint.pk},
    )
    record_audit(workspace=endpoint.workspace, actor=actor, action="webhook.pinged", obj=endpoint)
    transaction.on_commit(lambda: enqueue(delivery.pk, manual=True))
    return delivery


@transaction.atomic
def retry_delivery(*, delivery, actor):
    """One more attempt now, whatever the schedule (the page's "Retry")."""
    authorize(actor, "webhooks.manage", delivery)
    if delivery.status == DeliveryStatus.DELIVERED:
        raise DomainError(_("This delivery was delivered; there is nothing to retry."), field="status")
    if not delivery.endpoint.enabled and delivery.event != PING:
        raise DomainError(_("The endpoint is disabled: enable it first."), field="endpoint")
    record_audit(workspace=delivery.workspace, actor=actor, action="webhook.delivery_retried", obj=delivery.endpoint,
                 changes={"delivery": delivery.pk, "event": delivery.event})
    transaction.on_commit(lambda: enqueue(delivery.pk, manual=True))
    return delivery


# --- queueing ----------------------------------------------------------------------------------------
def queue_deliveries(*, workspace, event, payloads):
    """Delivery rows for each payload and each enabled endpoint subscribed to `event`, written in
    the caller's transaction; their tasks are queued when it commits (none if it rolls back).

    The log is kept bounded here, on write: the workspace's deliveries older than
    WEBHOOKS_DELIVERY_RETENTION_DAYS (30) are deleted when new ones are queued."""
    # A handful of endpoints per workspace: the subscription is filtered here (JSON containment
    # is not portable between SQLite and PostgreSQL). Before the payloads are read: a batch write
    # may hand them over as a generator, never built when nobody listens.
    endpoints = [e for e in Endpoint.objects.for_workspace(workspace).filter(enabled=True) if event in e.events]
    if not endpoints:
        return []
    payloads = list(payloads)
    if not payloads:
        return []
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create([
        Delivery(workspace=workspace, endpoint=endpoint, event=event, payload=payload, created_at=now,
                 next_attempt_at=now)
        for payload in payloads for endpoint in endpoints
    ], batch_size=1000)
    Delivery.objects.for_workspace(workspace).filter(created_at__lt=now - dt.timedelta(days=retention_days())).delete()
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [enqueue(pk) for pk in ids])
    return deliveries


def enqueue(delivery_id, *, manual=False):
    """Queue one attempt. Never raises: the emitting request is done, and a delivery that could not
    be queued (broker down) or that failed in-process stays in the log for the beat or "Retry"."""
    from .tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), {"manual": manual},
                                    retry_policy={"max_retries": 0, "interval_start": 0,
                                                  "interval_step": 0, "interval_max": 0})
    except Exception:
        logger.warning("webhook delivery %s not queued or failed in-process; the sweep retries it", delivery_id,
                       exc_info=True)


# --- attempts ----------------------------------------------------------------------------------------
def sign(secret, timestamp, body):
    """"v1=" + hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def body_of(delivery):
    envelope = {"id": str(delivery.event_id), "event": delivery.event, "created_at": delivery.created_at.isoformat(),
                "workspace": delivery.workspace.slug, "data": delivery.payload}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def request_of(delivery, *, now=None):
    """(body, headers) of an attempt, signed with the endpoint's current secret."""
    body = body_of(delivery)
    timestamp = str(int((now or timezone.now()).timestamp()))
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.event_id),
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign(delivery.endpoint.secret, timestamp, body),
    }


@dataclass
class Attempt:
    status: str
    retry_in: int | None = None  # seconds until the next attempt, when one is scheduled


def _error_text(exc):
    if isinstance(exc, transport.UnsafeURL):
        return str(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"timed out after {timeout_seconds()} s"
    return f"{type(exc).__name__}: {exc}"[:300]


def attempt_delivery(delivery_id, *, manual=False):
    """Send one attempt of the delivery if it is due (or `manual`), record the outcome, and say
    whether and when to try again. None when there was nothing to do."""
    delivery = Delivery.all_workspaces.select_related("endpoint", "workspace").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.DELIVERED:
        return None
    endpoint, now = delivery.endpoint, timezone.now()
    if not endpoint.enabled and delivery.event != PING:
        Delivery.all_workspaces.filter(pk=delivery.pk).exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.GAVE_UP, next_attempt_at=None, last_error=_cut("endpoint disabled"))
        return Attempt(DeliveryStatus.GAVE_UP)
    if not manual and delivery.next_attempt_at and delivery.next_attempt_at > now + dt.timedelta(seconds=5):
        return None  # not due: another queued attempt (or the sweep) brought it here early
    lease = now + dt.timedelta(seconds=timeout_seconds() + 60)  # the sweep leaves an attempt in flight alone
    claimed = Delivery.all_workspaces.filter(pk=delivery.pk, attempts=delivery.attempts, status=delivery.status) \
        .update(attempts=F("attempts") + 1, next_attempt_at=lease)
    if not claimed:
        return None  # another worker took this attempt
    delivery.attempts += 1
    body, headers = request_of(delivery, now=now)
    code, error = None, ""
    try:
        code = transport.post(endpoint.url, body, headers, timeout=timeout_seconds())
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except (transport.UnsafeURL, OSError, http.client.HTTPException, ValueError) as exc:
        error = _error_text(exc)
    return _record(delivery, code=code, error=error, manual=manual)


def _cut(text):
    return str(text)[:300]


def _record(delivery, *, code, error, manual):
    now = timezone.now()
    fields = {"last_status_code": code, "last_error": _cut(error)}
    if not error:
        Delivery.all_workspaces.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, **fields)
        if delivery.event != PING:
            Endpoint.all_workspaces.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
                consecutive_failures=0)
        return Attempt(DeliveryStatus.DELIVERED)
    was_given_up = delivery.status == DeliveryStatus.GAVE_UP
    if delivery.event != PING and not was_given_up and delivery.attempts < MAX_ATTEMPTS:
        delay = RETRY_DELAYS[delivery.attempts - 1]
        Delivery.all_workspaces.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=now + dt.timedelta(seconds=delay), **fields)
        return Attempt(DeliveryStatus.FAILED, retry_in=delay)
    Delivery.all_workspaces.filter(pk=delivery.pk).update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None,
                                                          **fields)
    if delivery.event != PING and not was_given_up:
        _count_failure(delivery.endpoint, error)
    return Attempt(DeliveryStatus.GAVE_UP)


def _count_failure(endpoint, error):
    with transaction.atomic():
        Endpoint.all_workspaces.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        endpoint = Endpoint.all_workspaces.select_for_update().select_related("workspace").get(pk=endpoint.pk)
        limit = disable_after()
        if endpoint.enabled and endpoint.consecutive_failures >= limit:
            # Written in the workspace's language, like the other text the platform writes for it.
            with translation.override(endpoint.workspace.language):
                endpoint.disabled_reason = _cut(
                    _("Disabled after %(n)s deliveries failed in a row; last error: %(error)s")
                    % {"n": endpoint.consecutive_failures, "error": error})
            endpoint.enabled = False
            endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
            record_audit(workspace=endpoint.workspace, actor=WEBHOOKS, action="webhook.disabled", obj=endpoint,
                         changes={"reason": endpoint.disabled_reason})


def due_deliveries(*, now=None, grace_seconds=120):
    """Ids of deliveries whose attempt is overdue: their task was lost, never queued (broker down),
    or, in the embedded mode, never scheduled (tasks run in-process cannot wait)."""
    now = now or timezone.now()
    return list(Delivery.all_workspaces.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
        next_attempt_at__lte=now - dt.timedelta(seconds=grace_seconds),
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:1000])


def purge_old_deliveries(*, now=None):
    """Every workspace's deliveries older than the retention (the same bound queue_deliveries keeps)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    return Delivery.all_workspaces.filter(created_at__lt=cutoff).delete()[0]
