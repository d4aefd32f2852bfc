"""Storing a tracking-API batch: messages set aside, identities, groups (accounts), aliases, events.

A batch is written in one transaction with a handful of set-based statements whatever its size
(one bulk insert for its events, one for its set-aside messages, a few for accounts and users),
so the tracking API answers 200 only once everything in it is durably stored.
"""

import datetime as dt
import json
import logging
from collections import defaultdict
from functools import partial
from operator import itemgetter

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone

from accounts import history
from accounts.models import Account, Contact
from workspaces.audit import audit_event
from workspaces.models import AuditEvent, Workspace
from workspaces.policy import SystemActor

from ..messages import EARLIEST, FUTURE_ALLOWANCE
from ..models import DirtyUsageDay, ProcessedMessage, ProductUser, RejectedMessage, UsageEvent

logger = logging.getLogger(__name__)


MAX_SET_ASIDE_PAYLOAD = 32 * 1024
# Who the audit log names for the accounts group calls create or change. (The events themselves are
# telemetry, not audited one by one; the write key that admits them is.)
TRACKING_API = SystemActor("tracking API")


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
        # Their tracked values, known from today (a race's loser records the same values again: harmless).
        history.record_current_values(workspace=workspace, source="tracking", accounts=created)
        AuditEvent.objects.bulk_create([
            audit_event(workspace=workspace, actor=TRACKING_API, action="account.created", obj=a,
                        changes={"source": "tracking API"})
            for a in created
        ])
    changed, changed_fields, audits, logged = [], set(), [], []
    for group_id, account in accounts.items():
        fields, attributes = wanted[group_id]
        changes, old = {}, {}
        for field, value in fields.items():
            if getattr(account, field) != value:
                old[field] = getattr(account, field)
                changes[field] = [_text(getattr(account, field)), _text(value)]
                setattr(account, field, value)
                changed_fields.add(field)
        if attributes:
            merged = {**(account.attributes or {}), **attributes}
            if merged != account.attributes:
                changes["attributes"] = [_text(account.attributes), _text(merged)]
                old["attributes"] = account.attributes
                account.attributes = merged
                changed_fields.add("attributes")
        if changes:
            changed.append(account)
            logged.extend(history.changed_rows(workspace, account, old, day=workspace.today(), source="tracking"))
            audits.append(audit_event(workspace=workspace, actor=TRACKING_API, action="account.updated",
                                      obj=account, changes=changes))
    if changed:
        now = timezone.now()
        for account in changed:
            account.updated_at = now
        changed.sort(key=lambda a: a.pk)
        Account.objects.for_workspace(workspace).bulk_update(changed, sorted(changed_fields) + ["updated_at"])
        AuditEvent.objects.bulk_create(audits)
        history.save_rows(logged)
    return accounts


def _text(value):
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else str(value)


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
    span = _span(events.filter(account__isnull=False))
    events.update(user_id=user_id)
    return _days_between(span["first"], span["last"], tz)


def _span(events):
    """(first, last) occurred_at of `events`, within the times ingestion accepts: rows stored before
    it checked them (year 1, year 9999, or 10000 which Python cannot read) would make millions of
    days, or fail. Retention deletes those."""
    return events.filter(occurred_at__gte=EARLIEST, occurred_at__lte=timezone.now() + FUTURE_ALLOWANCE).aggregate(
        first=Min("occurred_at"), last=Max("occurred_at"))


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


def hold_accounts(*, workspace_id, account_ids=None, sql=None, params=(), every=False):
    """Hold the workspace row and the given accounts (FOR KEY SHARE, what a foreign key's check
    takes) until this transaction ends, so neither can be deleted while events naming them are
    written: the event table has no foreign-key constraints (see UsageEvent), and deleting an
    account or a workspace locks its row first (FOR UPDATE), which waits for this.

    The accounts are `account_ids`, those whose ids the query `sql` (with `params`) returns, or with
    `every` all the workspace's accounts (a bulk load, whose accounts are only known row by row).
    PostgreSQL only: SQLite writes one transaction at a time.
    """
    if connection.vendor != "postgresql":
        return
    workspaces = connection.ops.quote_name(Workspace._meta.db_table)
    accounts = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {workspaces} WHERE id = %s FOR KEY SHARE", [workspace_id])
        if every:
            cursor.execute(f"SELECT 1 FROM {accounts} WHERE workspace_id = %s FOR KEY SHARE", [workspace_id])
        elif sql is not None:
            cursor.execute(f"SELECT 1 FROM {accounts} WHERE workspace_id = %s AND id IN ({sql}) FOR KEY SHARE",
                           [workspace_id, *params])
        elif account_ids:
            cursor.execute(f"SELECT 1 FROM {accounts} WHERE workspace_id = %s AND id = ANY(%s) FOR KEY SHARE",
                           [workspace_id, sorted(account_ids)])


