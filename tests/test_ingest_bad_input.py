"""The tracking API's bad-input catalogue: every case gets a 4xx (the request is unusable as a whole)
or a per-message rejection with a clear reason (the rest of the batch is stored, the answer is
200), and no request keeps the worker busy for more than a second.

Run on SQLite and on PostgreSQL: PostgreSQL refuses what SQLite stores (NUL in text and jsonb, lone
surrogates in jsonb, UTC offsets beyond ±15:59, years past 9999 in UTC), so a case that passes on
one only is a bug.
"""

import base64
import datetime as dt
import gzip
import json
import time

import pytest
from django.utils import timezone

from usage.models import ProductUser, RejectedMessage, UsageEvent
from usage.services import create_write_key, revoke_write_key
from workspaces.policy import SYSTEM

from .ingest_helpers import basic_auth, post_batch, track

# A guard against the minutes-long stalls of the issue (a worker killed by its timeout), not a
# benchmark: each of these requests takes milliseconds.
MAX_SECONDS = 1.0
DIGITS = "9" * 5000


@pytest.fixture
def key(ws, client):
    # The process's first request loads the URLconf, middleware and translations (0.6 s once per
    # process, not per request): done here, outside the timed requests.
    client.get("/v1/batch")
    return create_write_key(workspace=ws, name="product", actor=SYSTEM)[1]


def timed_post(client, key, body, **headers):
    start = time.monotonic()
    response = post_batch(client, key, None, raw=body, **headers)
    elapsed = time.monotonic() - start
    assert elapsed < MAX_SECONDS, f"the request took {elapsed:.2f} s"
    return response


def encode(batch, raw=None):
    """The batch as the SDKs encode it; "@@RAW@@" string values are replaced by raw JSON text
    (integer literals too long for Python's own int())."""
    body = json.dumps({"batch": batch, "sentAt": None})
    if raw is not None:
        body = body.replace('"@@RAW@@"', raw)
    return body.encode()


def good(message_id):
    return track(message_id, group_id="crm-sakura")


def group(message_id, traits):
    return {"type": "group", "messageId": message_id, "userId": "u1", "groupId": "crm-sakura", "traits": traits,
            "timestamp": "2026-03-02T10:00:00+09:00"}


def with_fields(**fields):
    message = track("bad")
    for name, value in fields.items():
        if value is DELETE:
            message.pop(name, None)
        else:
            message[name] = value
    return message


def nested(depth, leaf):
    value = leaf
    for _ in range(depth):
        value = {"k": value}
    return value


DELETE = object()
FUTURE = (timezone.now() + dt.timedelta(days=2)).isoformat()

