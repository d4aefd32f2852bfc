"""The real SDK packages against the live test server: what a team gets when it points them here."""

import datetime as dt
import logging
import time

import pytest

from accounts.models import Account, Contact
from usage.models import DailyAccountUsage, ProductUser, RejectedMessage, UsageEvent
from usage.services import create_write_key
from usage.tasks import rollup_usage
from workspaces.policy import SYSTEM

from .ingest_helpers import SDKS, make_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk_clients(live_server):
    """sdk_clients(sdk, write_key, **options) → a client for the live test server."""
    made = []

    def _make(sdk, write_key, errors=None, **options):
        client = make_client(sdk, write_key=write_key, host=live_server.url,
                             errors=errors if errors is not None else [], **options)
        made.append(client)
        return client

    yield _make
    for client in made:
        client.shutdown()
    # The server thread finishes its request (closing its DB handle) just after the client has
    # the answer; let it, before the test database is torn down under it.
    time.sleep(0.3)


@pytest.fixture
def write_key(ws):
    return create_write_key(workspace=ws, name="product", actor=SYSTEM)[1]


@pytest.mark.parametrize("sdk", SDKS)
def test_group_identify_track_reach_account_contact_and_events(sdk, ws, account, write_key, sdk_clients):
    contact = Contact.all_workspaces.create(workspace=ws, account=account, name="Hanako Sato", email="hanako@example.com")
    errors = []
    client = sdk_clients(sdk, write_key, errors)
    user = f"user-42-{sdk}"
    client.group(user, "crm-sakura", {"plan": "pro", "seats": 30, "nps": 42})
    client.group(user, f"acct-new-{sdk}", {"name": "株式会社サンプル", "arr": 2400000})
    client.group(user, "crm-sakura", {})  # the user's last known account is Sakura again
    client.identify(user, {"email": "Hanako@example.com", "name": "Hanako"})
    client.track(user, "Report Exported", {"rows": 10}, context={"groupId": "crm-sakura"})
    client.track(user, "Dashboard Viewed")  # no groupId: falls back to the user's account
    client.flush()

    assert errors == []
    account.refresh_from_db()
    assert (account.plan, account.licensed_seats, account.attributes) == ("pro", 30, {"nps": 42})
    created = Account.all_workspaces.get(workspace=ws, external_id=f"acct-new-{sdk}")
    assert created.name == "株式会社サンプル" and created.arr == 2400000
    product_user = ProductUser.all_workspaces.get(workspace=ws, user_id=user)
    assert product_user.account == account
    assert product_user.contact == contact
    assert product_user.traits["name"] == "Hanako"  # Rudder sends these only in context.traits
    events = UsageEvent.all_workspaces.filter(workspace=ws, account=account)
    assert sorted(events.values_list("event", flat=True)) == ["Dashboard Viewed", "Report Exported"]
    assert events.get(event="Report Exported").properties == {"rows": 10}
    # Batches marked their days; run the coalesced rollup task as a worker would.
    rollup_usage(ws.pk)
    rollup = DailyAccountUsage.all_workspaces.get(account=account)
    assert (rollup.events, rollup.active_users) == (2, 1)
    assert rollup.event_counts == {"Dashboard Viewed": 1, "Report Exported": 1}


@pytest.mark.parametrize("sdk", SDKS)
def test_duplicate_delivery_adds_nothing(sdk, ws, account, write_key, sdk_clients):
    errors = []
    client = sdk_clients(sdk, write_key, errors)
    for _ in range(2):
        client.group("u1", "crm-sakura", {"seats": 11}, message_id="group-once")
        client.track("u1", "Report Exported", context={"groupId": "crm-sakura"}, message_id="track-once")
        client.flush()
    # A re-sent group call with the same messageId is not applied again, even with other traits.
    client.group("u1", "crm-sakura", {"seats": 99}, message_id="group-once")
    client.flush()

    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 1
    account.refresh_from_db()
    assert account.licensed_seats == 11
    rollup_usage(ws.pk)
    assert DailyAccountUsage.all_workspaces.get(account=account).events == 1


@pytest.mark.parametrize("sdk", SDKS)
def test_a_503_is_retried_and_the_events_arrive_once(sdk, ws, account, write_key, sdk_clients, settings):
    settings.USAGE_INGEST_RETRY_AFTER_SECONDS = 1
    settings.USAGE_INGEST_FAULTS = ["unavailable"]
    errors = []
    client = sdk_clients(sdk, write_key, errors)
    for n in range(3):
        client.track("u1", f"Event {n}", context={"groupId": "crm-sakura"})
    client.flush()

    assert settings.USAGE_INGEST_FAULTS == []  # the server did answer 503 once
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 3


@pytest.mark.parametrize("sdk", SDKS)
def test_a_slow_answer_resent_by_the_sdk_stays_exactly_once(sdk, ws, account, write_key, sdk_clients, settings):
    # The first upload is stored, then its 200 is held back past the client's timeout: the SDK
    # sends the same batch again, with the same messageIds.
    settings.USAGE_INGEST_FAULTS = ["slow:2"]
    errors = []
    client = sdk_clients(sdk, write_key, errors, timeout=0.5)
    for n in range(3):
        client.track("u1", f"Event {n}", context={"groupId": "crm-sakura"})
    client.flush()

    assert settings.USAGE_INGEST_FAULTS == []
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 3
    rollup_usage(ws.pk)
    assert DailyAccountUsage.all_workspaces.get(account=account).events == 3
    # Let the held-back response finish before the test database goes away (not an assertion).
    time.sleep(3)


