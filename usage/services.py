"""Writes of the usage app: write keys, tracking-API batches, daily rollups and retention.

A batch is written in one transaction with a handful of set-based statements whatever its size
(one bulk insert for its events, one for its set-aside messages, a few for accounts and users),
so the tracking API answers 200 only once everything in it is durably stored.
"""

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from functools import partial
from operator import itemgetter

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact
from accounts.services import copy_nightly_values
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.models import AuditEvent
from workspaces.policy import acting_member, authorize

from .models import (
    MAPPABLE_ACCOUNT_FIELDS,
    DailyAccountUsage,
    DirtyUsageDay,
    IngestSettings,
    ProcessedMessage,
    ProductUser,
    RejectedMessage,
    UsageEvent,
    WriteKey,
)
from .selectors import ingest_settings

logger = logging.getLogger(__name__)

# --- Write keys ----------------------------------------------------------------------------------

# The tracking API looks keys up on every request; a short in-process cache saves that query.
# A revoked key therefore stops working within KEY_CACHE_SECONDS in other processes (at once here).
KEY_CACHE_SECONDS = 10
_key_cache = {}


@transaction.atomic
def create_write_key(*, workspace, name, actor):
    """Create a write key; returns (write_key, plaintext). The plaintext is never stored."""
    authorize(actor, "usage.manage")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the key a name, e.g. the app that sends events."), field="name")
    plaintext = WriteKey.generate_key()
    key = WriteKey(
        workspace=workspace, name=name[:100], key_hash=WriteKey.hash_key(plaintext),
        key_hint=plaintext[:10], created_by=acting_member(actor),
    )
    key.full_clean()
    key.save()
    record_audit(workspace=workspace, actor=actor, action="write_key.created", obj=key)
    return key, plaintext


@transaction.atomic
def revoke_write_key(*, write_key, actor):
    authorize(actor, "usage.manage", write_key)
    if write_key.revoked_at is None:
        write_key.revoked_at = timezone.now()
        write_key.save(update_fields=["revoked_at"])
        record_audit(workspace=write_key.workspace, actor=actor, action="write_key.revoked", obj=write_key)
    _key_cache.clear()
    return write_key


@transaction.atomic
def rotate_write_key(*, write_key, actor):
    """A new key with the same name. The old one keeps working until revoked: no downtime."""
    authorize(actor, "usage.manage", write_key)
    if write_key.revoked_at is not None:
        raise DomainError(_("This key is already revoked; create a new one."), field="write_key")
    new_key, plaintext = create_write_key(workspace=write_key.workspace, name=write_key.name, actor=actor)
    record_audit(
        workspace=write_key.workspace, actor=actor, action="write_key.rotated", obj=write_key,
        changes={"replacement": new_key.key_hint},
    )
    return new_key, plaintext


def authenticate_write_key(*, key):
    """(write_key, ingest settings) for an active key, else None. Cached briefly in-process."""
    if not key or len(key) > 200:
        return None
    digest = WriteKey.hash_key(key)
    now = time.monotonic()
    hit = _key_cache.get(digest)
    if hit is not None and hit[0] > now:
        return hit[1]
    # The key is what tells the workspace: looked up across all of them, by its hash.
    found = WriteKey.all_workspaces.active().select_related("workspace").filter(key_hash=digest).first()
    result = (found, ingest_settings(workspace=found.workspace)) if found else None
    if len(_key_cache) > 10_000:
        _key_cache.clear()
    _key_cache[digest] = (now + KEY_CACHE_SECONDS, result)
    return result


def note_key_used(*, write_key, at):
    """Keep `last_used_at` roughly current without a write per request."""
    if write_key.last_used_at is None or at - write_key.last_used_at > dt.timedelta(minutes=1):
        WriteKey.objects.for_workspace(write_key.workspace_id).filter(pk=write_key.pk).update(last_used_at=at)
        write_key.last_used_at = at