# (case, the bad message, a raw JSON replacement for "@@RAW@@" or None, words of the reason)
MESSAGE_CASES = [
    # Numbers that would be converted through a huge integer, or that no column holds.
    ("seats as 1e1000000", group("bad", {"seats": "1e1000000"}), None, "Trait seats must be a whole number"),
    ("seats as 5000 digits of text", group("bad", {"seats": DIGITS}), None, "Trait seats must be a whole number"),
    ("seats as a 5000-digit literal", group("bad", {"seats": "@@RAW@@"}), DIGITS, "5000 digits"),
    ("seats beyond the column", group("bad", {"seats": 2_147_483_648}), None, "from 0 to 2147483647"),
    ("seats negative", group("bad", {"seats": -3}), None, "from 0 to 2147483647"),
    ("seats a fraction", group("bad", {"seats": 2.5}), None, "Trait seats must be a whole number"),
    ("seats a boolean", group("bad", {"seats": True}), None, "Trait seats must be a whole number"),
    ("seats NaN as text", group("bad", {"seats": "NaN"}), None, "Trait seats must be a whole number"),
    ("arr as 1e1000000", group("bad", {"arr": "1e1000000"}), None, "Trait arr must be an amount"),
    ("arr negative", group("bad", {"arr": -1}), None, "Trait arr must be an amount of at least 0"),
    ("arr an object", group("bad", {"arr": {"yen": 1}}), None, "Trait arr must be an amount"),
    ("name an object", group("bad", {"name": {"ja": "x"}}), None, "Trait name must be text"),
    ("a property as a 5000-digit literal", with_fields(properties={"n": "@@RAW@@"}), DIGITS, "5000 digits"),
    ("a negative 5000-digit literal", with_fields(properties={"n": "@@RAW@@"}), "-" + DIGITS, "5001 digits"),
    ("userId as a 5000-digit literal", with_fields(userId="@@RAW@@"), DIGITS, "5000 digits"),
    # Times PostgreSQL refuses, or that would put the event on a day that cannot be.
    ("year 9999", with_fields(timestamp="9999-12-31T23:59:59Z"), None, "more than a day ahead"),
    ("year 10000 once in UTC", with_fields(timestamp="9999-12-31T23:00:00-05:00"), None, "timestamp is out of range"),
    ("year 0 once in UTC", with_fields(timestamp="0001-01-01T00:00:00+14:00"), None, "timestamp is out of range"),
    ("before 2000", with_fields(timestamp="1999-12-31T23:59:59Z"), None, "before 2000"),
    ("two days ahead", with_fields(timestamp=FUTURE), None, "more than a day ahead"),
    ("offset +21:43", with_fields(timestamp="2026-03-02T10:00:00+21:43"), None, "offset beyond ±14:00"),
    ("offset -14:00:01", with_fields(timestamp="2026-03-02T10:00:00-14:00:01"), None, "offset beyond ±14:00"),
    ("timestamp a number", with_fields(timestamp=1767225600), None, "timestamp is not an ISO 8601"),
    ("timestamp zero", with_fields(timestamp=0), None, "timestamp is not an ISO 8601"),
    ("timestamp a list", with_fields(timestamp=[2026, 3, 2]), None, "timestamp is not an ISO 8601"),
    ("timestamp words", with_fields(timestamp="yesterday"), None, "timestamp is not an ISO 8601"),
    ("timestamp very long", with_fields(timestamp="2026-03-02T10:00:00" + "0" * 10_000), None, "timestamp is not"),
    # Shapes the databases or later readers cannot take.
    ("nested 600 deep with a NUL", with_fields(properties=nested(600, "x\x00y")), None, "nested deeper than 64"),
    ("nested 65 deep", with_fields(properties=nested(65, 1)), None, "nested deeper than 64"),
    ("a list nested 100 deep", with_fields(properties={"a": json.loads("[" * 100 + "]" * 100)}), None, "nested deeper"),
    ("33 KB of properties", with_fields(properties={"blob": "x" * 33_000}), None, "at most 32768 are accepted"),
    ("32 KB once escaped", with_fields(properties={"note": "日" * 6000}), None, "at most 32768 are accepted"),
    # Not a message at all.
    ("a string", "hello", None, "A message must be a JSON object"),
    ("a number", 42, None, "A message must be a JSON object"),
    ("null", None, None, "A message must be a JSON object"),
    ("a list", [track("inner")], None, "A message must be a JSON object"),
    ("a boolean", True, None, "A message must be a JSON object"),
    # Wrong types, field by field.
    ("type missing", with_fields(type=DELETE), None, "Unknown message type"),
    ("type a number", with_fields(type=5), None, "Unknown message type"),
    ("type an object", with_fields(type={"track": True}), None, "Unknown message type"),
    ("type unknown", with_fields(type="teleport"), None, "Unknown message type 'teleport'"),
    ("messageId an object", with_fields(messageId={"id": 1}), None, "messageId must be a string"),
    ("messageId a list", with_fields(messageId=[1]), None, "messageId must be a string"),
    ("messageId a boolean", with_fields(messageId=True), None, "messageId must be a string"),
    ("messageId too long", with_fields(messageId="m" * 201), None, "messageId is longer than 200"),
    ("userId an object", with_fields(userId={"id": 1}), None, "userId must be a string"),
    ("userId too long", with_fields(userId="u" * 201), None, "userId is longer than 200"),
    ("anonymousId a list", with_fields(userId=None, anonymousId=["a"]), None, "anonymousId must be a string"),
    ("no user at all", with_fields(userId=DELETE), None, "userId or anonymousId is required"),
    ("event missing", with_fields(event=DELETE), None, "A track call needs an event name"),
    ("event a number", with_fields(event=5), None, "A track call needs an event name"),
    ("event blank", with_fields(event="   "), None, "A track call needs an event name"),
    ("event too long", with_fields(event="e" * 201), None, "longer than 200 characters"),
    ("page name an object", with_fields(type="page", name={"x": 1}), None, "name must be a string"),
    ("properties text", with_fields(properties="x"), None, "properties must be a JSON object"),
    ("properties a list", with_fields(properties=[1, 2]), None, "properties must be a JSON object"),
    ("context text", with_fields(context="x"), None, "context must be a JSON object"),
    ("context.groupId an object", with_fields(context={"groupId": {}}), None, "context.groupId must be a string"),
    ("identify traits a list", {"type": "identify", "messageId": "bad", "userId": "u1", "traits": []}, None,
     "traits must be a JSON object"),
    ("identify context.traits text", {"type": "identify", "messageId": "bad", "userId": "u1",
                                      "context": {"traits": "x"}}, None, "context.traits must be a JSON object"),
    ("group without groupId", {"type": "group", "messageId": "bad", "userId": "u1"}, None, "needs a groupId"),
    ("groupId too long", {"type": "group", "messageId": "bad", "userId": "u1", "groupId": "g" * 101}, None,
     "groupId is longer than 100"),
    ("group traits a number", {"type": "group", "messageId": "bad", "userId": "u1", "groupId": "g", "traits": 5},
     None, "traits must be a JSON object"),
    ("alias without previousId", {"type": "alias", "messageId": "bad", "userId": "u1"}, None, "needs previousId"),
    ("alias previousId an object", {"type": "alias", "messageId": "bad", "userId": "u1", "previousId": {}}, None,
     "previousId must be a string"),
]


