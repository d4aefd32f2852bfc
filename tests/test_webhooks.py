"""Outbound webhooks against a real HTTP server on 127.0.0.1: signing, retries, giving up, SSRF
refusals, subscriptions, transactions, and who may see and change endpoints and deliveries."""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import LifecycleStage
from onboarding.models import OnboardingSettings
from webhooks import services
from webhooks.events import emit
from webhooks.models import Delivery, DeliveryStatus, Endpoint
from webhooks.tasks import retry_due_deliveries
from workspaces.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver: records each request and answers the next queued status (200 after)."""

    def __init__(self):
        self.requests, self.statuses = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """sent(fn) runs fn in a transaction and its on-commit callbacks (the deliveries), as a request does."""

    def _run(fn):
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                return fn()

    return _run


def register(admin, receiver, events=("account.churned", "account.stage_changed")):
    return services.register_endpoint(workspace=admin.workspace, actor=admin, url=receiver.url, events=list(events))


def verify(secret, headers, body, tolerance=300):
    """The receiver's check, as docs/webhooks.md shows it."""
    timestamp = headers["X-Webhook-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Webhook-Signature"])


def overdue(delivery_ids=None):
    """Time passes: the scheduled attempts are now overdue (as the beat's sweep finds them)."""
    deliveries = Delivery.all_workspaces.filter(status__in=["pending", "failed"])
    if delivery_ids is not None:
        deliveries = deliveries.filter(pk__in=delivery_ids)
    deliveries.update(next_attempt_at=timezone.now() - dt.timedelta(minutes=10))


# --- delivery ----------------------------------------------------------------------------------------
def test_a_delivery_is_signed_with_the_endpoint_secret_and_carries_its_headers(admin, receiver, sent):
    endpoint, secret = register(admin, receiver)
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={"account": {"id": 7}}))
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert verify(secret, headers, body)
    assert not verify(secret + "x", headers, body)
    assert abs(int(headers["X-Webhook-Timestamp"]) - time.time()) < 60
    envelope = json.loads(body)
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    assert envelope == {"id": str(delivery.event_id), "event": "account.churned",
                        "created_at": delivery.created_at.isoformat(), "workspace": "acme-cs",
                        "data": {"account": {"id": 7}}}
    assert headers["X-Webhook-Id"] == str(delivery.event_id)
    assert headers["X-Webhook-Event"] == "account.churned"
    assert headers["Content-Type"].startswith("application/json")
    assert request["path"] == "/hooks/cs"
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert secret == endpoint.secret and secret.startswith("whsec_")


def test_a_failed_attempt_is_retried_later_then_delivered_with_the_same_id(admin, receiver, sent):
    endpoint, secret = register(admin, receiver)
    receiver.statuses = [500]
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={"n": 1}))
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    assert delivery.last_error == "HTTP 500"
    # The next attempt waits a minute (run in-process, nothing waits: the sweep or "Retry" brings it).
    assert 55 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 61
    assert retry_due_deliveries() == 0  # not due yet
    overdue()
    assert retry_due_deliveries() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    assert ids == {str(delivery.event_id)} and len(receiver.requests) == 2
    assert all(verify(secret, r["headers"], r["body"]) for r in receiver.requests)


def test_the_retry_schedule_backs_off(admin, receiver, sent):
    register(admin, receiver)
    receiver.statuses = [503] * 5
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    waits = []
    for _attempt in range(4):
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
        overdue()
        retry_due_deliveries()
    delivery.refresh_from_db()
    assert waits == [1, 5, 30, 120]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("gave_up", 5, None)
    assert len(receiver.requests) == 5


def test_an_endpoint_that_keeps_failing_is_disabled_with_the_reason_on_its_page(admin, receiver, sent, login):
    endpoint, _secret = register(admin, receiver)
    receiver.statuses = [500] * 25
    for n in range(5):
        sent(lambda n=n: emit(workspace=admin.workspace, event="account.churned", payload={"n": n}))
    for _round in range(4):
        overdue()
        retry_due_deliveries()
    endpoint.refresh_from_db()
    assert Delivery.objects.for_workspace(admin.workspace).filter(status="gave_up").count() == 5
    assert not endpoint.enabled and endpoint.consecutive_failures == 5
    assert endpoint.disabled_reason == "Disabled after 5 deliveries failed in a row; last error: HTTP 500"
    page = login(admin).get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert "Disabled after 5 deliveries failed in a row; last error: HTTP 500" in page.content.decode()
    # Disabled: nothing more is sent.
    requests = len(receiver.requests)
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={"n": 6}))
    assert len(receiver.requests) == requests
    # The admin enables it again: the count starts over; a success keeps it at zero.
    client = login(admin)
    assert client.post(reverse("webhooks:enable", args=[endpoint.pk]), {"enabled": "1"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0 and endpoint.disabled_reason == ""
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={"n": 7}))
    assert Delivery.objects.for_workspace(admin.workspace).filter(payload={"n": 7}, status="delivered").exists()