# --- Settings ------------------------------------------------------------------------------------

@transaction.atomic
def ensure_defaults(*, workspace):
    """A new workspace's ingestion settings (the defaults); idempotent. Called by provisioning."""
    IngestSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)


def parse_trait_mapping(text):
    """`trait = field` lines → {trait: field}; raises DomainError naming the bad line."""
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        trait, sep, field = (part.strip() for part in line.partition("="))
        if not sep or not trait or field not in MAPPABLE_ACCOUNT_FIELDS:
            raise DomainError(
                _("Line %(n)d: write “trait = field”, with field one of %(fields)s.")
                % {"n": number, "fields": ", ".join(MAPPABLE_ACCOUNT_FIELDS)},
                field="trait_mapping",
            )
        mapping[trait] = field
    return mapping


@transaction.atomic
def update_ingest_settings(*, workspace, actor, **fields):
    authorize(actor, "usage.manage")
    mapping = fields.get("trait_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict) or any(
            not isinstance(k, str) or not k or v not in MAPPABLE_ACCOUNT_FIELDS for k, v in mapping.items()
        ):
            raise DomainError(_("Map traits to one of: %s.") % ", ".join(MAPPABLE_ACCOUNT_FIELDS),
                              field="trait_mapping")
    obj = ingest_settings(workspace=workspace)
    allowed = {"create_unknown_accounts", "trait_mapping", "numeric_traits_to_attributes", "retention_days"}
    changes = {}
    for name, value in fields.items():
        if name not in allowed:
            raise DomainError(_("Unknown setting."), field=name)
        if getattr(obj, name) != value:
            changes[name] = [str(getattr(obj, name)), str(value)]
            setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    _key_cache.clear()
    if changes:
        record_audit(workspace=workspace, actor=actor, action="usage_settings.updated", obj=obj, changes=changes)
    return obj


# --- Ingestion -----------------------------------------------------------------------------------

MAX_SET_ASIDE_PAYLOAD = 32 * 1024


def _set_aside(workspace, rejected, received_at):
    rows = []
    for reason, message in rejected:
        payload = message if isinstance(message, dict) else {"value": message}
        if len(json.dumps(payload, default=str)) > MAX_SET_ASIDE_PAYLOAD:
            payload = {"truncated": True, "messageId": str(payload.get("messageId", ""))[:200]}
        message_id = payload.get("messageId") if isinstance(payload, dict) else ""
        kind = payload.get("type") if isinstance(payload, dict) else ""
        rows.append(RejectedMessage(
            workspace=workspace, received_at=received_at, reason=reason[:300], payload=payload,
            message_id=str(message_id or "")[:200], message_type=str(kind or "")[:20],
        ))
    RejectedMessage.objects.bulk_create(rows)


def _first_deliveries(workspace, parsed, received_at):
    """Drop identify/group/alias calls already applied (same messageId); record the new ones."""
    ids = [m[0] for m in parsed.identifies] + [m[0] for m in parsed.groups] + [m[0] for m in parsed.aliases]
    if not ids:
        return
    seen = set(
        ProcessedMessage.objects.for_workspace(workspace).filter(message_id__in=ids).values_list("message_id", flat=True)
    )
    fresh = []

    def keep(messages):
        kept = []
        for message in messages:
            if message[0] not in seen:
                seen.add(message[0])
                fresh.append(message[0])
                kept.append(message)
        return kept

    parsed.identifies = keep(parsed.identifies)
    parsed.groups = keep(parsed.groups)
    parsed.aliases = keep(parsed.aliases)
    ProcessedMessage.objects.bulk_create(
        [ProcessedMessage(workspace=workspace, message_id=m, received_at=received_at) for m in sorted(fresh)],
        ignore_conflicts=True,
    )