@pytest.mark.parametrize("case, message, raw, reason", MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_a_bad_message_is_set_aside_with_its_reason_and_its_batch_is_stored(client, ws, account, key, case,
                                                                            message, raw, reason):
    response = timed_post(client, key, encode([good("good-1"), message, good("good-2")], raw))
    assert response.status_code == 200, response.content
    stored = set(UsageEvent.all_workspaces.filter(workspace=ws, account=account).values_list("message_id", flat=True))
    assert stored == {"good-1", "good-2"}
    set_aside = RejectedMessage.all_workspaces.get(workspace=ws)
    assert reason in set_aside.reason
    json.dumps(set_aside.payload)  # what was kept of it is plain, storable JSON


def test_a_hundred_message_batch_with_one_bad_message_stores_the_other_ninety_nine(client, ws, account, key):
    batch = [good(f"m{n}") for n in range(99)]
    batch.insert(50, with_fields(timestamp="9999-12-31T23:59:59Z", properties=nested(600, "\x00")))
    response = timed_post(client, key, encode(batch))
    assert response.status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws, account=account).count() == 99


def test_the_biggest_batch_accepted_is_stored_within_the_second(client, ws, account, key):
    # 2,500 small messages in a RudderStack-sized body: the most work one request may ask for.
    batch = [{**good(f"m{n}"), "userId": f"u{n % 50}", "channel": "server"} for n in range(2_500)]
    response = timed_post(client, key, encode(batch))
    assert response.status_code == 200
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 2_500


