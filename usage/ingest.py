"""Reading and checking tracking-API requests, before anything touches the database.

The wire format is Segment's (also RudderStack's): `{"batch": [...], "sentAt": ...}` posted to
`/v1/batch`. Whole-request problems raise `RequestError` with the status that makes every SDK drop
the batch instead of retrying it forever; problems of one message only set that message aside.
Everything here is pure Python over one request, so a batch costs its parsing and no queries.
"""

import json
import math
import zlib

from django.utils.translation import gettext as _

from .messages import (
    MAX_GROUP_ID,
    Rejected,
    clean_message,
    content_message_id,
    identifier,
    json_integer,
    json_object,
    map_group_traits,
    occurred_at,
    parse_time,
    summary,
    valid_email,
)
from .models import DEFAULT_TRAIT_MAPPING

MESSAGE_TYPES = {"track", "page", "screen", "identify", "group", "alias"}
EVENT_TYPES = {"track", "page", "screen"}

# Segment's HTTP API documents 500 KB per batch (its SDKs stop adding messages at 475,000 bytes and a
# real body of 506,868 bytes was seen: so 500 KiB). RudderStack's documents 4 MB, and its SDK builds
# batches up to 4 MiB (1.3 MB seen) and drops a batch answered 413: losing a batch is worse than
# accepting a big one, so RudderStack batches get the transport cap (USAGE_INGEST_MAX_BODY_BYTES)
# instead. What tells them apart is `channel`, a field every RudderStack SDK sets on every message
# ("server", "web", "mobile"; required by its event spec) and no Segment library sends; the library
# name does not ("analytics-python" for all three Python SDKs).
SEGMENT_MAX_BATCH_BYTES = 500 * 1024
# The SDKs send 100 messages a batch by default. A body of thousands of tiny messages would keep a
# worker busy for seconds (30,000 in 5 MB: 2.7 s), so a batch holds at most this many: 25 times
# the SDKs' batches, stored in a fraction of a second.
MAX_BATCH_MESSAGES = 2_500


class RequestError(Exception):
    """The whole request is refused. `status` is one every SDK treats as "drop, don't retry"."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# --- Body ----------------------------------------------------------------------------------------

def read_body(request, *, max_bytes):
    """The request body, gunzipped when sent so, never more than `max_bytes` in memory.

    Read from the stream rather than `request.body`, which enforces the site-wide
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): Rudder batches reach 4 MiB and would be refused.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise RequestError(400, "invalid_request", _("Content-Length is not a number.")) from None
    if length > max_bytes:
        raise RequestError(413, "body_too_large", _("The body is larger than %(max)d bytes.") % {"max": max_bytes})
    raw = request.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise RequestError(413, "body_too_large", _("The body is larger than %(max)d bytes.") % {"max": max_bytes})
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise RequestError(
            400, "unsupported_encoding", _("Content-Encoding %(enc)s is not supported; use gzip.") % {"enc": encoding}
        )
    return gunzip_capped(raw, max_bytes=max_bytes)