def _apply_groups(workspace, settings, groups):
    """Upsert the accounts named by group calls; returns {groupId: Account} for those that exist."""
    wanted = {}
    for _mid, _user, group_id, fields, attributes, _at in groups:
        merged_fields, merged_attributes = wanted.setdefault(group_id, ({}, {}))
        merged_fields.update(fields)
        if settings.numeric_traits_to_attributes:
            merged_attributes.update(attributes)
    group_ids = sorted(wanted)
    accounts = {a.external_id: a for a in Account.objects.for_workspace(workspace).filter(external_id__in=group_ids)}
    missing = [g for g in group_ids if g not in accounts]
    if missing and settings.create_unknown_accounts:
        new = []
        for group_id in missing:
            fields, attributes = wanted[group_id]
            values = {k: v for k, v in fields.items() if k != "name"}
            new.append(Account(
                workspace=workspace, external_id=group_id, name=fields.get("name") or group_id,
                attributes=dict(attributes), **values,
            ))
        # Another batch may create the same account at the same moment: the loser reads it back.
        Account.objects.bulk_create(new, ignore_conflicts=True)
        created = list(Account.objects.for_workspace(workspace).filter(external_id__in=missing))
        accounts.update({a.external_id: a for a in created})
        AuditEvent.objects.bulk_create([
            AuditEvent(workspace=workspace, action="account.created", object_type="account", object_id=str(a.pk),
                       object_repr=str(a)[:200], changes={"source": "tracking API"})
            for a in created
        ])
    changed, changed_fields = [], set()
    for group_id, account in accounts.items():
        fields, attributes = wanted[group_id]
        dirty = False
        for field, value in fields.items():
            if getattr(account, field) != value:
                setattr(account, field, value)
                changed_fields.add(field)
                dirty = True
        if attributes:
            merged = {**(account.attributes or {}), **attributes}
            if merged != account.attributes:
                account.attributes = merged
                changed_fields.add("attributes")
                dirty = True
        if dirty:
            changed.append(account)
    if changed:
        now = timezone.now()
        for account in changed:
            account.updated_at = now
        changed.sort(key=lambda a: a.pk)
        Account.objects.for_workspace(workspace).bulk_update(changed, sorted(changed_fields) + ["updated_at"])
    return accounts


def _apply_identities(workspace, identifies, groups, accounts_by_group):
    """Upsert product users from identify calls and group memberships; link accounts and contacts."""
    user_ids = sorted({m[1] for m in identifies} | {m[1] for m in groups if m[1]})
    if not user_ids:
        return {}
    users = {u.user_id: u for u in ProductUser.objects.for_workspace(workspace).filter(user_id__in=user_ids)}
    missing = [u for u in user_ids if u not in users]
    if missing:
        ProductUser.objects.bulk_create(
            [ProductUser(workspace=workspace, user_id=u) for u in missing], ignore_conflicts=True
        )
        users.update({u.user_id: u for u in ProductUser.objects.for_workspace(workspace).filter(user_id__in=missing)})

    def seen(user, at):
        user.first_seen_at = at if user.first_seen_at is None else min(user.first_seen_at, at)
        user.last_seen_at = at if user.last_seen_at is None else max(user.last_seen_at, at)

    regrouped = set()
    for _mid, user_id, traits, email, group_id, at in identifies:
        user = users[user_id]
        if traits:
            user.traits = {**(user.traits or {}), **traits}
        if email and len(email) <= 254:
            user.email = email
        if group_id:
            user.group_id = group_id
            regrouped.add(user_id)
        seen(user, at)
    for _mid, user_id, group_id, _f, _a, at in groups:
        if user_id:
            users[user_id].group_id = group_id
            regrouped.add(user_id)
            seen(users[user_id], at)

    account_ids = {g: a.pk for g, a in accounts_by_group.items()}
    unknown = {users[u].group_id for u in regrouped} - account_ids.keys()
    if unknown:
        account_ids.update(
            Account.objects.for_workspace(workspace).filter(external_id__in=unknown).values_list("external_id", "id")
        )
    for user_id in regrouped:
        user = users[user_id]
        user.account_id = account_ids.get(user.group_id)

    # A user becomes the contact with the same email on their account (or on the only account
    # that has such a contact, when the user has none yet).
    emails = {u.email for u in users.values() if u.email}
    if emails:
        variants = emails | {e.lower() for e in emails}
        by_email = defaultdict(list)
        for contact_id, account_id, email in Contact.objects.for_workspace(workspace).filter(email__in=variants
        ).values_list("id", "account_id", "email"):
            by_email[email.lower()].append((contact_id, account_id))
        for user in users.values():
            candidates = by_email.get(user.email.lower(), []) if user.email else []
            same_account = [c for c, a in candidates if a == user.account_id]
            if same_account:
                user.contact_id = same_account[0]
            elif user.account_id is None and len(candidates) == 1:
                user.contact_id, user.account_id = candidates[0]
    ProductUser.objects.for_workspace(workspace).bulk_update(
        sorted(users.values(), key=lambda u: u.pk),
        ["traits", "email", "group_id", "account", "contact", "first_seen_at", "last_seen_at"],
    )
    return users