def test_a_success_resets_the_failure_count(admin, receiver, sent):
    endpoint, _secret = register(admin, receiver)
    Endpoint.objects.for_workspace(admin.workspace).filter(pk=endpoint.pk).update(consecutive_failures=3)
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_the_retry_button_tries_a_given_up_delivery_once_more(admin, receiver, sent, login, django_capture_on_commit_callbacks):
    register(admin, receiver)
    receiver.statuses = [500] * 5
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
    for _round in range(4):
        overdue()
        retry_due_deliveries()
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    assert delivery.status == "gave_up"
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin).post(reverse("webhooks:retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 6)


def test_only_subscribed_enabled_endpoints_receive_an_event(admin, sent):
    receivers = [Receiver() for _ in range(3)]
    try:
        churn, _ = services.register_endpoint(workspace=admin.workspace, actor=admin, url=receivers[0].url,
                                              events=["account.churned"])
        services.register_endpoint(workspace=admin.workspace, actor=admin, url=receivers[1].url,
                                   events=["alert.opened"])
        off, _ = services.register_endpoint(workspace=admin.workspace, actor=admin, url=receivers[2].url,
                                            events=["account.churned"])
        services.update_endpoint(endpoint=off, actor=admin, enabled=False)
        sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
        assert [len(r.requests) for r in receivers] == [1, 0, 0]
        assert list(Delivery.objects.for_workspace(admin.workspace).values_list("endpoint_id", flat=True)) == [churn.pk]
    finally:
        for r in receivers:
            r.close()


def test_nothing_is_sent_when_the_emitting_transaction_rolls_back(admin, receiver, django_capture_on_commit_callbacks):
    register(admin, receiver)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            emit(workspace=admin.workspace, event="account.churned", payload={})
            raise RuntimeError("the write failed")
    assert callbacks == [] and receiver.requests == []
    assert not Delivery.objects.for_workspace(admin.workspace).exists()


def test_an_unreachable_endpoint_does_not_break_the_write_that_emitted(admin, account, sent):
    endpoint, _ = services.register_endpoint(workspace=admin.workspace, actor=admin, url="http://127.0.0.1:9/closed",
                                             events=["account.churned"])
    result = sent(lambda: accounts.update_account(account=account, actor=admin, status="churned",
                                                  churn_reason="budget"))
    assert result is not None
    account.refresh_from_db()
    assert account.status == "churned"
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    assert delivery.status == "failed" and delivery.last_status_code is None and delivery.last_error


def test_unknown_events_are_refused():
    with pytest.raises(ValueError):
        emit(workspace=None, event="account.exploded", payload={})


# --- what emits ---------------------------------------------------------------------------------------
def test_a_stage_change_and_a_churn_emit_their_events(admin, csm, account, receiver, sent):
    OnboardingSettings.objects.for_workspace(admin.workspace).update(handoff_gates_stage=False)  # not the handoff gate's test
    register(admin, receiver)
    stages = list(LifecycleStage.objects.for_workspace(admin.workspace).exclude(pk=account.stage_id)
                  .order_by("position")[:2])
    sent(lambda: accounts.update_account(account=account, actor=csm, stage=stages[0]))
    sent(lambda: accounts.update_account(account=account, actor=csm, stage=stages[1]))
    sent(lambda: accounts.update_account(account=account, actor=csm, name="Sakura Logistics KK"))  # no move
    sent(lambda: accounts.update_account(account=account, actor=csm, status="churned", churn_reason="budget"))
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["event"] for b in bodies] == ["account.stage_changed", "account.stage_changed", "account.churned"]
    brief = {"id": account.pk, "name": "Sakura Logistics KK", "external_id": "crm-sakura"}
    first_from = bodies[0]["data"]["from_stage"]
    assert bodies[1]["data"] == {"account": brief, "from_stage": {"id": stages[0].pk, "name": stages[0].name},
                                 "to_stage": {"id": stages[1].pk, "name": stages[1].name}}
    assert bodies[0]["data"]["to_stage"]["id"] == stages[0].pk and first_from != bodies[0]["data"]["to_stage"]
    assert bodies[2]["data"] == {"account": brief, "reason": "budget", "churned_on": admin.workspace.today().isoformat()}


def test_an_import_of_many_stage_moves_emits_one_delivery_per_account(admin, sent, receiver):
    OnboardingSettings.objects.for_workspace(admin.workspace).update(handoff_gates_stage=False)  # not the handoff gate's test
    register(admin, receiver, events=["account.stage_changed"])
    ws = admin.workspace
    stage_a, stage_b = LifecycleStage.objects.for_workspace(ws).order_by("position")[:2]
    rows = [{"external_id": f"bulk-{i}", "name": f"Bulk {i}", "stage": stage_a} for i in range(5)]
    sent(lambda: accounts.bulk_upsert_accounts(workspace=ws, actor=admin, rows=rows))
    assert receiver.requests == []  # new accounts announce no move
    sent(lambda: accounts.bulk_upsert_accounts(workspace=ws, actor=admin,
                                               rows=[{**row, "stage": stage_b} for row in rows]))
    assert len(receiver.requests) == 5


# --- SSRF ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data/", "https://192.168.1.5/x",
    "https://[::ffff:10.0.0.1]/x", "https://100.64.0.1/x", "ftp://example.com/x", "https://user:pw@8.8.8.8/x",
])
def test_private_and_link_local_addresses_are_refused_at_registration(admin, api_for, url):
    with pytest.raises(DomainError) as refused:
        services.register_endpoint(workspace=admin.workspace, actor=admin, url=url, events=["account.churned"])
    assert refused.value.field == "url"
    response = api_for(admin).post("/api/v1/webhooks/", {"url": url, "events": ["account.churned"]}, format="json")
    assert response.status_code == 400 and "url" in response.json()
    assert not Endpoint.objects.for_workspace(admin.workspace).exists()


