"""Loading the history of usage events from a file, and rebuilding the daily rollups it touches.

The tracking API (`/v1/batch`) takes a few thousand events a second: fine for live traffic, far
too slow for the year or two of history a new workspace brings. A history file goes instead:

1. **check** (`read_history`): every row of the file is checked; a CSV in the plain shape column by
   column (`_read_csv_columnar`, pyarrow), anything else (and any file with a bad row) line by line.
   All or nothing: one bad row refuses the file and nothing is written; the errors name the line
   and the field (the first `MAX_ERRORS` of them), so the sender fixes the file and sends it again.
   Sending a file twice is harmless (events are deduplicated by message id), so "fix and resend"
   loses nothing and counts nothing twice. Checked rows go to a normalised CSV, never into memory.
2. **load** (`load_events`): the normalised rows are copied into a temporary staging table (COPY on
   PostgreSQL, executemany on SQLite: the only difference between the two), then one
   INSERT … SELECT of the ids the workspace lacks puts them into the event table (redone with ON
   CONFLICT DO NOTHING if the file repeats an id), resolving accounts as the tracking API does
   (groupId = the account's external id; without one, the user's last group).
3. **rebuild** (`rebuild_rollups`): the daily rollups of every day in the file's range, in one
   INSERT … SELECT … GROUP BY (account, day) over the whole range, then the accounts' 30-day active
   users, as the nightly usage step does.

Raw events are kept `retention_days` counted from today (never from the day being recomputed). A
day before that whose raw events are gone keeps its rollup and is reported as such
(`days_without_events`), never counted as rebuilt.
"""

import csv
import datetime as dt
import io
import json

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..messages import EARLIEST, FUTURE_ALLOWANCE, MAX_ID, Rejected, identifier, parse_time
from ..models import DailyAccountUsage, IngestSettings, UsageEvent
from ..selectors import ingest_settings
from .rollups import refresh_active_users, retention_start, rollup_sql_parts

MAX_ERRORS = 20
# identify/group/alias lines of an NDJSON file are applied through the tracking API's own code; they
# are few (one per user or account), so they are held in memory. More than this: send them to /v1/batch.
MAX_IDENTITY_MESSAGES = 100_000
EVENT_TYPES = ("track", "page", "screen")
IDENTITY_TYPES = ("identify", "group", "alias")
CSV_COLUMNS = ("message_id", "timestamp", "account", "user_id", "event")
CSV_OPTIONAL = ("event_type", "properties")
# The normalised file's columns, which are the staging table's.
STAGE_COLUMNS = ("message_id", "group_id", "user_id", "event_type", "event", "occurred_at", "properties")


class HistoryError(Exception):
    """The file is refused: `errors` is a list of {"line", "field", "message"}; nothing was written."""

    def __init__(self, errors):
        super().__init__("; ".join(f"line {e['line']}, {e['field']}: {e['message']}" for e in errors[:3]))
        self.errors = errors


class CheckedFile:
    """What `read_history` found: the normalised rows (a file), and identity messages of NDJSON."""

    def __init__(self, out):
        self.out = out
        self.rows = 0
        self.identities = []
        self.first = None
        self.last = None

    def add(self, row, at):
        self.out.writerow(row)
        self.rows += 1
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last


def sniff_format(name, head):
    """"csv" or "ndjson", from the file name, else from the first character."""
    lowered = (name or "").lower()
    if lowered.endswith((".ndjson", ".jsonl", ".json")):
        return "ndjson"
    if lowered.endswith(".csv"):
        return "csv"
    return "ndjson" if head.lstrip()[:1] == b"{" else "csv"