def _apply_alias(workspace, previous_id, user_id, tz):
    """Merge `previous_id` into `user_id`: the product user and the events. Returns touched days."""
    users = {u.user_id: u for u in ProductUser.objects.for_workspace(workspace).filter(user_id__in=[previous_id, user_id])}
    old, current = users.get(previous_id), users.get(user_id)
    if old is not None and current is not None:
        current.traits = {**(old.traits or {}), **(current.traits or {})}
        current.email = current.email or old.email
        if not current.group_id:
            current.group_id, current.account_id = old.group_id, old.account_id
        current.contact_id = current.contact_id or old.contact_id
        firsts = [t for t in (old.first_seen_at, current.first_seen_at) if t]
        lasts = [t for t in (old.last_seen_at, current.last_seen_at) if t]
        current.first_seen_at = min(firsts) if firsts else None
        current.last_seen_at = max(lasts) if lasts else None
        old.delete()
        current.save()
    elif old is not None:
        old.user_id = user_id
        old.save(update_fields=["user_id"])
    events = UsageEvent.objects.for_workspace(workspace).filter(user_id=previous_id)
    span = events.filter(account__isnull=False).aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    events.update(user_id=user_id)
    return _days_between(span["first"], span["last"], tz)


def _days_between(first, last, tz):
    if first is None:
        return set()
    day, end = first.astimezone(tz).date(), last.astimezone(tz).date()
    days = set()
    while day <= end:
        days.add(day)
        day += dt.timedelta(days=1)
    return days


def _store_events(workspace, events, users, accounts_by_group, received_at, tz):
    """One bulk insert; a messageId already stored is skipped by the database (exactly once)."""
    links = {u.user_id: (u.group_id, u.account_id) for u in users.values()}
    need_user = {m[3] for m in events if not m[4] and m[3] and m[3] not in links}
    if need_user:
        for user_id, group_id, account_id in ProductUser.objects.for_workspace(workspace).filter(user_id__in=need_user
        ).values_list("user_id", "group_id", "account_id"):
            links[user_id] = (group_id, account_id)
    account_ids = {g: a.pk for g, a in accounts_by_group.items()}
    group_ids = {m[4] for m in events if m[4]} | {link[0] for link in links.values() if link[0]}
    unknown = group_ids - account_ids.keys()
    if unknown:
        account_ids.update(
            Account.objects.for_workspace(workspace).filter(external_id__in=unknown).values_list("external_id", "id")
        )
    rows, days = [], set()
    workspace_id = workspace.pk
    for message_id, kind, name, user_id, group_id, occurred_at, properties in events:
        fallback = None
        if not group_id:
            group_id, fallback = links.get(user_id, ("", None))
        account_id = account_ids.get(group_id) or fallback
        if account_id is not None:
            days.add(occurred_at.astimezone(tz).date())
        rows.append((workspace_id, message_id, account_id, group_id, user_id, kind, name, occurred_at,
                     received_at, properties))
    # Sorted, so that two batches re-sending the same messages lock rows in the same order.
    rows.sort(key=itemgetter(1))
    insert_events(rows)
    return days


