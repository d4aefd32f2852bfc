"""The tracking API's HTTP contract, request by request (status, body, what gets stored)."""

import datetime as dt
import gzip
import json

import pytest

from accounts.models import Account
from usage.models import ProductUser, RejectedMessage, UsageEvent
from usage.services import create_write_key, revoke_write_key, update_ingest_settings
from workspaces.policy import SYSTEM

from .ingest_helpers import post_batch, track


@pytest.fixture
def key(ws):
    return create_write_key(workspace=ws, name="product", actor=SYSTEM)[1]


def assert_drop(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and body["message"]


def test_a_batch_is_stored_and_answered_with_exactly_200(client, ws, account, key):
    response = post_batch(client, key, [track("m1", group_id="crm-sakura"), track("m2", group_id="crm-sakura")])
    assert response.status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 2


def test_not_json_is_a_400_with_code_and_message(client, key):
    assert_drop(post_batch(client, key, None, raw=b"{not json"), 400, "invalid_json")


def test_a_body_without_batch_is_a_400(client, key):
    assert_drop(post_batch(client, key, None, raw=b'{"events": []}'), 400, "invalid_batch")
    assert_drop(post_batch(client, key, None, raw=b"[1, 2]"), 400, "invalid_request")


def test_wrong_missing_and_revoked_keys_are_401(client, ws, key):
    assert_drop(post_batch(client, "wk_wrong", [track("m1")]), 401, "invalid_write_key")
    assert_drop(post_batch(client, None, [track("m1")]), 401, "missing_write_key")
    write_key, plaintext = create_write_key(workspace=ws, name="old", actor=SYSTEM)
    revoke_write_key(write_key=write_key, actor=SYSTEM)
    assert_drop(post_batch(client, plaintext, [track("m1")]), 401, "invalid_write_key")
    assert UsageEvent.all_workspaces.count() == 0


def test_the_body_write_key_is_a_fallback_for_basic_auth(client, ws, key):
    body = json.dumps({"batch": [track("m1")], "writeKey": key}).encode()
    assert post_batch(client, None, None, raw=body).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 1


def test_gzip_is_decompressed(client, ws, key):
    assert post_batch(client, key, [track("m1")], gzip=True).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 1


def test_a_gzip_bomb_is_a_413(client, key):
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]")
    assert len(bomb) < 200_000
    response = post_batch(client, key, None, raw=bomb, HTTP_CONTENT_ENCODING="gzip")
    assert_drop(response, 413, "body_too_large")


def test_bodies_over_the_cap_are_413_but_big_rudder_batches_pass(client, ws, key, settings):
    # 3 MB: over Django's default upload limit and Segment's 500 KiB, within a Rudder batch (4 MiB).
    # Every RudderStack SDK marks its messages with `channel`.
    messages = [track(f"m{n}", properties={"blob": "x" * 30_000}, channel="server") for n in range(100)]
    assert post_batch(client, key, messages).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 100
    settings.USAGE_INGEST_MAX_BODY_BYTES = 1000
    assert_drop(post_batch(client, key, messages), 413, "body_too_large")


def test_segment_batches_are_held_to_500_kib_and_messages_to_32_kib(client, ws, key):
    # The Segment SDKs stop a batch at 475,000 bytes plus one message (a 506,868-byte body was seen).
    at_most = [track(f"s{n}", properties={"blob": "x" * 31_600}) for n in range(16)]
    assert 506_000 < len(json.dumps({"batch": at_most})) < 500 * 1024
    assert post_batch(client, key, at_most).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 16
    over = [track(f"o{n}", properties={"blob": "x" * 31_600}) for n in range(17)]
    assert_drop(post_batch(client, key, over), 413, "batch_too_large")
    # A message over 32 KiB is set aside, in a Rudder batch too; the rest of its batch is stored.
    mixed = [track("big", properties={"blob": "x" * 33_000}, channel="server"), track("small", channel="server")]
    assert post_batch(client, key, mixed).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws, message_id="small").exists()
    assert "at most 32768" in RejectedMessage.all_workspaces.get(workspace=ws, message_id="big").reason