def _text_lines(chunks):
    """Decode an iterable of byte chunks as UTF-8 (a BOM dropped) into lines, streaming."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        yield from lines
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _event(line, *, message_id, timestamp, group_id, user_id, event, event_type, properties, now, fields):
    """The normalised row of one event, or a list of errors ({"line", "field", "message"})."""
    errors = []

    def check(field, fn):
        try:
            return fn()
        except Rejected as exc:
            errors.append({"line": line, "field": field, "message": str(exc)})
            return None

    message_id = check(fields["message_id"], lambda: identifier(message_id, fields["message_id"]))
    if message_id == "":
        errors.append({"line": line, "field": fields["message_id"], "message": _("A message id is required.")})
    at = check(fields["timestamp"], lambda: parse_time(timestamp, fields["timestamp"]))
    if at is None and not any(e["field"] == fields["timestamp"] for e in errors):
        errors.append({"line": line, "field": fields["timestamp"], "message": _("A timestamp is required.")})
    elif at is not None and not (EARLIEST <= at <= now + FUTURE_ALLOWANCE):
        errors.append({"line": line, "field": fields["timestamp"],
                       "message": _("%(value)s is before 2000 or more than a day ahead.") % {"value": timestamp}})
    group_id = check(fields["account"], lambda: identifier(group_id, fields["account"], MAX_ID))
    user_id = check(fields["user_id"], lambda: identifier(user_id, fields["user_id"]))
    if group_id == "" and user_id == "":
        errors.append({"line": line, "field": fields["account"],
                       "message": _("An account (group id) or a user id is required.")})
    if not isinstance(event, str) or not event.strip():
        errors.append({"line": line, "field": fields["event"], "message": _("An event name is required.")})
    elif len(event) > 200:
        errors.append({"line": line, "field": fields["event"],
                       "message": _("The event name is longer than 200 characters.")})
    if event_type not in EVENT_TYPES:
        errors.append({"line": line, "field": fields["event_type"],
                       "message": _("The event type must be track, page or screen.")})
    if not isinstance(properties, dict):
        errors.append({"line": line, "field": fields["properties"], "message": _("properties must be a JSON object.")})
    if errors:
        return errors
    return (message_id, group_id or "", user_id or "", event_type, event, at.isoformat(),
            json.dumps(properties, ensure_ascii=False)), at


CSV_FIELDS = {"message_id": "message_id", "timestamp": "timestamp", "account": "account", "user_id": "user_id",
              "event": "event", "event_type": "event_type", "properties": "properties"}
NDJSON_FIELDS = {"message_id": "messageId", "timestamp": "timestamp", "account": "context.groupId",
                 "user_id": "userId", "event": "event", "event_type": "type", "properties": "properties"}


def _read_csv(lines, checked, errors, now):
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        errors.append({"line": 1, "field": "file", "message": _("The file is empty.")})
        return
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        errors.append({"line": 1, "field": missing[0],
                       "message": _("The header lacks the column(s): %(columns)s.") % {"columns": ", ".join(missing)}})
        return
    at = {name: header.index(name) for name in (*CSV_COLUMNS, *CSV_OPTIONAL) if name in header}
    i_id, i_ts, i_acct, i_user, i_event = (at[c] for c in CSV_COLUMNS)
    i_type, i_props = at.get("event_type"), at.get("properties")
    width = len(header)
    fromiso, utc, earliest, latest = dt.datetime.fromisoformat, dt.UTC, EARLIEST, now + FUTURE_ALLOWANCE
    max_offset = dt.timedelta(hours=14)
    write = checked.out.writerow
    first, last, count = checked.first, checked.last, 0
    for row in reader:
        # The fast path: a well-formed row costs a few comparisons and one date parse (6 million rows
        # are checked in well under a minute). Anything unusual goes through _event, which names the
        # line and field of each problem.
        if len(row) == width:
            message_id, stamp, account, user, event = (row[i_id].strip(), row[i_ts].strip(), row[i_acct].strip(),
                                                       row[i_user].strip(), row[i_event].strip())
            kind = (row[i_type].strip().lower() or "track") if i_type is not None else "track"
            props = row[i_props].strip() if i_props is not None else ""
            if (message_id and len(message_id) <= MAX_ID and event and len(event) <= 200 and (account or user)
                    and len(account) <= MAX_ID and len(user) <= MAX_ID and kind in EVENT_TYPES and not props
                    and 0 < len(stamp) <= 64):
                try:
                    moment = fromiso(stamp)
                except ValueError:
                    moment = None
                if moment is not None:
                    offset = moment.utcoffset()
                    try:
                        moment = moment.replace(tzinfo=utc) if offset is None else moment.astimezone(utc)
                    except OverflowError:  # year 10000 in UTC: the slow path names it
                        offset = max_offset * 2
                    if offset is None or abs(offset) <= max_offset:
                        if earliest <= moment <= latest:
                            write((message_id, account, user, kind, event, moment.isoformat(), "{}"))
                            count += 1
                            if first is None or moment < first:
                                first = moment
                            if last is None or moment > last:
                                last = moment
                            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            errors.append({"line": line, "field": "row", "message": _("The row has %(n)d cells; the header has "
                                                                      "%(m)d.") % {"n": len(row), "m": width}})
        else:
            props = {}
            if i_props is not None and row[i_props].strip():
                try:
                    props = json.loads(row[i_props])
                except ValueError:
                    props = None
            result = _event(line, message_id=row[i_id].strip(), timestamp=row[i_ts].strip(),
                            group_id=row[i_acct].strip(), user_id=row[i_user].strip(),
                            event=row[i_event].strip(), properties=props, now=now, fields=CSV_FIELDS,
                            event_type=(row[i_type].strip().lower() if i_type is not None else "") or "track")
            if isinstance(result, list):
                errors.extend(result)
            else:
                checked.add(*result)
                first = checked.first if first is None or checked.first < first else first
                last = checked.last if last is None or checked.last > last else last
        if len(errors) >= MAX_ERRORS:
            break
    checked.rows += count
    checked.first, checked.last = first, last


def _read_ndjson(lines, checked, errors, now):
    from ..ingest import parse_batch

    for line, text in enumerate(lines, start=1):
        if len(errors) >= MAX_ERRORS:
            return
        if not text.strip():
            continue
        try:
            message = json.loads(text)
        except ValueError:
            errors.append({"line": line, "field": "line", "message": _("The line is not valid JSON.")})
            continue
        if not isinstance(message, dict):
            errors.append({"line": line, "field": "line", "message": _("A line must be a JSON object.")})
            continue
        kind = str(message.get("type") or "track").lower()
        if kind in IDENTITY_TYPES:
            parsed = parse_batch([message], received_at=now)
            if parsed.rejected:
                errors.append({"line": line, "field": "message", "message": parsed.rejected[0][0]})
            elif len(checked.identities) >= MAX_IDENTITY_MESSAGES:
                errors.append({"line": line, "field": "type", "message": _(
                    "More than %(max)d identify/group/alias lines: send those through /v1/batch.")
                    % {"max": MAX_IDENTITY_MESSAGES}})
            else:
                checked.identities.append(message)
            continue
        context = message.get("context") if isinstance(message.get("context"), dict) else {}
        group_id = context.get("groupId") or message.get("groupId")
        event = message.get("event") if kind == "track" else (message.get("name") or message.get("category") or kind)
        timestamp = message.get("timestamp") or message.get("originalTimestamp")
        result = _event(line, message_id=message.get("messageId"), timestamp=timestamp, group_id=group_id,
                        user_id=message.get("userId") or message.get("anonymousId"), event=event, event_type=kind,
                        properties=message.get("properties") if message.get("properties") is not None else {},
                        now=now, fields=NDJSON_FIELDS)
        if isinstance(result, list):
            errors.extend(result)
        else:
            checked.add(*result)


# A well-formed CSV row's timestamp: what the columnar check accepts (any other form goes row by row).
COLUMNAR_STAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"
COLUMNAR_BLOCK = 16 << 20


def _read_csv_columnar(spool, out, checked, now):
    """The whole CSV checked column by column (pyarrow), its normalised rows written in blocks: True.

    It accepts exactly what the row-by-row fast path of `_read_csv` accepts, in a narrower form (a
    plain ISO 8601 timestamp, no properties); on the first block with anything else (a bad row, a
    quoted line break, another timestamp form, no pyarrow) it writes nothing and returns False, and
    the file is read row by row, which names the line and field of every problem. A 6-million-row
    file takes seconds this way instead of half a minute.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pa_csv
    except ImportError:
        return False
    spool.seek(0)
    header_line = spool.readline().decode("utf-8-sig", errors="replace")
    try:
        header = [h.strip().lower() for h in next(csv.reader([header_line]))]
    except (StopIteration, csv.Error):
        return False
    if not header_line.endswith("\n") or any(c not in header for c in CSV_COLUMNS) or "properties" in header or len(set(header)) != len(header):
        return False
    spool.seek(0)
    names = [f"c{i}" for i in range(len(header))]
    column = {name: f"c{header.index(name)}" for name in (*CSV_COLUMNS, *CSV_OPTIONAL) if name in header}
    earliest = pa.scalar(EARLIEST, pa.timestamp("us", tz="UTC"))
    latest = pa.scalar(now + FUTURE_ALLOWANCE, pa.timestamp("us", tz="UTC"))
    blocks, first, last, rows = [], None, None, 0
    try:
        reader = pa_csv.open_csv(
            spool, read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, block_size=COLUMNAR_BLOCK),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
        for batch in reader:
            if not batch.num_rows:
                continue
            cell = {name: pc.utf8_trim_whitespace(batch.column(names.index(col))) for name, col in column.items()}
            ids, stamps, account, user, event = (cell[c] for c in CSV_COLUMNS)
            kind = (pc.utf8_lower(cell["event_type"]) if "event_type" in cell
                    else pa.repeat(pa.scalar("track"), batch.num_rows))
            kind = pc.if_else(pc.equal(kind, ""), "track", kind)
            lengths = {name: pc.utf8_length(values) for name, values in
                       (("id", ids), ("event", event), ("account", account), ("user", user))}
            ok = pc.and_(pc.greater(lengths["id"], 0), pc.less_equal(lengths["id"], MAX_ID))
            ok = pc.and_(ok, pc.and_(pc.greater(lengths["event"], 0), pc.less_equal(lengths["event"], 200)))
            ok = pc.and_(ok, pc.or_(pc.greater(lengths["account"], 0), pc.greater(lengths["user"], 0)))
            ok = pc.and_(ok, pc.and_(pc.less_equal(lengths["account"], MAX_ID), pc.less_equal(lengths["user"], MAX_ID)))
            ok = pc.and_(ok, pc.is_in(kind, value_set=pa.array(EVENT_TYPES)))
            ok = pc.and_(ok, pc.match_substring_regex(stamps, COLUMNAR_STAMP))
            if not pc.all(ok).as_py():
                return False
            # Naive times are UTC (as parse_time reads them); offsets beyond ±14:00 go row by row.
            zoned = pc.match_substring_regex(stamps, r"(Z|[+-]\d{2}:\d{2})$")
            stamps = pc.if_else(zoned, stamps, pc.binary_join_element_wise(stamps, "+00:00", ""))
            offsets = pc.extract_regex(stamps, r"(?P<sign>[+-])(?P<h>\d{2}):(?P<m>\d{2})$")
            hours = pc.cast(pc.struct_field(offsets, "h"), pa.int32())
            minutes = pc.cast(pc.struct_field(offsets, "m"), pa.int32())
            if pc.any(pc.greater(pc.add(pc.multiply(hours, 60), minutes), 14 * 60)).as_py():
                return False
            moments = pc.cast(stamps, pa.timestamp("us", tz="UTC"))  # an impossible date raises
            low, high = pc.min_max(moments).values()
            if pc.less(low, earliest).as_py() or pc.greater(high, latest).as_py():
                return False
            first = low.as_py() if first is None or low.as_py() < first else first
            last = high.as_py() if last is None or high.as_py() > last else last
            rows += batch.num_rows
            blocks.append(pa.table([ids, account, user, kind, event, stamps,
                                    pa.repeat(pa.scalar("{}"), batch.num_rows)], names=list(STAGE_COLUMNS)))
            if sum(b.nbytes for b in blocks) > COLUMNAR_BLOCK * 4:
                _write_blocks(blocks, out)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return False
    _write_blocks(blocks, out)
    checked.rows, checked.first, checked.last = rows, first, last
    return True