EVENT_COLUMNS = ("workspace_id", "message_id", "account_id", "group_id", "user_id", "event_type", "event",
                 "occurred_at", "received_at", "properties")


def insert_events(rows):
    """INSERT rows (tuples in EVENT_COLUMNS order), skipping messageIds the workspace already has.

    Hand-written SQL rather than bulk_create: the ORM's per-field preparation cost more than the
    database itself at thousands of events per second. The statements are the portable
    ON CONFLICT DO NOTHING (PostgreSQL) and INSERT OR IGNORE (SQLite); other databases use the ORM.
    """
    if not rows:
        return
    adapt = connection.ops.adapt_datetimefield_value
    dumps = json.dumps
    values = [(*row[:7], adapt(row[7]), adapt(row[8]), dumps(row[9])) for row in rows]
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in EVENT_COLUMNS)
    if connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2":
        from psycopg2.extras import execute_values

        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor, f"INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT DO NOTHING", values,
                page_size=1000,
            )
    elif connection.vendor in ("sqlite", "postgresql"):
        placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
        prefix, suffix = ("INSERT OR IGNORE", "") if connection.vendor == "sqlite" else ("INSERT", " ON CONFLICT DO NOTHING")
        with connection.cursor() as cursor:
            cursor.executemany(f"{prefix} INTO {table} ({columns}) VALUES ({placeholders}){suffix}", values)
    else:
        UsageEvent.objects.bulk_create(
            [UsageEvent(**dict(zip(EVENT_COLUMNS, row, strict=True))) for row in rows],
            ignore_conflicts=True, batch_size=500,
        )


def attach_unmatched_events(*, workspace, group_ids=None, chunk=20_000):
    """Give events waiting for their account (matched on groupId = external_id) that account.

    Returns the days (workspace time) whose rollups changed. Set-based, in chunks of ids.
    """
    waiting = UsageEvent.objects.for_workspace(workspace).filter(account__isnull=True).exclude(group_id="")
    if group_ids is not None:
        waiting = waiting.filter(group_id__in=list(group_ids))
    known = Account.objects.for_workspace(workspace).exclude(external_id="").values("external_id")
    matching = waiting.filter(group_id__in=Subquery(known))
    span = matching.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    if span["first"] is None:
        return set()
    account_of = Account.objects.for_workspace(workspace).filter(external_id=OuterRef("group_id")).values("id")[:1]
    while True:
        ids = list(matching.order_by("id").values_list("id", flat=True)[:chunk])
        if not ids:
            break
        UsageEvent.objects.for_workspace(workspace).filter(pk__in=ids).update(account_id=Subquery(account_of))
    return _days_between(span["first"], span["last"], workspace.tz)


def _mark_dirty(workspace, days):
    DirtyUsageDay.objects.bulk_create([DirtyUsageDay(workspace=workspace, day=d) for d in sorted(days)])


def _rollup_debounce_seconds():
    # Rollups feed daily views and the nightly health score: half a minute of lag costs nothing,
    # and each run rescans the day, so bursts of batches must share one run.
    return getattr(django_settings, "USAGE_ROLLUP_DEBOUNCE_SECONDS", 30)


def rollup_pending_key(workspace_id):
    return f"usage:rollup-pending:{workspace_id}"


