"""The database connection drops while the tracking API stores a batch.

The backend storing the batch is ended from another connection (pg_terminate_backend, what a
failover, a restarted PostgreSQL or a pooler's timeout does to a session) while it is inside the
batch's transaction: nothing of the batch is committed, the API answers 503 with Retry-After (which
every SDK retries, never drops), and the SDK's retry stores every message exactly once.
"""

import json
import threading
import time

import pytest
import requests
from django.db import connections

from accounts.models import Account
from usage.models import ProductUser, UsageEvent
from usage.services import create_write_key
from workspaces.policy import SYSTEM

from .fault_helpers import WebServer, end_other_sessions, hold_first_insert, require_postgresql
from .ingest_helpers import SDKS, basic_auth, make_client, post_batch, track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def write_key(ws):
    require_postgresql()
    return create_write_key(workspace=ws, name="product", actor=SYSTEM)[1]


def terminate_when_held(hold):
    """From a connection of its own: wait for the batch to reach the hook, then end its session."""
    def run():
        try:
            pid = hold.wait_until_held(timeout=30)
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_batch_whose_connection_drops_answers_503_and_its_retry_is_stored_once(ws, account, write_key, client):
    batch = [
        {"type": "group", "messageId": "g-1", "userId": "user-1", "groupId": "acct-new", "traits": {"name": "New KK"}},
        track("t-1", group_id="crm-sakura"),
        track("t-2", group_id="acct-new"),
    ]
    with hold_first_insert(UsageEvent._meta.db_table, when=f"NEW.workspace_id = {ws.pk}", seconds=20) as hold:
        killer = terminate_when_held(hold)
        response = post_batch(client, write_key, batch)
        killer.join(30)
        assert response.status_code == 503
        assert response.json()["code"] == "unavailable" and int(response["Retry-After"]) > 0
        # Nothing of the batch was committed: not the account its group call created, not the user.
        assert not Account.objects.for_workspace(ws).filter(external_id="acct-new").exists()
        assert not UsageEvent.objects.for_workspace(ws).exists()

        # The SDK sends the same batch again (same messageIds); the hook lets it through this time.
        response = post_batch(client, write_key, batch)
    assert response.status_code == 200
    assert sorted(UsageEvent.objects.for_workspace(ws).values_list("message_id", flat=True)) == ["t-1", "t-2"]
    assert Account.objects.for_workspace(ws).filter(external_id="acct-new").count() == 1
    assert ProductUser.objects.for_workspace(ws).filter(user_id="user-1").count() == 1
    new_account = Account.objects.for_workspace(ws).get(external_id="acct-new")
    assert dict(UsageEvent.objects.for_workspace(ws).values_list("message_id", "account")) == {
        "t-1": account.pk, "t-2": new_account.pk}


@pytest.mark.parametrize("sdk", SDKS)
def test_the_sdk_retries_a_batch_whose_connection_dropped_and_every_event_arrives_once(
    sdk, ws, account, write_key, live_server, caplog
):
    errors = []
    client = make_client(sdk, write_key=write_key, host=live_server.url, errors=errors)
    try:
        with hold_first_insert(UsageEvent._meta.db_table, when=f"NEW.workspace_id = {ws.pk}", seconds=20) as hold:
            killer = terminate_when_held(hold)
            client.group("user-1", "acct-new", {"name": "New KK", "seats": 5})
            for n in range(20):
                client.track(f"user-{n % 3}", f"Event {n}", {"n": n}, context={"groupId": "crm-sakura"})
            killer.join(30)
            client.flush()
    finally:
        client.shutdown()
        time.sleep(0.3)  # let the server thread close its database handle before teardown

    assert errors == []
    events = UsageEvent.objects.for_workspace(ws)
    assert events.count() == 20
    assert sorted(events.values_list("properties__n", flat=True)) == list(range(20))
    assert Account.objects.for_workspace(ws).filter(external_id="acct-new").count() == 1
    # The server did answer "try again" (503), and never a 500.
    statuses = [getattr(record, "status_code", None) for record in caplog.records if record.name == "django.request"]
    assert 503 in statuses and 500 not in statuses


def test_a_connection_the_database_dropped_while_idle_costs_the_next_batch_nothing(ws, account, write_key, tmp_path):
    # A deployed web worker keeps its database connection between requests. The database ends it
    # (restart, failover, idle timeout); the next request must not be the one that finds out.
    server = WebServer(logfile=tmp_path / "gunicorn.log")
    server.start()

    def send(message_id):
        body = json.dumps({"batch": [track(message_id, group_id="crm-sakura")]})
        return requests.post(f"{server.url}/v1/batch", data=body, timeout=30, headers={
            "Authorization": basic_auth(write_key), "Content-Type": "application/json"})

    try:
        assert send("before").status_code == 200
        assert end_other_sessions() >= 1  # the web worker's idle connection
        response = send("after")
    finally:
        server.stop()
    assert (response.status_code, response.text) == (200, '{"success":true}')
    assert sorted(UsageEvent.objects.for_workspace(ws).values_list("message_id", flat=True)) == ["after", "before"]