def _write_blocks(blocks, out):
    import pyarrow.csv as pa_csv

    raw = getattr(out, "buffer", None)  # a text file's bytes underneath: no decoding and encoding again
    if raw is not None:
        out.flush()
    for block in blocks:
        buffer = io.BytesIO()
        pa_csv.write_csv(block, buffer, write_options=pa_csv.WriteOptions(include_header=False,
                                                                          quoting_style="needed"))
        if raw is not None:
            raw.write(buffer.getbuffer())
        else:
            out.write(buffer.getvalue().decode("utf-8"))
    if raw is not None:
        raw.flush()
    blocks.clear()


def read_history(chunks, *, file_format, out):
    """Check a history file (an iterable of byte chunks) and write its normalised rows to `out` (a text
    file). Returns a CheckedFile; raises HistoryError naming the lines and fields of bad rows."""
    import tempfile

    now = timezone.now()
    checked = CheckedFile(csv.writer(out))
    errors = []
    try:
        with tempfile.TemporaryFile() as spool:
            if file_format == "ndjson":
                _read_ndjson(_text_lines(chunks), checked, errors, now)
            else:
                # The file is kept (on disk) to be checked column by column; when that declines, what
                # it wrote is dropped and the file is read again row by row.
                for chunk in chunks:
                    spool.write(chunk)
                start = out.tell()
                if not _read_csv_columnar(spool, out, checked, now):
                    out.seek(start)
                    out.truncate()
                    spool.seek(0)
                    _read_csv(_text_lines(iter(lambda: spool.read(1 << 20), b"")), checked, errors, now)
    except UnicodeDecodeError:
        errors.append({"line": 0, "field": "file", "message": _("The file is not UTF-8 text.")})
    except csv.Error as exc:
        errors.append({"line": 0, "field": "file", "message": str(exc)})
    if errors:
        raise HistoryError(errors[:MAX_ERRORS])
    if not checked.rows and not checked.identities:
        raise HistoryError([{"line": 1, "field": "file", "message": _("The file holds no events.")}])
    return checked