def test_nul_and_lone_surrogates_are_cleaned_in_keys_and_values_on_both_databases(client, ws, account, key):
    # Escaped as the SDKs send them (ensure_ascii): PostgreSQL refuses both in jsonb and NUL in text.
    raw = (b'{"batch": [{"type": "track", "messageId": "m\\u0000-1", "userId": "u\\u00001",'
           b' "event": "Clicked\\u0000", "context": {"groupId": "crm-sakura"},'
           b' "properties": {"k\\u0000ey": "v\\u0000al", "lone": "\\ud800x", "\\udfffkey": 1,'
           b' "emoji": "\\ud83d\\ude00", "deep": {"x": ["\\u0000"]}}}]}')
    assert timed_post(client, key, raw).status_code == 200
    event = UsageEvent.all_workspaces.get(workspace=ws)
    assert (event.message_id, event.user_id, event.event) == ("m-1", "u1", "Clicked")
    assert event.properties == {"key": "val", "lone": "\ufffdx", "\ufffdkey": 1, "emoji": "😀", "deep": {"x": [""]}}


def test_noise_that_does_not_make_a_message_bad_is_tolerated(client, ws, account, key):
    raw = (b'{"batch": [{"type": "track", "messageId": "m1", "userId": 12345, "event": "E",'
           b' "context": {"groupId": "crm-sakura", "library": {"name": "x", "version": [1]}},'
           b' "integrations": "all", "timestamp": "2026-03-02T10:00:00+09:00",'
           b' "properties": {"nan": NaN, "inf": -Infinity, "big": 1e999, "ok": 12345678901234567890}}],'
           b' "sentAt": ' + DIGITS.encode() + b'}')
    assert timed_post(client, key, raw).status_code == 200
    event = UsageEvent.all_workspaces.get(workspace=ws)
    assert event.user_id == "12345"
    assert event.properties == {"nan": None, "inf": None, "big": None, "ok": 12345678901234567890}
    assert event.occurred_at == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def test_a_garbage_sent_at_does_not_move_or_refuse_the_messages(client, ws, account, key):
    for n, sent_at in enumerate(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "+21:43", "2026-03-02T10:00+21:43"]):
        body = json.dumps({"batch": [good(f"m{n}")], "sentAt": sent_at}).encode()
        assert timed_post(client, key, body).status_code == 200
    assert set(UsageEvent.all_workspaces.filter(workspace=ws).values_list("occurred_at", flat=True)) == {
        dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)}


def test_identify_group_and_alias_times_are_checked_too(client, ws, account, key):
    future = "9999-01-01T00:00:00Z"
    batch = [{"type": "identify", "messageId": "i1", "userId": "u1", "traits": {"email": "a@example.com"},
              "timestamp": future},
             {"type": "group", "messageId": "g1", "userId": "u1", "groupId": "crm-sakura", "timestamp": future},
             {"type": "alias", "messageId": "a1", "userId": "u2", "previousId": "u1", "timestamp": future},
             {"type": "identify", "messageId": "i2", "userId": "u3", "traits": {"email": "b@example.com"}}]
    assert timed_post(client, key, encode(batch)).status_code == 200
    assert RejectedMessage.all_workspaces.filter(workspace=ws).count() == 3
    assert list(ProductUser.all_workspaces.filter(workspace=ws).values_list("user_id", flat=True)) == ["u3"]


def _messages(n, size):
    return [track(f"m{i}", properties={"blob": "x" * size}) for i in range(n)]


GZIP_BOMB = gzip.compress(b" " * (64 * 1024 * 1024))