def test_loopback_and_plain_http_are_refused_unless_allowed(admin, settings, receiver):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    for url in (receiver.url, "https://127.0.0.1/x", "https://localhost/x", "http://8.8.8.8/x"):
        with pytest.raises(DomainError):
            services.register_endpoint(workspace=admin.workspace, actor=admin, url=url, events=["account.churned"])


def test_addresses_are_checked_again_at_delivery(admin, receiver, sent, settings):
    endpoint, _ = register(admin, receiver)
    # Registered while allowed; the deployment then refuses loopback (or a name now resolves inside).
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
    assert receiver.requests == []
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    assert delivery.status == "failed" and "private, loopback or link-local" in delivery.last_error
    Endpoint.objects.for_workspace(admin.workspace).filter(pk=endpoint.pk).update(url="https://169.254.169.254/x")
    overdue()
    retry_due_deliveries()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "link-local" in delivery.last_error


# --- pages and API --------------------------------------------------------------------------------------
def test_the_admin_registers_an_endpoint_and_sees_its_secret_once(admin, receiver, login):
    client = login(admin)
    response = client.post(reverse("webhooks:list"), {"url": receiver.url, "events": ["alert.opened"],
                                                      "description": "Slack relay"})
    assert response.status_code == 200
    endpoint = Endpoint.objects.for_workspace(admin.workspace).get()
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in client.get(reverse("webhooks:list")).content.decode()
    bad = client.post(reverse("webhooks:list"), {"url": "https://10.0.0.1/x", "events": ["alert.opened"]})
    assert bad.status_code == 400 and "private, loopback or link-local" in bad.content.decode()