# --- Load ------------------------------------------------------------------------------------------

STAGE = "usage_history_stage"
ANALYZE_AFTER = 100_000


def _create_stage(cursor):
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")  # one left by an earlier load in the same transaction
    if connection.vendor == "postgresql":
        cursor.execute(f"""CREATE TEMP TABLE {STAGE} (message_id varchar(200), group_id varchar(200),
            user_id varchar(200), event_type varchar(10), event varchar(200), occurred_at timestamptz,
            properties jsonb) ON COMMIT DROP""")
    else:
        cursor.execute(f"""CREATE TEMP TABLE {STAGE} (message_id varchar(200), group_id varchar(200),
            user_id varchar(200), event_type varchar(10), event varchar(200), occurred_at datetime,
            properties text)""")


def _fill_stage(cursor, normalised):
    if connection.vendor == "postgresql":
        with connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, "
                                      "FORCE_NOT_NULL (message_id, group_id, user_id, event_type, event))",
                                      normalised)
        return
    adapt = connection.ops.adapt_datetimefield_value
    batch = []
    sql = f"INSERT INTO {STAGE} ({', '.join(STAGE_COLUMNS)}) VALUES ({', '.join(['%s'] * len(STAGE_COLUMNS))})"
    for row in csv.reader(normalised):
        batch.append((*row[:5], adapt(dt.datetime.fromisoformat(row[5])), row[6]))
        if len(batch) >= 5_000:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