def gunzip_capped(raw, *, max_bytes):
    """Decompress in one bounded step: a gzip bomb stops at `max_bytes`, never expands fully."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error:
        raise RequestError(400, "invalid_gzip", _("The body is not valid gzip.")) from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise RequestError(
            413, "body_too_large",
            _("The decompressed body is larger than %(max)d bytes.") % {"max": max_bytes},
        )
    if not inflater.eof:
        raise RequestError(400, "invalid_gzip", _("The gzip body is truncated."))
    return out


def _constant_to_none(_name):
    # NaN, Infinity and -Infinity are not JSON, but Python SDKs send them; keep them as null.
    return None


def _finite_float(text):
    # 1e999 parses to infinity, which JSON columns cannot hold either.
    value = float(text)
    return value if math.isfinite(value) else None


def parse_json(raw):
    """The parsed body. Integer literals too long to be numbers are marked, not converted, so that
    only the message holding one is set aside (messages.clean_message)."""
    try:
        return json.loads(raw, parse_constant=_constant_to_none, parse_float=_finite_float, parse_int=json_integer)
    except RecursionError:
        raise RequestError(400, "invalid_json", _("The body is nested too deeply to read.")) from None
    except ValueError:
        raise RequestError(400, "invalid_json", _("The body is not valid JSON.")) from None


def check_batch_size(body_bytes, messages):
    """413 for a batch of more than MAX_BATCH_MESSAGES, or over the Segment API's 500 KiB unless it
    comes from a RudderStack SDK."""
    if len(messages) > MAX_BATCH_MESSAGES:
        raise RequestError(
            413, "too_many_messages",
            _("The batch holds %(count)d messages; at most %(max)d are accepted (send smaller batches).")
            % {"count": len(messages), "max": MAX_BATCH_MESSAGES},
        )
    if body_bytes <= SEGMENT_MAX_BATCH_BYTES:
        return
    if any(isinstance(m, dict) and isinstance(m.get("channel"), str) for m in messages[:10]):
        return
    raise RequestError(
        413, "batch_too_large",
        _("The batch is %(size)d bytes; at most %(max)d are accepted (send smaller batches).")
        % {"size": body_bytes, "max": SEGMENT_MAX_BATCH_BYTES},
    )


# --- Messages ------------------------------------------------------------------------------------

class ParsedBatch:
    """A batch sorted by what each message becomes. Lists keep the order of the batch."""

    __slots__ = ("events", "identifies", "groups", "aliases", "rejected")

    def __init__(self):
        self.events = []
        self.identifies = []
        self.groups = []
        self.aliases = []
        self.rejected = []  # (reason, what is kept of the message: a dict safe to store)

    @property
    def accepted(self):
        return len(self.events) + len(self.identifies) + len(self.groups) + len(self.aliases)


def parse_batch(messages, *, received_at, sent_at=None, mapping=None, forced_type=None):
    """Sort and check messages. Never raises for one message: it goes to `rejected` instead."""
    batch_sent_at = None
    if sent_at:
        try:
            batch_sent_at = parse_time(sent_at, "sentAt")
        except Rejected:
            batch_sent_at = None  # skew correction is best effort; the timestamps still count
    mapping = DEFAULT_TRAIT_MAPPING if mapping is None else mapping
    parsed = ParsedBatch()
    for message in messages:
        cleaned = None
        try:
            cleaned = clean_message(message)
            _parse_message(cleaned, parsed, received_at, batch_sent_at, mapping, forced_type)
        except Rejected as reason:
            parsed.rejected.append((str(reason), cleaned if cleaned is not None else summary(message)))
    return parsed


def _parse_message(message, parsed, received_at, batch_sent_at, mapping, forced_type):
    kind = forced_type or message.get("type")
    if not isinstance(kind, str) or kind.lower() not in MESSAGE_TYPES:
        shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
        raise Rejected(_("Unknown message type %(type)r.") % {"type": shown})
    kind = kind.lower()
    message_id = identifier(message.get("messageId"), "messageId") or content_message_id(message, kind)
    user_id = identifier(message.get("userId"), "userId")
    anonymous_id = identifier(message.get("anonymousId"), "anonymousId")
    if not user_id and not anonymous_id:
        raise Rejected(_("userId or anonymousId is required."))
    context = json_object(message.get("context"), "context")

    timestamp = message.get("timestamp")
    if timestamp is None or timestamp == "":
        timestamp = message.get("originalTimestamp")  # RudderStack's name for it
    timestamp = parse_time(timestamp, "timestamp")
    sent_at = batch_sent_at
    if message.get("sentAt"):
        try:
            sent_at = parse_time(message["sentAt"], "sentAt")
        except Rejected:
            pass
    at = occurred_at(timestamp, sent_at, received_at)

    if kind in EVENT_TYPES:
        if kind == "track":
            event = message.get("event")
            if not isinstance(event, str) or not event.strip():
                raise Rejected(_("A track call needs an event name."))
        else:
            event = message.get("name") or message.get("category") or kind
            if not isinstance(event, str):
                raise Rejected(_("name must be a string."))
        if len(event) > 200:
            raise Rejected(_("The event name is longer than 200 characters."))
        properties = json_object(message.get("properties"), "properties")
        group_id = identifier(context.get("groupId"), "context.groupId") or identifier(message.get("groupId"), "groupId")
        parsed.events.append((message_id, kind, event, user_id or anonymous_id, group_id, at, properties))
    elif kind == "identify":
        context_traits = json_object(context.get("traits"), "context.traits")
        traits = json_object(message.get("traits"), "traits")
        # Rudder sends identify traits only in context.traits; top-level traits win when both exist.
        merged = {**context_traits, **traits} if context_traits else traits
        group_id = identifier(context.get("groupId"), "context.groupId", MAX_GROUP_ID) or identifier(
            message.get("groupId"), "groupId", MAX_GROUP_ID
        )
        parsed.identifies.append((message_id, user_id or anonymous_id, merged, valid_email(merged.get("email")),
                                  group_id, at))
    elif kind == "group":
        group_id = identifier(message.get("groupId"), "groupId", MAX_GROUP_ID)
        if not group_id:
            raise Rejected(_("A group call needs a groupId."))
        traits = json_object(message.get("traits"), "traits")
        fields, attributes = map_group_traits(traits, mapping)
        parsed.groups.append((message_id, user_id, group_id, fields, attributes, at))
    else:  # alias
        previous_id = identifier(message.get("previousId"), "previousId")
        if not previous_id or not user_id:
            raise Rejected(_("An alias call needs previousId and userId."))
        parsed.aliases.append((message_id, previous_id, user_id, at))