def test_ping_and_rotate_from_the_page(admin, receiver, login, django_capture_on_commit_callbacks):
    endpoint, old = register(admin, receiver)
    client = login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("webhooks:ping", args=[endpoint.pk])).status_code == 302
    # (In a request, the ping is sent when the service's transaction commits, before the page says how
    # it went; here the test's own transaction holds it until the block ends.)
    page = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert 'data-status="delivered"' in page
    assert json.loads(receiver.requests[0]["body"])["event"] == "ping"
    response = client.post(reverse("webhooks:rotate_secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:ping", args=[endpoint.pk]))
    assert verify(endpoint.secret, receiver.requests[1]["headers"], receiver.requests[1]["body"])
    # The log filters by status and event.
    page = client.get(reverse("webhooks:detail", args=[endpoint.pk]), {"status": "delivered", "event": "ping"})
    assert page.content.decode().count('data-delivery="') == 2
    page = client.get(reverse("webhooks:detail", args=[endpoint.pk]), {"status": "failed"})
    assert 'data-delivery="' not in page.content.decode()


def test_the_api_registers_rotates_pings_and_lists_deliveries(admin, receiver, api_for, django_capture_on_commit_callbacks):
    api = api_for(admin)
    created = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["account.churned"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    listed = api.get("/api/v1/webhooks/").json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    pk = body["id"]
    rotated = api.post(f"/api/v1/webhooks/{pk}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        ping = api.post(f"/api/v1/webhooks/{pk}/ping/")
    assert ping.status_code == 202 and ping.json()["event"] == "ping"
    deliveries = api.get("/api/v1/webhook-deliveries/", {"event": "ping"}).json()
    assert deliveries["count"] == 1 and deliveries["results"][0]["status"] == "delivered"
    delivered = deliveries["results"][0]["id"]
    assert api.post(f"/api/v1/webhook-deliveries/{delivered}/retry/").status_code == 400  # nothing to retry
    bad = api.patch(f"/api/v1/webhooks/{pk}/", {"events": ["nope"]}, format="json")
    assert bad.status_code == 400 and "events" in bad.json()
    assert api.patch(f"/api/v1/webhooks/{pk}/", {"enabled": False}, format="json").json()["enabled"] is False
    assert api.delete(f"/api/v1/webhooks/{pk}/").status_code == 204


@pytest.mark.parametrize("role", ["manager", "csm", "viewer"])
def test_only_admins_manage_webhooks(request, role, admin, receiver, login, api_for):
    member = request.getfixturevalue(role)
    endpoint, _ = register(admin, receiver)
    delivery = Delivery.objects.create(workspace=admin.workspace, endpoint=endpoint, event="account.churned",
                                       status="failed")
    client = login(member)
    for url in (reverse("webhooks:list"), reverse("webhooks:detail", args=[endpoint.pk])):
        assert client.get(url).status_code == 403
    for url in (reverse("webhooks:ping", args=[endpoint.pk]), reverse("webhooks:retry", args=[delivery.pk]),
                reverse("webhooks:delete", args=[endpoint.pk])):
        assert client.post(url).status_code == 403
    api = api_for(member)
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.get("/api/v1/webhook-deliveries/").status_code == 403
    assert api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/retry/").status_code == 403
    with pytest.raises(NotAllowed):
        services.rotate_secret(endpoint=endpoint, actor=member)
    assert Endpoint.objects.for_workspace(admin.workspace).filter(pk=endpoint.pk).exists()
    assert receiver.requests == []


def test_another_workspace_admin_can_neither_see_count_nor_change_them(admin, outsider, receiver, login, api_for):
    endpoint, _ = register(admin, receiver)
    delivery = Delivery.objects.create(workspace=admin.workspace, endpoint=endpoint, event="account.churned",
                                       status="failed")
    api = api_for(outsider)
    assert api.get("/api/v1/webhooks/").json()["count"] == 0
    assert api.get("/api/v1/webhook-deliveries/").json()["count"] == 0
    assert api.get("/api/v1/webhook-deliveries/", {"endpoint": endpoint.pk}).status_code == 400
    assert api.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert api.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"enabled": False}, format="json").status_code == 404
    assert api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/").status_code == 404
    assert api.post(f"/api/v1/webhooks/{endpoint.pk}/ping/").status_code == 404
    assert api.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == 404
    assert api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/retry/").status_code == 404
    client = login(outsider)
    assert receiver.url not in client.get(reverse("webhooks:list")).content.decode()
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    for name in ("rotate_secret", "enable", "ping", "delete"):
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("webhooks:retry", args=[delivery.pk])).status_code == 404
    # An event of B never reaches A's endpoint.
    emit(workspace=outsider.workspace, event="account.churned", payload={})
    endpoint.refresh_from_db()
    assert endpoint.enabled and Delivery.all_workspaces.filter(endpoint=endpoint).count() == 1
    assert receiver.requests == []