# The tracking API's attribution, set-based: an event's groupId names its account (external id);
# without one, the user's last group (and account) stand in. {dedup} is either a NOT EXISTS against
# the workspace's events (a plain insert: the staged ids are expected distinct) or ON CONFLICT DO
# NOTHING (the general case, a speculative insert per row: about a third slower).
LOAD_SQL = """
INSERT INTO {events} (workspace_id, message_id, account_id, group_id, user_id, event_type, event,
                      occurred_at, received_at, properties)
SELECT %s, s.message_id, COALESCE(a.id, pu.account_id),
       CASE WHEN s.group_id = '' THEN COALESCE(pu.group_id, '') ELSE s.group_id END,
       s.user_id, s.event_type, s.event, s.occurred_at, %s, s.properties
FROM {stage} s
LEFT JOIN {users} pu ON s.group_id = '' AND pu.workspace_id = %s AND pu.user_id = s.user_id
LEFT JOIN {accounts} a ON a.workspace_id = %s AND a.external_id <> ''
     AND a.external_id = CASE WHEN s.group_id = '' THEN pu.group_id ELSE s.group_id END
{dedup}
"""
NEW_IDS_ONLY = "WHERE NOT EXISTS (SELECT 1 FROM {events} e WHERE e.workspace_id = %s AND e.message_id = s.message_id)"
SKIP_CONFLICTS = "WHERE true\nON CONFLICT DO NOTHING"


