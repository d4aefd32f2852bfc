"""The checks of one tracking message: what can be stored, and what is set aside with its reason.

Every check here is bounded in time by the message itself (at most MAX_MESSAGE_BYTES, nested at
most MAX_DEPTH deep), and anything the databases would refuse is caught here, per message, so
that one bad message never fails the batch it came in (the SDKs would drop all of it):

- PostgreSQL refuses NUL in text and jsonb and lone UTF-16 surrogates in jsonb (SQLite takes
  both): NUL is removed, a lone surrogate becomes U+FFFD;
- PostgreSQL refuses UTC offsets beyond ±15:59 and years past 9999 after conversion to UTC
  (SQLite stores any text): times are converted to UTC here, absurd offsets and times refused;
- numbers are bounded before conversion (workspaces.values): "1e1000000" as seats is refused
  in microseconds instead of building a million-digit integer.
"""

import datetime as dt
import hashlib
import json
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from workspaces.values import INT_MAX, NumberError, to_decimal, to_int

# Segment's and RudderStack's HTTP APIs both document 32 KB per message; the Segment SDKs refuse
# bigger ones in the caller. Measured like the SDKs do: the message as ASCII-escaped JSON.
MAX_MESSAGE_BYTES = 32 * 1024
# Real properties nest a few levels; RudderStack documents 200 as its hard limit. 64 keeps every
# later reader (json.dumps, jsonb, templates) far from Python's recursion limit.
MAX_DEPTH = 64
# JSON integer literals longer than this are not numbers anyone measured (a uint128 has 39
# digits): Python would refuse to read 4,300 digits and the whole batch with them.
MAX_INTEGER_DIGITS = 40
MAX_ID = 200
MAX_GROUP_ID = 100  # Account.external_id
MAX_OFFSET = dt.timedelta(hours=14)  # the widest real time zones: UTC-12:00 to UTC+14:00
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE_ALLOWANCE = dt.timedelta(days=1)


class Rejected(Exception):
    """One message is unusable; it is kept aside with this reason and the batch goes on."""


class LongInteger:
    """What the JSON reader puts in place of an integer literal too long to be a number: the
    message holding it is set aside (see clean_message), the rest of the batch is stored."""

    __slots__ = ("digits",)

    def __init__(self, digits):
        self.digits = digits


def json_integer(text):
    """json.loads' parse_int: bounded before int() is called (int() of 5,000 digits raises)."""
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else LongInteger(len(text))


# --- The whole message ---------------------------------------------------------------------------

def _clean_text(text):
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a pair arrives already joined by json.loads)
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean(value, depth):
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise Rejected(_("The message is nested deeper than %(max)d levels.") % {"max": MAX_DEPTH})
        return {_clean_text(key): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise Rejected(_("The message is nested deeper than %(max)d levels.") % {"max": MAX_DEPTH})
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, LongInteger):
        raise Rejected(_("The message holds a number of %(digits)d digits; at most %(max)d are accepted.")
                       % {"digits": value.digits, "max": MAX_INTEGER_DIGITS})
    return value


def clean_message(message):
    """The message, safe to store on both databases; raises Rejected for one that cannot be."""
    if not isinstance(message, dict):
        raise Rejected(_("A message must be a JSON object."))
    cleaned = _clean(message, 0)
    size = len(json.dumps(cleaned))
    if size > MAX_MESSAGE_BYTES:
        raise Rejected(_("The message is %(size)d bytes; at most %(max)d are accepted.")
                       % {"size": size, "max": MAX_MESSAGE_BYTES})
    return cleaned


def summary(message):
    """What is kept of a message that could not be cleaned: its id and type, if they are text."""
    if not isinstance(message, dict):
        if message is None or isinstance(message, (bool, int, float)):
            return {"value": message}
        if isinstance(message, str):
            return {"value": _clean_text(message[:200])}
        return {"truncated": True}
    kept = {"truncated": True}
    for field, length in (("messageId", MAX_ID), ("type", 20)):
        if isinstance(message.get(field), str):
            kept[field] = _clean_text(message[field][:length])
    return kept


def content_message_id(message, kind):
    """A message without messageId gets one derived from its content, so that the same message sent
    again (an SDK's retry, a script run twice) is stored once. `sentAt` is left out: it changes on
    every attempt while the message's own timestamp stays. A message with no timestamp either
    cannot be told from a new one of the same content (a login each morning): it gets a random id.
    """
    if message.get("timestamp") in (None, "") and message.get("originalTimestamp") in (None, ""):
        return f"generated-{uuid.uuid4()}"
    # `type` is `kind` (a single-call route's body has none); `writeKey` is the sender's, not content.
    content = {key: value for key, value in message.items() if key not in ("sentAt", "type", "writeKey")}
    digest = hashlib.sha256(json.dumps([kind, content], sort_keys=True).encode()).hexdigest()
    return f"content-{digest[:48]}"