def test_the_delivery_log_is_kept_thirty_days(admin, receiver, sent):
    endpoint, _ = register(admin, receiver)
    old = Delivery.objects.create(workspace=admin.workspace, endpoint=endpoint, event="account.churned",
                                  status="delivered", created_at=timezone.now() - dt.timedelta(days=31))
    recent = Delivery.objects.create(workspace=admin.workspace, endpoint=endpoint, event="account.churned",
                                     status="delivered", created_at=timezone.now() - dt.timedelta(days=29))
    sent(lambda: emit(workspace=admin.workspace, event="account.churned", payload={}))
    remaining = set(Delivery.objects.for_workspace(admin.workspace).values_list("pk", flat=True))
    assert recent.pk in remaining and old.pk not in remaining and len(remaining) == 2


def test_the_nightly_health_step_emits_each_opened_alert_once(ws, admin, csm, manager, account, receiver, sent):
    from healthscore.models import HealthAlert
    from healthscore.nightly import step as nightly_health
    from healthscore.selectors import default_scorecard
    from healthscore.services import rate_sentiment, save_scorecard

    from .health_data import at_noon

    card = default_scorecard(workspace=ws)
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition={
        "bands": {"red": 40, "green": 70}, "min_available_weight": 0.5,
        "groups": [{"key": "relationship", "label": "Relationship", "weight": 1, "measures": [
            {"key": "sentiment", "kind": "csm_sentiment", "weight": 1,
             "rule": {"type": "linear", "low": 1, "high": 5}}]}]})
    register(admin, receiver, events=["alert.opened"])
    day = ws.today() - dt.timedelta(days=21)
    day -= dt.timedelta(days=day.weekday())
    rate_sentiment(account=account, actor=csm, rating=4, rated_at=at_noon(account, day))
    sent(lambda: nightly_health(workspace=ws, as_of=day))
    assert receiver.requests == []
    rate_sentiment(account=account, actor=csm, rating=2, rated_at=at_noon(account, day + dt.timedelta(days=1)))
    sent(lambda: nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1)))
    sent(lambda: nightly_health(workspace=ws, as_of=day + dt.timedelta(days=1)))  # a rerun opens nothing new
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    alerts = {a.kind: a for a in HealthAlert.objects.for_workspace(ws)}
    assert sorted(b["data"]["alert"]["kind"] for b in bodies) == ["drop", "entered_red"]
    drop = next(b["data"] for b in bodies if b["data"]["alert"]["kind"] == "drop")
    assert drop["alert"]["id"] == alerts["drop"].pk and drop["alert"]["reason"] == "relationship"
    assert drop["alert"]["score"] == 25 and drop["account"]["external_id"] == "crm-sakura"


def test_the_django_admin_shows_a_workspace_admin_only_their_endpoints(admin, outsider, receiver, client):
    from webhooks.models import Endpoint as Hook

    mine, _ = register(admin, receiver)
    theirs = Hook.objects.create(workspace=outsider.workspace, url="https://hidden.example/x", events=["ping"])
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    page = client.get(reverse("admin:webhooks_endpoint_changelist"))
    assert page.status_code == 200
    assert mine.url in page.content.decode() and theirs.url not in page.content.decode()
    assert mine.secret not in client.get(reverse("admin:webhooks_endpoint_change", args=[mine.pk])).content.decode()


def test_run_by_a_worker_a_failed_attempt_asks_celery_to_retry(admin, receiver):
    """Not in-process (a worker's request): the task hands the next attempt to Celery's retry."""
    from celery.exceptions import Retry

    from webhooks.tasks import deliver_webhook

    register(admin, receiver)
    receiver.statuses = [500]
    with transaction.atomic():  # the test's transaction never commits: nothing is queued
        emit(workspace=admin.workspace, event="account.churned", payload={})
    delivery = Delivery.objects.for_workspace(admin.workspace).get()
    with pytest.raises(Retry):
        deliver_webhook(delivery.pk)  # called as a worker calls it (not eagerly)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    assert deliver_webhook(delivery.pk) is None  # early: the scheduled attempt is not due yet
    assert len(receiver.requests) == 1