def load_events(*, workspace, normalised, identities=()):
    """Put the normalised rows (a text file of CSV) into the event table; returns counts and the
    range of days (workspace time) of the rows, or (None, None) for none."""
    from accounts.models import Account

    from ..ingest import parse_batch
    from ..models import ProductUser
    from .batches import hold_accounts, ingest_batch

    now = timezone.now()
    settings = ingest_settings(workspace=workspace)
    with transaction.atomic():
        if identities:
            parsed = parse_batch(list(identities), received_at=now, mapping=settings.trait_mapping or None)
            ingest_batch(workspace=workspace, settings=settings, parsed=parsed, received_at=now)
        with connection.cursor() as cursor:
            _create_stage(cursor)
            _fill_stage(cursor, normalised)
            cursor.execute(f"SELECT count(*), min(occurred_at), max(occurred_at) FROM {STAGE}")
            staged, first, last = cursor.fetchone()
            if connection.vendor == "postgresql":
                # The staging table has no statistics: without this the planner may look each row's
                # account up through an index (millions of lookups) instead of hashing the accounts once.
                cursor.execute("SET LOCAL enable_nestloop = off")
            # The event table has no foreign keys (a check per row and key cost more than the rest of
            # the commit): the workspace and the accounts the rows may name are held instead, so none
            # is deleted before this commits (see UsageEvent).
            hold_accounts(workspace_id=workspace.pk, every=True)
            tables = {"events": UsageEvent._meta.db_table, "stage": STAGE, "users": ProductUser._meta.db_table,
                      "accounts": Account._meta.db_table}
            params = [workspace.pk, connection.ops.adapt_datetimefield_value(now), workspace.pk, workspace.pk]
            try:
                # Most files hold each message id once: then a plain insert of the ids the workspace
                # lacks does it. A file that repeats an id (or an event the tracking API stored
                # meanwhile) breaks the unique constraint, and the insert is redone skipping conflicts.
                with transaction.atomic():
                    cursor.execute(LOAD_SQL.format(**tables, dedup=NEW_IDS_ONLY.format(**tables)),
                                   [*params, workspace.pk])
            except IntegrityError:
                cursor.execute(LOAD_SQL.format(**tables, dedup=SKIP_CONFLICTS), params)
            inserted = max(cursor.rowcount, 0)
            cursor.execute(f"DROP TABLE {STAGE}")
            if connection.vendor == "postgresql" and inserted >= ANALYZE_AFTER:
                # A bulk load changes the table's statistics; autovacuum may be off or late.
                cursor.execute(f"ANALYZE {UsageEvent._meta.db_table}")
    first_day = last_day = None
    if staged:
        first, last = (_as_datetime(first), _as_datetime(last))
        first_day, last_day = first.astimezone(workspace.tz).date(), last.astimezone(workspace.tz).date()
    return {"rows": staged, "inserted": inserted, "duplicates": staged - inserted,
            "first_day": first_day, "last_day": last_day}


def _as_datetime(value):
    if isinstance(value, str):  # SQLite hands raw text back
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


# --- Rebuild ---------------------------------------------------------------------------------------

# The range's rows are read once (a materialised CTE: each aggregate would otherwise scan the event
# table again), and events per name are folded into one row a day before the join, so the join pairs
# one row with one row instead of grouping again by the JSON it built: 24 s -> 18 s for a year of
# 6 million events (docs/benchmarks.md, section 5).
REBUILD_SQL = """
WITH range_rows AS MATERIALIZED (
    SELECT account_id, {day} AS day, event, user_id FROM {events}
    WHERE workspace_id = %s AND account_id IS NOT NULL AND occurred_at >= %s AND occurred_at < %s
)
INSERT INTO {rollups} (workspace_id, account_id, day, events, active_users, event_counts, user_ids)
SELECT %s, per_day.account_id, per_day.day, per_day.events, coalesce(people.users, 0),
       per_day.event_counts, coalesce(people.user_ids, {empty_list})
FROM (
    SELECT per_event.account_id, per_event.day, sum(per_event.n) AS events,
           {object_agg}(per_event.event, per_event.n) AS event_counts
    FROM (SELECT account_id, day, event, count(*) AS n FROM range_rows GROUP BY 1, 2, 3) per_event
    GROUP BY per_event.account_id, per_event.day
) per_day
LEFT JOIN (
    SELECT pairs.account_id, pairs.day, count(*) FILTER (WHERE pairs.user_id <> '') AS users,
           {user_list} AS user_ids
    FROM (SELECT DISTINCT account_id, day, user_id FROM range_rows {pairs_order}) pairs
    GROUP BY pairs.account_id, pairs.day
) people ON people.account_id = per_day.account_id AND people.day = per_day.day
"""


def days_with_events(*, workspace, first, last):
    """The days (workspace time) between `first` and `last` that have raw events of an account."""
    start, end = workspace.day_start(first), workspace.day_start(last + dt.timedelta(days=1))
    days = set()
    day_sql, day_params = connection.ops.datetime_cast_date_sql("occurred_at", (), workspace.time_zone)
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {day_sql} FROM {UsageEvent._meta.db_table} WHERE workspace_id = %s "
                       "AND account_id IS NOT NULL AND occurred_at >= %s AND occurred_at < %s",
                       [*day_params, workspace.pk, ops.adapt_datetimefield_value(start),
                        ops.adapt_datetimefield_value(end)])
        for (value,) in cursor.fetchall():
            days.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))
    return days