def insert_events(rows):
    """INSERT rows (tuples in EVENT_COLUMNS order), skipping messageIds the workspace already has.

    Hand-written SQL rather than bulk_create: the ORM's per-field preparation cost more than the
    database itself at thousands of events per second. The statements are the portable
    ON CONFLICT DO NOTHING (PostgreSQL) and INSERT OR IGNORE (SQLite); other databases use the ORM.
    """
    if not rows:
        return
    for workspace_id in {row[0] for row in rows}:
        hold_accounts(workspace_id=workspace_id,
                      account_ids={row[2] for row in rows if row[0] == workspace_id and row[2] is not None})
    adapt = connection.ops.adapt_datetimefield_value
    dumps = json.dumps
    values = [(*row[:7], adapt(row[7]), adapt(row[8]), dumps(row[9])) for row in rows]
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in EVENT_COLUMNS)
    if connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2":
        from psycopg2.extras import execute_values

        # The driver's own cursor skips Django's error translation: without the wrapper a dropped
        # connection would escape as psycopg2's OperationalError, a 500 instead of the API's 503.
        with connection.cursor() as cursor, connection.wrap_database_errors:
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
    span = _span(matching)
    if span["first"] is None:
        return set()
    account_of = Account.objects.for_workspace(workspace).filter(external_id=OuterRef("group_id")).values("id")[:1]
    while True:
        ids = list(matching.order_by("id").values_list("id", flat=True)[:chunk])
        if not ids:
            break
        with transaction.atomic():
            held = Account.objects.for_workspace(workspace).filter(
                external_id__in=Subquery(UsageEvent.objects.for_workspace(workspace).filter(pk__in=ids).values("group_id")))
            sql, params = held.values("id").query.sql_with_params()
            hold_accounts(workspace_id=workspace.pk, sql=sql, params=params)
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


# Enqueueing happens after a batch is committed, inside the tracking API's request: with the broker
# down it must cost the request nothing, so the broker is tried once (no reconnect loop) and the
# task stores no result (no wait on the result store). The days stay marked in the database; the
# next batch, the periodic sweep (usage.tasks.sweep_usage_rollups) or the night rolls them up.
ENQUEUE_ONCE = {"max_retries": 0, "interval_start": 0, "interval_step": 0, "interval_max": 0}


def schedule_rollup(workspace_id, *, countdown=None, force=False):
    """Enqueue one rollup per workspace per few seconds, however many batches arrive.

    With a broker, the flag is cleared when the task starts, before it reads the dirty days, so a
    batch that lands while it runs enqueues the next one: nothing marked dirty waits for the night.
    Without one (tasks run in-process), at most one rollup runs per window; days marked in the
    window are rolled up by the first batch after it, or by the night.

    Never raises: the batch is already stored, and an unavailable cache or broker only delays the
    rollup (the days stay marked). Returns whether a rollup was enqueued. `force` enqueues even if
    the flag says one is pending (the sweep: a flag can outlive its task, e.g. a write that reached
    a frozen Redis after the client gave up on it).
    """
    from ..tasks import rollup_usage

    eager = rollup_usage.app.conf.task_always_eager
    debounce = _rollup_debounce_seconds()
    key = rollup_pending_key(workspace_id)
    timeout = debounce if eager else debounce * 4 + 60
    try:
        if force:
            cache.set(key, 1, timeout=timeout)
        elif not cache.add(key, 1, timeout=timeout):
            return False
    except Exception:  # the cache backend's own connection errors (e.g. Redis down)
        logger.warning("usage rollup of workspace %s not enqueued: the cache is unavailable; its days stay marked",
                       workspace_id, exc_info=True)
        return False
    try:
        rollup_usage.apply_async((workspace_id,), countdown=debounce if countdown is None else countdown,
                                 retry_policy=ENQUEUE_ONCE)
    except Exception:  # kombu.exceptions.OperationalError (or, run in-process, the rollup's own error)
        logger.warning("usage rollup of workspace %s not enqueued (broker unavailable?); its days stay marked",
                       workspace_id, exc_info=True)
        try:
            cache.delete(key)
        except Exception:
            pass  # it expires on its own
        return False
    return True


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
            # robust: the batch is committed whatever happens to the enqueueing (see schedule_rollup).
            transaction.on_commit(partial(schedule_rollup, workspace.pk), robust=True)
    return {"accepted": parsed.accepted, "set_aside": len(parsed.rejected)}
