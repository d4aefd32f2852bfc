"""Drive the real analytics SDKs (Segment 2.x, legacy analytics-python, Rudder) against a server.

Each test builds its own client object, never the SDK module globals, so nothing leaks between
tests; the `sdk_clients` fixture flushes and shuts every client down at the end.
"""

import base64
import gzip as gzip_module
import json
import os

import analytics as legacy_analytics
import segment.analytics as segment_analytics

# rudder-sdk-python calls load_dotenv() on import; keep whatever a stray .env holds out of our
# process environment (DATABASE_URL and friends are read by our settings).
_environ = dict(os.environ)
import rudderstack.analytics as rudder_analytics  # noqa: E402

os.environ.clear()
os.environ.update(_environ)

SDKS = ["segment", "legacy", "rudder"]


def make_client(sdk, *, write_key, host, errors, timeout=5, max_retries=4, gzip=None):
    """A real SDK client posting to `host`; failures the SDK reports land in `errors`."""
    def on_error(error, batch):
        errors.append(error)

    options = dict(
        host=host, on_error=on_error, max_retries=max_retries, timeout=timeout, upload_interval=0.05,
    )
    if gzip is not None:
        options["gzip"] = gzip
    if sdk == "segment":
        return segment_analytics.Client(write_key, **options)
    if sdk == "legacy":
        return legacy_analytics.Client(write_key, **options)
    if sdk == "rudder":
        return rudder_analytics.Client(write_key, **options)
    raise ValueError(sdk)


def basic_auth(key):
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def post_batch(client, key, messages, *, path="/v1/batch", gzip=False, raw=None, **extra):
    """POST a batch through Django's test client, the way the SDKs encode it."""
    body = raw if raw is not None else json.dumps({"batch": messages, "sentAt": extra.pop("sent_at", None)}
                                                  if path == "/v1/batch" else messages).encode()
    headers = {"HTTP_AUTHORIZATION": basic_auth(key)} if key else {}
    if gzip:
        body = gzip_module.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    headers.update(extra)
    return client.post(path, data=body, content_type="application/json", **headers)


def track(message_id, event="Report Exported", user_id="user-1", group_id=None, **fields):
    message = {"type": "track", "messageId": message_id, "userId": user_id, "event": event,
               "properties": {}, "timestamp": fields.pop("timestamp", "2026-03-02T10:00:00+09:00")}
    if group_id:
        message["context"] = {"groupId": group_id}
    message.update(fields)
    return message