@pytest.mark.parametrize("sdk", SDKS)
def test_gzip_bodies_are_accepted(sdk, ws, account, write_key, sdk_clients):
    errors = []
    client = sdk_clients(sdk, write_key, errors, gzip=True)
    client.track("u1", "日本語のイベント", {"note": "圧縮"}, context={"groupId": "crm-sakura"})
    client.flush()
    assert errors == []
    assert UsageEvent.all_workspaces.get(workspace=ws).properties == {"note": "圧縮"}


@pytest.mark.parametrize("sdk", SDKS)
def test_a_wrong_key_is_dropped_by_the_sdk_with_a_readable_error(sdk, ws, write_key, sdk_clients):
    errors = []
    client = sdk_clients(sdk, "wk_not-a-key", errors)
    client.track("u1", "Report Exported")
    client.flush()
    assert len(errors) == 1
    assert errors[0].status == 401
    assert errors[0].code == "invalid_write_key"
    assert UsageEvent.all_workspaces.count() == 0


@pytest.mark.parametrize("sdk", SDKS)
def test_a_key_of_workspace_b_writes_only_into_b(sdk, ws, other_ws, account, other_account, sdk_clients):
    key_b = create_write_key(workspace=other_ws, name="b", actor=SYSTEM)[1]
    errors = []
    client = sdk_clients(sdk, key_b, errors)
    # Same groupId as A's account: it must still land on B's account or stay waiting in B.
    client.group("u1", "crm-sakura", {"plan": "stolen"})
    client.track("u1", "B only", context={"groupId": "crm-hidden"})
    client.flush()
    assert errors == []
    account.refresh_from_db()
    assert account.plan != "stolen"
    assert not UsageEvent.all_workspaces.filter(workspace=ws).exists()
    assert UsageEvent.all_workspaces.get(workspace=other_ws).account == other_account
    assert Account.all_workspaces.get(workspace=other_ws, external_id="crm-sakura").plan == "stolen"


@pytest.mark.parametrize("sdk", SDKS)
def test_one_bad_message_never_costs_the_sdk_its_batch(sdk, ws, account, write_key, sdk_clients):
    errors = []
    client = sdk_clients(sdk, write_key, errors)
    for n in range(5):
        client.track("u1", f"Good {n}", context={"groupId": "crm-sakura"})
    client.track("u1", "From the far future", timestamp=dt.datetime(9999, 12, 31, 23, 0), context={"groupId": "crm-sakura"})
    client.group("u1", "crm-sakura", {"seats": "1e1000000"})
    client.track("u1", "Deep", {"p": _nested(100)}, context={"groupId": "crm-sakura"})
    started = time.monotonic()
    client.flush()
    assert time.monotonic() - started < 5  # the SDK's own round trip; the server answers in milliseconds
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 5
    assert RejectedMessage.all_workspaces.filter(workspace=ws).count() == 3


def _nested(depth):
    value = "x\x00"
    for _ in range(depth):
        value = {"k": value}
    return value


def test_a_real_rudder_batch_over_500_kib_is_accepted(ws, account, write_key, sdk_clients):
    # The Rudder SDK batches up to 4 MiB (gzip on by default) and drops a batch answered 413.
    errors = []
    client = sdk_clients("rudder", write_key, errors)
    for n in range(40):
        client.track("u1", "Exported", {"blob": "x" * 30_000, "n": n}, context={"groupId": "crm-sakura"})
    client.flush()
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 40


@pytest.mark.parametrize("sdk", ["segment", "legacy"])
def test_segment_sdks_split_big_batches_under_500_kib_and_all_arrive(sdk, ws, account, write_key, sdk_clients):
    errors = []
    client = sdk_clients(sdk, write_key, errors)
    for n in range(40):
        client.track("u1", "Exported", {"blob": "x" * 30_000, "n": n}, context={"groupId": "crm-sakura"})
    client.flush()
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 40


def test_a_rudder_message_over_32_kib_is_set_aside_and_its_batch_stored(ws, account, write_key, sdk_clients):
    errors = []
    client = sdk_clients("rudder", write_key, errors)
    client.track("u1", "Huge", {"blob": "x" * 40_000}, context={"groupId": "crm-sakura"}, message_id="huge")
    client.track("u1", "Small", context={"groupId": "crm-sakura"})
    client.flush()
    assert errors == []
    assert list(UsageEvent.all_workspaces.filter(workspace=ws).values_list("event", flat=True)) == ["Small"]
    assert "at most 32768" in RejectedMessage.all_workspaces.get(workspace=ws, message_id="huge").reason


@pytest.mark.parametrize("sdk", SDKS)
def test_over_the_rate_limit_the_sdks_retry_and_every_event_arrives(sdk, ws, account, write_key, sdk_clients,
                                                                    settings, caplog):
    caplog.set_level(logging.INFO, logger="usage.tracking")
    settings.USAGE_INGEST_RATE_LIMIT = "1/s"
    errors = []
    client = sdk_clients(sdk, write_key, errors, max_retries=8)
    for n in range(3):
        client.track("u1", f"Event {n}", context={"groupId": "crm-sakura"})
        client.flush()  # one batch per flush: three requests within a second
    assert errors == []
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 3
    assert any("over its rate" in record.getMessage() for record in caplog.records)  # a 429 was answered