def rebuild_rollups(*, workspace, first, last, features=True):
    """Recompute the daily rollups of every day from `first` to `last` (workspace days) in one statement.

    Days inside retention are replaced by what their raw events say (none: no rollup), as the nightly
    does. A day before retention whose raw events are gone keeps its rollup and is returned in
    `days_without_events`; one that has raw events (an import of old history) is rebuilt from them.
    Then, with `features`, the accounts' 30-day active users as of today.
    """
    settings = ingest_settings(workspace=workspace)
    today = workspace.today()
    first_kept = retention_start(workspace=workspace, settings=settings, today=today)
    last = min(last, today + dt.timedelta(days=1))
    if first > last:
        return {"first_day": first, "last_day": last, "days_rebuilt": 0, "rows": 0, "days_without_events": []}
    old_days = set()
    if first < first_kept:
        old_days = days_with_events(workspace=workspace, first=first, last=min(last, first_kept - dt.timedelta(days=1)))
    gone = []
    day = first
    while day < first_kept and day <= last:
        if day not in old_days:
            gone.append(day)
        day += dt.timedelta(days=1)
    start, end = workspace.day_start(first), workspace.day_start(last + dt.timedelta(days=1))
    ops = connection.ops
    rollups = DailyAccountUsage.objects.for_workspace(workspace)
    with transaction.atomic():
        # Serialised with the incremental and nightly rollups of this workspace (see rollup_days).
        list(IngestSettings.objects.for_workspace(workspace).select_for_update().filter(pk=settings.pk)
             .values_list("pk", flat=True))
        rollups.filter(day__gte=max(first, first_kept), day__lte=last).delete()
        if old_days:
            rollups.filter(day__in=sorted(old_days)).delete()
        # The days kept as they are (raw events gone) have no events, so the statement writes none of them.
        day_sql, day_params = connection.ops.datetime_cast_date_sql("occurred_at", (), workspace.time_zone)
        sql = REBUILD_SQL.format(rollups=DailyAccountUsage._meta.db_table, events=UsageEvent._meta.db_table,
                                 day=day_sql, **rollup_sql_parts(pairs_order="ORDER BY 1, 2, 3"))
        window = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
        params = [*day_params, workspace.pk, *window, workspace.pk]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A one-off scan of a long range: hash aggregates want memory (docs/benchmarks.md).
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # Both sides of the join are aggregates the planner estimates at a row or so (fresh
                # rows, autovacuum off): a nested loop then re-runs the inner aggregate per row (25 s
                # for 10,000 events instead of 0.1 s). Hash joins are right for every size here.
                cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute(sql, params)
            written = max(cursor.rowcount, 0)
    rebuilt = (last - first).days + 1 - len(gone)
    if features and last >= today - dt.timedelta(days=30):
        refresh_active_users(workspace=workspace, as_of=today)
    return {"first_day": first, "last_day": last, "days_rebuilt": rebuilt, "rows": written,
            "days_without_events": gone}


def import_history(*, workspace, normalised, identities=(), progress=None):
    """Load normalised rows and rebuild the rollups of their days. `progress(phase)` is told each step."""
    if progress:
        progress("loading")
    loaded = load_events(workspace=workspace, normalised=normalised, identities=identities)
    result = dict(loaded)
    if loaded["first_day"] is not None:
        if progress:
            progress("rebuilding")
        rebuilt = rebuild_rollups(workspace=workspace, first=loaded["first_day"], last=loaded["last_day"])
        result.update(days_rebuilt=rebuilt["days_rebuilt"], rollup_rows=rebuilt["rows"],
                      days_without_events=rebuilt["days_without_events"])
    return result


def check_to_file(chunks, *, file_format):
    """read_history into an in-memory text buffer (small files, tests); returns (CheckedFile, buffer)."""
    out = io.StringIO()
    checked = read_history(chunks, file_format=file_format, out=out)
    out.seek(0)
    return checked, out


# --- Jobs (the page, the API and the command) ------------------------------------------------------