def schedule_rollup(workspace_id):
    """Enqueue one rollup per workspace per few seconds, however many batches arrive.

    With a broker, the flag is cleared when the task starts, before it reads the dirty days, so a
    batch that lands while it runs enqueues the next one: nothing marked dirty waits for the night.
    Without one (tasks run in-process), at most one rollup runs per window; days marked in the
    window are rolled up by the first batch after it, or by the night.
    """
    from .tasks import rollup_usage

    eager = rollup_usage.app.conf.task_always_eager
    debounce = _rollup_debounce_seconds()
    if not cache.add(rollup_pending_key(workspace_id), 1, timeout=debounce if eager else debounce * 4 + 60):
        return
    try:
        rollup_usage.apply_async((workspace_id,), countdown=debounce)
    except Exception:
        # The broker is down. The days stay marked; the next batch or the night rolls them up.
        cache.delete(rollup_pending_key(workspace_id))
        logger.exception("could not enqueue the usage rollup for workspace %s", workspace_id)


def ingest_batch(*, workspace, settings, parsed, received_at):
    """Store a parsed batch in one transaction. Returns {"accepted": n, "set_aside": m}."""
    tz = workspace.tz
    with transaction.atomic():
        if parsed.rejected:
            _set_aside(workspace, parsed.rejected, received_at)
        _first_deliveries(workspace, parsed, received_at)
        days = set()
        accounts_by_group = {}
        if parsed.groups:
            accounts_by_group = _apply_groups(workspace, settings, parsed.groups)
            if accounts_by_group:
                days |= attach_unmatched_events(workspace=workspace, group_ids=accounts_by_group)
        users = {}
        if parsed.identifies or parsed.groups:
            users = _apply_identities(workspace, parsed.identifies, parsed.groups, accounts_by_group)
        for _mid, previous_id, user_id, _at in parsed.aliases:
            if previous_id != user_id:
                days |= _apply_alias(workspace, previous_id, user_id, tz)
                users.pop(previous_id, None)
                users.pop(user_id, None)
        if parsed.events:
            days |= _store_events(workspace, parsed.events, users, accounts_by_group, received_at, tz)
        if days:
            _mark_dirty(workspace, days)
            transaction.on_commit(partial(schedule_rollup, workspace.pk))
    return {"accepted": parsed.accepted, "set_aside": len(parsed.rejected)}


# --- Rollups, nightly step and retention ---------------------------------------------------------

def retention_start(*, workspace, settings, today):
    """The first day whose raw events are kept. Days before it are never rolled up again."""
    return today - dt.timedelta(days=settings.retention_days)


def rollup_days(*, workspace, days):
    """Recompute DailyAccountUsage of these days from raw events: delete-then-insert per day.

    Rollups of one workspace are serialised by a row lock on its settings row, so two runs at
    once (the incremental task and the night) write one after the other, never interleaved.
    """
    settings = ingest_settings(workspace=workspace)
    first_kept = retention_start(workspace=workspace, settings=settings, today=workspace.today())
    done = []
    for day in sorted(d for d in set(days) if d >= first_kept):
        start, end = workspace.day_start(day), workspace.day_start(day + dt.timedelta(days=1))
        with transaction.atomic():
            list(IngestSettings.objects.for_workspace(workspace).select_for_update().filter(pk=settings.pk)
                 .values_list("pk", flat=True))
            DailyAccountUsage.objects.for_workspace(workspace).filter(day=day).delete()
            _insert_rollup(workspace=workspace, day=day, start=start, end=end)
        done.append(day)
    return done


# One INSERT … SELECT per day, computed where the events are: at 100k accounts building the rows
# in Python took half a minute a day. The same statement on both databases but for the name of
# the JSON object aggregate.
ROLLUP_SQL = """
INSERT INTO {rollups} (workspace_id, account_id, day, events, active_users, event_counts)
SELECT %(ws)s, per_event.account_id, %(day)s, sum(per_event.n), coalesce(people.users, 0),
       {object_agg}(per_event.event, per_event.n)
FROM (
    SELECT account_id, event, count(*) AS n FROM {events}
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL AND occurred_at >= %(start)s AND occurred_at < %(end)s
    GROUP BY account_id, event
) per_event
LEFT JOIN (
    SELECT pairs.account_id, count(*) FILTER (WHERE pairs.user_id <> '') AS users
    FROM (
        SELECT DISTINCT account_id, user_id FROM {events}
        WHERE workspace_id = %(ws)s AND account_id IS NOT NULL AND occurred_at >= %(start)s AND occurred_at < %(end)s
    ) pairs
    GROUP BY pairs.account_id
) people ON people.account_id = per_event.account_id
GROUP BY per_event.account_id, people.users
"""


