"""Reading and checking tracking-API requests, before anything touches the database.

The wire format is Segment's (also RudderStack's): `{"batch": [...], "sentAt": ...}` posted to
`/v1/batch`. Whole-request problems raise `RequestError` with the status that makes every SDK drop
the batch instead of retrying it forever; problems of one message only set that message aside.
Everything here is pure Python over one request, so a batch costs its parsing and no queries.
"""

import datetime as dt
import json
import math
import re
import uuid
import zlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .models import DEFAULT_TRAIT_MAPPING

MESSAGE_TYPES = {"track", "page", "screen", "identify", "group", "alias"}
EVENT_TYPES = {"track", "page", "screen"}
MAX_ID = 200
MAX_GROUP_ID = 100  # Account.external_id


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


# A cheap test on the raw bytes decides whether the parsed payload needs a cleaning walk: the
# databases refuse NUL characters and lone surrogates (an emoji's surrogate pair also triggers
# the walk, harmlessly).
_NEEDS_SCRUB = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]")


def _constant_to_none(_name):
    # NaN, Infinity and -Infinity are not JSON, but Python SDKs send them; keep them as null.
    return None


def _finite_float(text):
    # 1e999 parses to infinity, which JSON columns cannot hold either.
    value = float(text)
    return value if math.isfinite(value) else None