# (case, body or a function of the key giving (body, headers), status, code)
REQUEST_CASES = [
    ("not JSON", b"{not json", 400, "invalid_json"),
    ("an empty body", b"", 400, "invalid_json"),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    ("a 5000-digit literal for the body", DIGITS.encode(), 400, "invalid_request"),
    ("an array body", b"[1, 2]", 400, "invalid_request"),
    ("a string body", b'"batch"', 400, "invalid_request"),
    ("batch an object", b'{"batch": {"0": {}}}', 400, "invalid_batch"),
    ("batch missing", b"{}", 400, "invalid_batch"),
    ("batch null", b'{"batch": null}', 400, "invalid_batch"),
    ("invalid gzip", (b"not gzip at all", {"HTTP_CONTENT_ENCODING": "gzip"}), 400, "invalid_gzip"),
    ("truncated gzip", (gzip.compress(encode([track("m1")]))[:-12], {"HTTP_CONTENT_ENCODING": "gzip"}), 400,
     "invalid_gzip"),
    ("a gzip bomb", (GZIP_BOMB, {"HTTP_CONTENT_ENCODING": "gzip"}), 413, "body_too_large"),
    ("brotli", (encode([track("m1")]), {"HTTP_CONTENT_ENCODING": "br"}), 400, "unsupported_encoding"),
    ("Content-Length not a number", (encode([track("m1")]), {"CONTENT_LENGTH": "lots"}), 400, "invalid_request"),
    ("a Segment batch over 500 KiB", encode(_messages(20, 30_000)), 413, "batch_too_large"),
    ("2,501 messages in one batch", encode([{"type": "track"}] * 2_501), 413, "too_many_messages"),
    ("a million empty messages", b'{"batch": [' + b"{}," * 999_999 + b"{}]}", 413, "too_many_messages"),
]


@pytest.mark.parametrize("case, body, status, code", REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES])
def test_an_unusable_request_is_a_4xx_with_code_and_message(client, ws, key, case, body, status, code):
    body, headers = body if isinstance(body, tuple) else (body, {})
    response = timed_post(client, key, body, **headers)
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]
    assert not UsageEvent.all_workspaces.exists() and not RejectedMessage.all_workspaces.exists()


def test_missing_or_invalid_auth_is_a_401_before_the_body_is_read(client, ws, key):
    revoked, revoked_plain = create_write_key(workspace=ws, name="old", actor=SYSTEM)
    revoke_write_key(write_key=revoked, actor=SYSTEM)
    body = encode([track("m1")])
    cases = [
        ({}, "missing_write_key"),
        ({"HTTP_AUTHORIZATION": f"Bearer {key}"}, "missing_write_key"),
        ({"HTTP_AUTHORIZATION": "Basic not*base64"}, "invalid_write_key"),
        ({"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"\xff\xfe:").decode()}, "invalid_write_key"),
        ({"HTTP_AUTHORIZATION": basic_auth("wk_wrong")}, "invalid_write_key"),
        ({"HTTP_AUTHORIZATION": basic_auth(revoked_plain)}, "invalid_write_key"),
        ({"HTTP_AUTHORIZATION": basic_auth("k" * 100_000)}, "invalid_write_key"),
        ({"HTTP_AUTHORIZATION": basic_auth("wk_\x00")}, "invalid_write_key"),
    ]
    for headers, code in cases:
        response = timed_post(client, None, body, **headers)
        assert response.status_code == 401 and response.json()["code"] == code, headers
    assert timed_post(client, None, json.dumps({"batch": [], "writeKey": 5}).encode()).json()["code"] == \
        "missing_write_key"
    assert timed_post(client, None, json.dumps({"batch": [], "writeKey": {"k": key}}).encode()).status_code == 401
    assert not UsageEvent.all_workspaces.exists()


def test_the_single_call_routes_take_the_same_checks(client, ws, account, key):
    for path, message, reason in [
        ("/v1/track", with_fields(type=DELETE, timestamp="9999-12-31T23:59:59Z"), "more than a day ahead"),
        ("/v1/identify", {"messageId": "i1", "userId": "u1", "traits": nested(100, 1)}, "nested deeper"),
        ("/v1/group", {"messageId": "g1", "userId": "u1", "groupId": "g", "traits": {"seats": "1e1000000"}}, "seats"),
    ]:
        start = time.monotonic()
        response = post_batch(client, key, message, path=path)
        assert time.monotonic() - start < MAX_SECONDS
        assert response.status_code == 400 and reason in response.json()["message"], (path, response.content)
    assert RejectedMessage.all_workspaces.filter(workspace=ws).count() == 3