def _insert_rollup(*, workspace, day, start, end):
    object_agg = "jsonb_object_agg" if connection.vendor == "postgresql" else "json_group_object"
    sql = ROLLUP_SQL.format(rollups=DailyAccountUsage._meta.db_table, events=UsageEvent._meta.db_table,
                            object_agg=object_agg)
    with connection.cursor() as cursor:
        ops = connection.ops  # raw SQL: store-format the values as the ORM would (SQLite keeps UTC text)
        cursor.execute(sql, {"ws": workspace.pk, "day": ops.adapt_datefield_value(day),
                             "start": ops.adapt_datetimefield_value(start), "end": ops.adapt_datetimefield_value(end)})


def rollup_dirty_days(*, workspace, extra_days=()):
    """Roll up every day marked dirty (plus `extra_days`), then delete the marks it read."""
    marks = list(DirtyUsageDay.objects.for_workspace(workspace).values_list("id", "day"))
    done = rollup_days(workspace=workspace, days={day for _id, day in marks} | set(extra_days))
    ids = [mark_id for mark_id, _day in marks]
    for start in range(0, len(ids), 1000):
        # Only the marks read above: one committed meanwhile names events this run may not have seen.
        DirtyUsageDay.objects.for_workspace(workspace).filter(pk__in=ids[start:start + 1000]).delete()
    return done


def enforce_retention(*, workspace, as_of, chunk=5_000):
    """Delete raw events (and dedup/set-aside records) older than the workspace keeps them."""
    settings = ingest_settings(workspace=workspace)
    first_kept = retention_start(workspace=workspace, settings=settings, today=as_of)
    cutoff = workspace.day_start(first_kept)
    deleted = 0
    for model, field in ((UsageEvent, "occurred_at"), (ProcessedMessage, "received_at"),
                         (RejectedMessage, "received_at")):
        old = model.objects.for_workspace(workspace).filter(**{f"{field}__lt": cutoff})
        while True:
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                break
            model.objects.for_workspace(workspace).filter(pk__in=ids).delete()
            if model is UsageEvent:
                deleted += len(ids)
    return deleted


ACTIVE_USER_DAYS = 30


def refresh_active_users(*, workspace, as_of):
    """Copy onto each account its distinct product users with events in the 30 days up to `as_of`
    (workspace days). Segment rules and lists read this column: one pass over the window a night
    instead of one per segment, or per account.

    A recompute of a past day leaves the column alone once a later day has been written.
    """
    from .selectors import distinct_per_account

    settings = ingest_settings(workspace=workspace)
    if settings.active_users_on and as_of < settings.active_users_on:
        return 0
    start = workspace.day_start(as_of - dt.timedelta(days=ACTIVE_USER_DAYS - 1))
    end = workspace.day_start(as_of + dt.timedelta(days=1))
    events = UsageEvent.objects.for_workspace(workspace).filter(
        account__isnull=False, occurred_at__gte=start, occurred_at__lt=end
    )
    counts = distinct_per_account(events, "user_id")
    current = Account.objects.for_workspace(workspace).values_list("id", "active_users_30d")
    changed = [(pk, counts.get(pk, 0)) for pk, now in current.iterator(chunk_size=20_000) if counts.get(pk, 0) != now]
    with transaction.atomic():
        copy_nightly_values(workspace=workspace, fields=["active_users_30d"], rows=changed)
        IngestSettings.objects.for_workspace(workspace).filter(pk=settings.pk).update(active_users_on=as_of)
    return len(changed)