# --- Fields --------------------------------------------------------------------------------------

def parse_time(value, field):
    """An aware UTC datetime, None when absent; Rejected for text that is no sane ISO 8601 time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise Rejected(_("%(field)s is not an ISO 8601 date-time.") % {"field": field})
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(_("%(field)s is not an ISO 8601 date-time.") % {"field": field}) from None
    if parsed.tzinfo is None:
        # Naive datetimes from the SDKs are UTC (they serialise utcnow()).
        return parsed.replace(tzinfo=dt.UTC)
    if abs(parsed.utcoffset()) > MAX_OFFSET:
        raise Rejected(_("%(field)s has a UTC offset beyond ±14:00.") % {"field": field})
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise Rejected(_("%(field)s is out of range.") % {"field": field}) from None


def _sane(moment, received_at):
    return EARLIEST <= moment <= received_at + FUTURE_ALLOWANCE


def occurred_at(timestamp, sent_at, received_at):
    """When the message happened, on the server's clock.

    Segment's clock-skew correction first: the device clock may be wrong, but the gap between the
    event and the upload is measured on one clock (`received_at - (sent_at - timestamp)`). If that
    is not sane (a garbage sentAt), the timestamp as sent; if neither is, the message is refused.

    Refused rather than clamped: a clamped time would count the event on a day it did not happen
    (rollups, active users, health scores), silently. Refused, it stays in the set-aside list with
    its reason, where the team sees it, fixes the sender and can send it again.
    """
    if timestamp is None:
        return received_at
    if sent_at is not None:
        try:
            corrected = received_at - (sent_at - timestamp)
        except OverflowError:
            corrected = None
        if corrected is not None and _sane(corrected, received_at):
            return corrected
    if _sane(timestamp, received_at):
        return timestamp
    if timestamp > received_at:
        raise Rejected(_("timestamp %(value)s is more than a day ahead of the server's clock.")
                       % {"value": timestamp.isoformat()})
    raise Rejected(_("timestamp %(value)s is before 2000.") % {"value": timestamp.isoformat()})


def identifier(value, field, max_length=MAX_ID):
    """An identifier as text. Numeric ids are accepted (some callers send them unquoted)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Rejected(_("%(field)s must be a string.") % {"field": field})
    text = str(value) if not isinstance(value, float) else format(value, "g")
    if len(text) > max_length:
        raise Rejected(_("%(field)s is longer than %(max)d characters.") % {"field": field, "max": max_length})
    return text


def json_object(value, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(_("%(field)s must be a JSON object.") % {"field": field})
    return value


def valid_email(value):
    """The trait's email when it is one, else "" (an identify call is not refused for its email)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    email = value.strip()
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email if len(email) <= 254 else ""


# --- Group traits → account fields ---------------------------------------------------------------

def _text(max_length):
    def convert(value, trait):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise Rejected(_("Trait %(trait)s must be text.") % {"trait": trait})
        return str(value).strip()[:max_length]

    return convert


def _count(value, trait):
    """licensed_seats: a PositiveIntegerField, bounded before conversion (see workspaces.values)."""
    if isinstance(value, bool):
        raise Rejected(_("Trait %(trait)s must be a whole number.") % {"trait": trait})
    try:
        return to_int(value, min_value=0, max_value=INT_MAX)
    except NumberError as error:
        if error.code == "out_of_range":
            raise Rejected(_("Trait %(trait)s must be a whole number from 0 to %(max)d.")
                           % {"trait": trait, "max": INT_MAX}) from None
        raise Rejected(_("Trait %(trait)s must be a whole number.") % {"trait": trait}) from None


def _money(value, trait):
    """arr: a DecimalField(16, 2) of at least 0."""
    if isinstance(value, bool):
        raise Rejected(_("Trait %(trait)s must be an amount.") % {"trait": trait})
    try:
        return to_decimal(value, max_digits=16, decimal_places=2, min_value=0)
    except NumberError as error:
        if error.code == "out_of_range":
            raise Rejected(_("Trait %(trait)s must be an amount of at least 0 and less than 10^14.")
                           % {"trait": trait}) from None
        raise Rejected(_("Trait %(trait)s must be an amount.") % {"trait": trait}) from None


def _date(value, trait):
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
        else:
            # Contract dates of real customers; year 9999 would break the date arithmetic of renewals.
            if 1900 <= day.year <= 2200:
                return day
            raise Rejected(_("Trait %(trait)s must be a date between 1900 and 2200.") % {"trait": trait})
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