def test_one_bad_message_is_set_aside_and_the_batch_still_gets_200(client, ws, key, admin):
    batch = [track("good-1"), {"type": "track", "messageId": "bad-1", "userId": "u1"}, track("good-2"),
             "not an object", {"type": "teleport", "messageId": "bad-2", "userId": "u1"}]
    assert post_batch(client, key, batch).status_code == 200
    assert set(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", flat=True)) == {"good-1", "good-2"}
    reasons = dict(RejectedMessage.all_workspaces.filter(workspace=ws).values_list("message_id", "reason"))
    assert reasons["bad-1"] == "A track call needs an event name."
    assert "teleport" in reasons["bad-2"]
    assert RejectedMessage.all_workspaces.filter(workspace=ws).count() == 3


def test_nan_and_infinity_are_stored_as_null(client, ws, key):
    raw = (b'{"batch": [{"type": "track", "messageId": "m1", "userId": "u1", "event": "E",'
           b' "properties": {"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999, "e": "x\\u0000y"}}]}')
    assert post_batch(client, key, None, raw=raw).status_code == 200
    assert UsageEvent.all_workspaces.get(workspace=ws).properties == {"a": None, "b": None, "c": None, "d": None, "e": "xy"}


def test_clock_skew_is_corrected_from_sent_at(client, ws, key):
    # The device clock runs 1 hour fast: the event happened 10 s before the upload.
    response = post_batch(client, key, [track("m1", timestamp="2030-01-01T10:00:00+09:00")],
                          sent_at="2030-01-01T01:00:10Z")
    assert response.status_code == 200
    event = UsageEvent.all_workspaces.get(workspace=ws)
    assert event.received_at - event.occurred_at == dt.timedelta(seconds=10)


def test_single_call_routes_and_no_trailing_slash(client, ws, key):
    message = track("m1")
    del message["type"]
    assert post_batch(client, key, message, path="/v1/track").status_code == 200
    assert post_batch(client, key, {"messageId": "i1", "userId": "u1", "traits": {"email": "a@example.com"}},
                      path="/v1/identify").status_code == 200
    assert ProductUser.all_workspaces.get(workspace=ws, user_id="u1").email == "a@example.com"
    # A single bad call tells its caller why (and is kept aside too).
    assert_drop(post_batch(client, key, {"messageId": "g1", "userId": "u1"}, path="/v1/group"), 400,
                "invalid_message")
    assert RejectedMessage.all_workspaces.filter(workspace=ws, message_id="g1").exists()
    assert post_batch(client, key, [track("m2")], path="/v1/batch/").status_code == 404
    assert client.get("/v1/batch").status_code == 405


def test_unknown_accounts_wait_and_attach_when_the_group_call_arrives(client, ws, key):
    assert post_batch(client, key, [track("m1", group_id="acct-9"), track("m2", group_id="acct-9")]).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws, account__isnull=True, group_id="acct-9").count() == 2
    group = {"type": "group", "messageId": "g1", "userId": "u1", "groupId": "acct-9", "traits": {"name": "Nine KK"}}
    assert post_batch(client, key, [group]).status_code == 200
    account = Account.all_workspaces.get(workspace=ws, external_id="acct-9")
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 2


def test_group_calls_can_be_told_not_to_create_accounts(client, ws, key):
    update_ingest_settings(workspace=ws, actor=SYSTEM, create_unknown_accounts=False)
    group = {"type": "group", "messageId": "g1", "userId": "user-1", "groupId": "acct-9", "traits": {"name": "Nine"}}
    assert post_batch(client, key, [group, track("m1")]).status_code == 200
    assert not Account.all_workspaces.filter(workspace=ws, external_id="acct-9").exists()
    # The user's group is remembered, so the event waits under it for the CRM to create the account.
    assert UsageEvent.all_workspaces.get(workspace=ws).group_id == "acct-9"


def test_trait_mapping_is_per_workspace_and_bad_values_are_set_aside(client, ws, account, key):
    update_ingest_settings(workspace=ws, actor=SYSTEM, trait_mapping={"company_plan": "plan", "users": "licensed_seats"})
    good = {"type": "group", "messageId": "g1", "userId": "u1", "groupId": "crm-sakura",
            "traits": {"company_plan": "enterprise", "users": "40", "plan": "ignored"}}
    bad = {"type": "group", "messageId": "g2", "userId": "u1", "groupId": "crm-sakura", "traits": {"users": "many"}}
    assert post_batch(client, key, [good, bad]).status_code == 200
    account.refresh_from_db()
    assert (account.plan, account.licensed_seats) == ("enterprise", 40)
    assert "users" in RejectedMessage.all_workspaces.get(workspace=ws, message_id="g2").reason


def test_alias_merges_user_ids(client, ws, account, key):
    batch = [track("m1", user_id="anon-1", group_id="crm-sakura"),
             {"type": "identify", "messageId": "i1", "anonymousId": "anon-1", "traits": {"plan": "trial"}}]
    assert post_batch(client, key, batch).status_code == 200
    alias = {"type": "alias", "messageId": "a1", "previousId": "anon-1", "userId": "user-7"}
    assert post_batch(client, key, [alias]).status_code == 200
    assert list(UsageEvent.all_workspaces.filter(workspace=ws).values_list("user_id", flat=True)) == ["user-7"]
    assert ProductUser.all_workspaces.get(workspace=ws).user_id == "user-7"
    assert ProductUser.all_workspaces.get(workspace=ws).traits == {"plan": "trial"}


def test_a_message_without_message_id_is_stored_once_however_often_it_is_sent(client, ws, account, key):
    # Scripts and hand-made integrations leave messageId out; the SDK-style resend changes sentAt only.
    event = track(None, group_id="crm-sakura")
    del event["messageId"]
    group = {"type": "group", "userId": "u1", "groupId": "crm-sakura", "traits": {"seats": 12},
             "timestamp": "2026-03-02T10:00:00+09:00"}
    for attempt in range(3):
        sent_at = f"2026-03-02T01:00:0{attempt}Z"
        assert post_batch(client, key, [event, group], sent_at=sent_at).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 1
    assert UsageEvent.all_workspaces.get(workspace=ws).message_id.startswith("content-")
    # The same call through the single-call route, with its own changing sentAt, is the same message.
    single = {key_: value for key_, value in event.items() if key_ != "type"}
    assert post_batch(client, key, {**single, "sentAt": "2026-03-02T01:00:09Z"}, path="/v1/track").status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 1
    # Another time, or other content, is another message.
    later = {**event, "timestamp": "2026-03-02T10:00:01+09:00"}
    other = {**event, "properties": {"rows": 2}}
    assert post_batch(client, key, [later, other]).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 3


def test_without_message_id_or_timestamp_each_delivery_counts(client, ws, account, key):
    # Nothing tells a resend from the next login of the same user: both are kept.
    login_event = {"type": "track", "userId": "u1", "event": "Logged In", "context": {"groupId": "crm-sakura"}}
    for _ in range(2):
        assert post_batch(client, key, [login_event]).status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 2