def parse_json(raw):
    try:
        payload = json.loads(raw, parse_constant=_constant_to_none, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise RequestError(400, "invalid_json", _("The body is not valid JSON.")) from None
    if _NEEDS_SCRUB.search(raw):
        payload = _scrub(payload)
    return payload


def _scrub(value):
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


# --- Messages ------------------------------------------------------------------------------------

class Rejected(Exception):
    """One message is unusable; it is kept aside with this reason and the batch goes on."""


def parse_time(value, field):
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Rejected(_("%(field)s is not an ISO 8601 date-time.") % {"field": field})
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(_("%(field)s is not an ISO 8601 date-time.") % {"field": field}) from None
    if parsed.tzinfo is None:
        # Naive datetimes from the SDKs are UTC (they serialise utcnow()).
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _id(value, field, max_length=MAX_ID):
    """An identifier as text. Numeric ids are accepted (some callers send them unquoted)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Rejected(_("%(field)s must be a string.") % {"field": field})
    text = str(value) if not isinstance(value, float) else format(value, "g")
    if len(text) > max_length:
        raise Rejected(_("%(field)s is longer than %(max)d characters.") % {"field": field, "max": max_length})
    return text


def _object(value, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(_("%(field)s must be a JSON object.") % {"field": field})
    return value


class ParsedBatch:
    """A batch sorted by what each message becomes. Lists keep the order of the batch."""

    __slots__ = ("events", "identifies", "groups", "aliases", "rejected")

    def __init__(self):
        self.events = []
        self.identifies = []
        self.groups = []
        self.aliases = []
        self.rejected = []  # (reason, message)

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
        try:
            _parse_message(message, parsed, received_at, batch_sent_at, mapping, forced_type)
        except Rejected as reason:
            parsed.rejected.append((str(reason), message))
    return parsed


def _parse_message(message, parsed, received_at, batch_sent_at, mapping, forced_type):
    if not isinstance(message, dict):
        raise Rejected(_("A message must be a JSON object."))
    kind = forced_type or message.get("type")
    if not isinstance(kind, str) or kind.lower() not in MESSAGE_TYPES:
        raise Rejected(_("Unknown message type %(type)r.") % {"type": kind})
    kind = kind.lower()
    message_id = _id(message.get("messageId"), "messageId") or f"generated-{uuid.uuid4()}"
    user_id = _id(message.get("userId"), "userId")
    anonymous_id = _id(message.get("anonymousId"), "anonymousId")
    if not user_id and not anonymous_id:
        raise Rejected(_("userId or anonymousId is required."))
    context = _object(message.get("context"), "context")

    timestamp = parse_time(message.get("timestamp") or message.get("originalTimestamp"), "timestamp")
    sent_at = batch_sent_at
    if message.get("sentAt"):
        try:
            sent_at = parse_time(message["sentAt"], "sentAt")
        except Rejected:
            pass
    if timestamp is None:
        occurred_at = received_at
    elif sent_at is not None:
        # Segment's clock-skew correction: the device clock may be wrong, but the gap between
        # the event and the upload is measured on one clock.
        occurred_at = received_at - (sent_at - timestamp)
    else:
        occurred_at = timestamp

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
        properties = _object(message.get("properties"), "properties")
        group_id = _id(context.get("groupId"), "context.groupId") or _id(message.get("groupId"), "groupId")
        parsed.events.append(
            (message_id, kind, event, user_id or anonymous_id, group_id, occurred_at, properties)
        )
    elif kind == "identify":
        context_traits = _object(context.get("traits"), "context.traits")
        traits = _object(message.get("traits"), "traits")
        # Rudder sends identify traits only in context.traits; top-level traits win when both exist.
        merged = {**context_traits, **traits} if context_traits else traits
        email = merged.get("email")
        if isinstance(email, str) and email.strip():
            email = email.strip()
            try:
                validate_email(email)
            except ValidationError:
                email = ""
        else:
            email = ""
        group_id = _id(context.get("groupId"), "context.groupId", MAX_GROUP_ID) or _id(
            message.get("groupId"), "groupId", MAX_GROUP_ID
        )
        parsed.identifies.append((message_id, user_id or anonymous_id, merged, email, group_id, occurred_at))
    elif kind == "group":
        group_id = _id(message.get("groupId"), "groupId", MAX_GROUP_ID)
        if not group_id:
            raise Rejected(_("A group call needs a groupId."))
        traits = _object(message.get("traits"), "traits")
        fields, attributes = map_group_traits(traits, mapping)
        parsed.groups.append((message_id, user_id, group_id, fields, attributes, occurred_at))
    else:  # alias
        previous_id = _id(message.get("previousId"), "previousId")
        if not previous_id or not user_id:
            raise Rejected(_("An alias call needs previousId and userId."))
        parsed.aliases.append((message_id, previous_id, user_id, occurred_at))


# --- Group traits → account fields ---------------------------------------------------------------

def _text(max_length):
    def convert(value, trait):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise Rejected(_("Trait %(trait)s must be text.") % {"trait": trait})
        text = str(value).strip()
        return text[:max_length]

    return convert


def _count(value, trait):
    try:
        number = int(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError, OverflowError):
        raise Rejected(_("Trait %(trait)s must be a whole number.") % {"trait": trait}) from None
    if isinstance(value, bool) or number < 0 or number > 2_000_000_000:
        raise Rejected(_("Trait %(trait)s must be a whole number of at least 0.") % {"trait": trait})
    return number


def _money(value, trait):
    if isinstance(value, bool):
        raise Rejected(_("Trait %(trait)s must be an amount.") % {"trait": trait})
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise Rejected(_("Trait %(trait)s must be an amount.") % {"trait": trait}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        raise Rejected(_("Trait %(trait)s must be an amount of at least 0.") % {"trait": trait})
    return amount


def _date(value, trait):
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise Rejected(_("Trait %(trait)s must be a date (YYYY-MM-DD).") % {"trait": trait})


FIELD_CONVERTERS = {
    "name": _text(200),
    "domain": _text(200),
    "plan": _text(80),
    "licensed_seats": _count,
    "arr": _money,
    "contract_start": _date,
    "renewal_date": _date,
}


def map_group_traits(traits, mapping):
    """(account field values, numeric attributes) from group traits; a bad value rejects the call."""
    fields = {}
    attributes = {}
    for trait, value in traits.items():
        field = mapping.get(trait)
        if field in FIELD_CONVERTERS:
            if value is None or value == "":
                continue
            fields[field] = FIELD_CONVERTERS[field](value, trait)
            if field == "name" and not fields[field]:
                del fields[field]
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and len(trait) <= 100:
            attributes[trait] = value
    return fields, attributes