def start_import(*, workspace, actor, chunks, filename, file_format=None, run=True):
    """Check an uploaded file (HistoryError on a bad row: nothing stored), keep its checked rows as a
    job and start it (a Celery task; in-process without a broker). Returns the job."""
    import tempfile

    from django.core.files import File

    from workspaces.audit import record_audit
    from workspaces.policy import authorize

    from ..models import HistoryImport

    authorize(actor, "usage.import_history")
    chunks = iter(chunks)
    head = next(chunks, b"")
    file_format = file_format or sniff_format(filename, head)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
        checked = read_history(_prepend(head, chunks), file_format=file_format, out=out)
        out.seek(0)
        job = HistoryImport(workspace=workspace, created_by=_membership(actor), filename=(filename or "")[:255],
                            identities=checked.identities, rows=checked.rows,
                            first_day=checked.first and checked.first.astimezone(workspace.tz).date(),
                            last_day=checked.last and checked.last.astimezone(workspace.tz).date())
        job.file.save("history.csv", File(out), save=False)
        job.save()
    record_audit(workspace=workspace, actor=actor, action="usage_history.imported", obj=job,
                 changes={"file": job.filename, "rows": job.rows, "format": file_format})
    if run:
        enqueue(job)
        job.refresh_from_db()
    return job


def start_rebuild(*, workspace, actor, first, last, run=True):
    """A job that rebuilds the rollups of `first`..`last` from the raw events (and says which days
    it could not, their raw events being gone)."""
    from workspaces.audit import record_audit
    from workspaces.policy import authorize

    from ..models import HistoryImport

    authorize(actor, "usage.import_history")
    job = HistoryImport.objects.create(workspace=workspace, created_by=_membership(actor), first_day=first,
                                       last_day=last, kind=HistoryImport.Kind.REBUILD)
    record_audit(workspace=workspace, actor=actor, action="usage_history.rebuilt", obj=job,
                 changes={"first_day": first.isoformat(), "last_day": last.isoformat()})
    if run:
        enqueue(job)
        job.refresh_from_db()
    return job


def _membership(actor):
    from workspaces.models import Membership

    return actor if isinstance(actor, Membership) else None


def _prepend(head, chunks):
    if head:
        yield head
    yield from chunks


def enqueue(job):
    """Run the job's task: queued with a broker, in-process (eager) without one. Never raises for
    an unavailable broker: the job stays queued and the page says so."""
    from ..tasks import run_history_job

    try:
        run_history_job.apply_async((job.pk,), retry_policy={"max_retries": 0})
    except Exception:  # kombu's OperationalError: broker down
        import logging

        logging.getLogger(__name__).warning("history job %s not enqueued", job.pk, exc_info=True)
        return False
    return True


def run_job(*, job_id):
    """The task's work: load (imports) and rebuild, recording progress and the outcome on the job."""
    from ..models import HistoryImport

    jobs = HistoryImport.all_workspaces  # a task takes an id; the row names its workspace
    claimed = jobs.filter(pk=job_id, status=HistoryImport.Status.QUEUED).update(status=HistoryImport.Status.LOADING)
    if not claimed:
        return None  # done, or taken by another delivery of the same task
    job = jobs.select_related("workspace").get(pk=job_id)

    def progress(phase):
        status = HistoryImport.Status.LOADING if phase == "loading" else HistoryImport.Status.REBUILDING
        jobs.filter(pk=job.pk).update(status=status)

    try:
        if job.kind == HistoryImport.Kind.REBUILD:
            progress("rebuilding")
            result = rebuild_rollups(workspace=job.workspace, first=job.first_day, last=job.last_day)
            result = {"days_rebuilt": result["days_rebuilt"], "rollup_rows": result["rows"],
                      "days_without_events": result["days_without_events"]}
        else:
            with job.file.open("rb") as fh:
                text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
                result = import_history(workspace=job.workspace, normalised=text, identities=job.identities,
                                        progress=progress)
    except Exception as exc:
        jobs.filter(pk=job.pk).update(status=HistoryImport.Status.FAILED, failure=str(exc)[:2000],
                                      finished_at=timezone.now())
        raise
    summary = {key: (value.isoformat() if isinstance(value, dt.date) else value) for key, value in result.items()
               if key != "days_without_events"}
    summary["days_without_events"] = [d.isoformat() for d in result.get("days_without_events", [])]
    jobs.filter(pk=job.pk).update(status=HistoryImport.Status.DONE, summary=summary, finished_at=timezone.now())
    if job.file:
        job.file.delete(save=False)
        jobs.filter(pk=job.pk).update(file="")
    job.refresh_from_db()
    return job
