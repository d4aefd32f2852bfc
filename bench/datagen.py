"""The synthetic workspace: accounts, CSMs, contacts, product users, touchpoints and usage events.

Rows are generated column-wise with numpy, written as CSV by pyarrow and loaded with COPY into the
platform's real tables (Django's table names, `workspace_id` set, unique message ids). Secondary
indexes and foreign keys of the big tables are dropped for the load and recreated afterwards,
which builds each index once instead of updating it 10 million times.

A marker table records the scale a database was built with, so a later run reuses it.
"""

import datetime as dt
import io
import json
import time

import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .env import database_name, maintenance_url

GENERATOR_VERSION = 2  # 2: the daily rollups keep their user lists
WORKSPACE_SLUG = "bench"
CSM_COUNT = 50
CONTACTS_PER_ACCOUNT = 5
PRODUCT_USERS_PER_ACCOUNT = 20
TOUCHPOINTS_PER_ACCOUNT = 10  # 1 million over 180 days at 100,000 accounts
TOUCHPOINT_DAYS = 180
EVENT_DAYS = 30
EVENT_CHUNK = 1_000_000
PASSWORD = "bench-pass-word"
EVENT_NAMES = [
    "Signed In", "Page Viewed", "Report Viewed", "Dashboard Opened", "Search Performed", "File Uploaded",
    "File Downloaded", "Comment Added", "Task Created", "Task Completed", "Project Created", "Invite Sent",
    "User Invited", "Integration Connected", "Export Created", "Filter Applied", "Chart Created",
    "Workflow Run", "Alert Configured", "Settings Changed", "API Key Created", "Template Used",
    "Note Created", "Meeting Scheduled", "Form Submitted", "Billing Viewed", "Plan Upgraded",
    "Help Opened", "Feedback Sent", "Signed Out",
]
CHANNELS = ["email", "phone", "video_meeting", "onsite_meeting", "chat", "webinar", "newsletter", "in_app"]
BIG_TABLES = ["accounts_contact", "accounts_touchpoint", "usage_productuser", "usage_usageevent"]
MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_marker (
    id int PRIMARY KEY DEFAULT 1,
    scale jsonb NOT NULL,
    generator_version int NOT NULL,
    workspace_id bigint NOT NULL,
    as_of date NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    build_seconds double precision NOT NULL
)
"""


def log(message):
    print(f"[bench] {message}", flush=True)


def connect(url):
    return psycopg2.connect(url)


# --- the database itself --------------------------------------------------------------------------
def ensure_database(url, *, drop=False):
    name = database_name(url)
    conn = psycopg2.connect(maintenance_url(url))
    conn.autocommit = True
    with conn.cursor() as cur:
        if drop:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def read_marker(url):
    try:
        conn = connect(url)
    except psycopg2.OperationalError:
        return None
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('bench_marker')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute("SELECT scale, generator_version, workspace_id, as_of, built_at, build_seconds FROM bench_marker")
        row = cur.fetchone()
    conn.close()
    if row is None:
        return None
    keys = ["scale", "generator_version", "workspace_id", "as_of", "built_at", "build_seconds"]
    return dict(zip(keys, row, strict=True))


def wanted_scale(*, accounts, events):
    return {"accounts": accounts, "events": events}


def marker_matches(marker, scale):
    return bool(marker) and marker["scale"] == scale and marker["generator_version"] == GENERATOR_VERSION


# --- COPY helpers ---------------------------------------------------------------------------------
def copy_table(cur, table, arrow_table):
    arrow_table = with_model_defaults(table, arrow_table)
    buf = io.BytesIO()
    pcsv.write_csv(arrow_table, buf, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    buf.seek(0)
    columns = ", ".join(arrow_table.column_names)
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buf)


def with_model_defaults(table, arrow_table):
    """Add the columns the generator does not set, with their model's default.

    COPY leaves an unlisted column NULL (the database has no defaults: Django applies them), so a
    column added to a model later would break the load. Every concrete field with a default is
    filled here; a NOT NULL field without one stops the build, naming the column to generate.
    """
    from django.apps import apps

    from .env import BenchError

    model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
    if model is None:
        return arrow_table
    n = arrow_table.num_rows
    for field in model._meta.concrete_fields:
        if field.column in arrow_table.column_names or field.primary_key:
            continue
        if field.has_default():
            value = field.get_default()
            if isinstance(value, dict | list):
                value = json.dumps(value)
            arrow_table = arrow_table.append_column(field.column, const(value, n))
        elif not field.null:
            raise BenchError(f"{table}.{field.column} is NOT NULL without a default: the generator must set it.")
    return arrow_table


def ts(seconds_since_epoch):
    """numpy float seconds → arrow timestamptz column."""
    micros = (np.asarray(seconds_since_epoch) * 1_000_000).astype("int64")
    return pa.array(micros).cast(pa.timestamp("us", tz="UTC"))


def dates(days_since_epoch):
    return pa.array(np.asarray(days_since_epoch, dtype="int32")).cast(pa.date32())


def const(value, n, type_=None):
    return pa.array([value], type=type_).take(pa.array(np.zeros(n, dtype="int64")))


def labelled(prefix, numbers, width=6):
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def strip_indexes(cur, table):
    """Drop the table's secondary indexes, unique and foreign-key constraints; return how to restore them."""
    cur.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
        [table],
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
        "AND i.indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cur.fetchall()
    for name, _type, _definition in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    # Unique constraints and indexes first, foreign keys last (they validate with a join).
    restore = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, t, d in constraints if t == "u"]
    restore += [definition for _name, definition in indexes]
    restore += [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, t, d in constraints if t == "f"]
    return restore


# --- the generator --------------------------------------------------------------------------------
def create_workspace_and_team(as_of):
    """The workspace and its 50 CSMs go through the platform's own services (defaults included)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from cs_platform.provisioning import create_workspace
    from workspaces.models import Membership, Role

    workspace = create_workspace(name="Benchmark workspace", slug=WORKSPACE_SLUG)
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: 53 users must not cost 53 slow hashes
    people = [("bench-admin", Role.ADMIN), ("bench-manager", Role.MANAGER), ("bench-viewer", Role.VIEWER)]
    people += [(f"bench-csm{i:02d}", Role.CSM) for i in range(CSM_COUNT)]
    users = User.objects.bulk_create(
        User(username=u, password=password, first_name=u.split("-")[1].capitalize(), last_name="Bench",
             email=f"{u}@example.com")
        for u, _role in people
    )
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=user, role=role) for user, (_u, role) in zip(users, people, strict=True)
    )
    return workspace


def build(url, *, accounts, events, seed=42, as_of=None):
    """Generate everything into an empty, migrated database. Returns the marker row written."""
    from django.db import connection

    from accounts.models import LifecycleStage
    from workspaces.models import Membership, Role

    started = time.monotonic()
    rng = np.random.default_rng(seed)
    as_of = as_of or dt.date.today()
    workspace = create_workspace_and_team(as_of)
    connection.close()
    csm_ids = np.array(
        Membership.objects.for_workspace(workspace).filter(role=Role.CSM).order_by("id").values_list("id", flat=True)
    )
    stage_ids = np.array(LifecycleStage.objects.for_workspace(workspace).order_by("position").values_list("id", flat=True))
    now = time.time()
    day = 86400.0
    end = now  # the 30 days up to the moment of the build
    ws_id = workspace.pk

    conn = connect(url)
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SET maintenance_work_mem = '1GB'")
    cur.execute("SET synchronous_commit = off")

    # Accounts: log-normal ARR (the top 1% is >100x the bottom 1%), tiers follow ARR.
    n = accounts
    arr = np.round(rng.lognormal(mean=np.log(1_200_000), sigma=1.25, size=n), -3)
    rank = arr.argsort()[::-1].argsort() / n  # 0 = largest
    tier = np.where(rank < 0.05, "high", np.where(rank < 0.30, "low", "tech"))
    # Owners: high and low touch accounts all have a CSM; 40% of tech touch accounts are pooled (no owner).
    owner_weights = rng.uniform(0.5, 1.5, size=len(csm_ids))
    owner_weights /= owner_weights.sum()
    owner = rng.choice(csm_ids, size=n, p=owner_weights)
    pooled = (tier == "tech") & (rng.random(n) < 0.4)
    churned = rng.random(n) < 0.05
    start_days = (as_of - dt.timedelta(days=1)).toordinal() - dt.date(1970, 1, 1).toordinal() - rng.integers(30, 1500, n)
    renewal_days = start_days + 365 * (1 + (as_of.toordinal() - dt.date(1970, 1, 1).toordinal() - start_days) // 365)
    acc_idx = np.arange(n)
    plans = np.array(["Starter", "Team", "Business", "Enterprise"])
    account_table = pa.table({
        "workspace_id": const(ws_id, n, pa.int64()),
        "name": labelled("Company ", acc_idx),
        "external_id": labelled("acc-", acc_idx),
        "domain": pc.binary_join_element_wise(labelled("company", acc_idx), ".example.com", ""),
        "owner_id": pa.array(owner, mask=pooled),
        "arr": pa.array(arr),
        "plan": pa.array(plans[np.minimum((1 - rank) * 4, 3).astype(int)]),
        "licensed_seats": pa.array(np.maximum(5, (arr / 60_000).astype(int))),
        "contract_start": dates(start_days),
        "renewal_date": dates(renewal_days),
        "stage_id": pa.array(rng.choice(stage_ids, size=n, p=[0.15, 0.25, 0.35, 0.15, 0.10])),
        "stage_entered_at": ts(now - rng.uniform(0, 400, n) * day),
        "status": pa.array(np.where(churned, "churned", "active")),
        "churned_on": pa.array(np.asarray(start_days + 200, dtype="int32"), mask=~churned).cast(pa.date32()),
        "churn_reason": pa.array(np.where(churned, "budget", "")),
        "churn_note": const("", n),
        "attributes": pc.binary_join_element_wise('{"nps": ', pc.cast(pa.array(rng.integers(-100, 101, n)), pa.string()), "}", ""),
        "touch_tier": pa.array(tier),
        "health_band": const("", n),
        "created_at": ts(now - rng.uniform(30, 1500, n) * day),
        "updated_at": ts(np.full(n, now)),
    })
    t0 = time.monotonic()
    copy_table(cur, "accounts_account", account_table)
    conn.commit()  # the accounts' deferred foreign-key checks must fire before constraints are dropped
    cur.execute("SELECT id FROM accounts_account WHERE workspace_id = %s ORDER BY external_id", [ws_id])
    account_ids = np.array([r[0] for r in cur.fetchall()], dtype="int64")
    log(f"accounts: {n:,} in {time.monotonic() - t0:.1f} s")

    restore = {}
    for table in BIG_TABLES:
        restore[table] = strip_indexes(cur, table)
    conn.commit()

    # Contacts, about five per account.
    t0 = time.monotonic()
    m = n * CONTACTS_PER_ACCOUNT
    owner_acc = np.repeat(acc_idx, CONTACTS_PER_ACCOUNT)
    k = np.tile(np.arange(CONTACTS_PER_ACCOUNT), n)
    contact_names = pc.binary_join_element_wise(labelled("Contact ", owner_acc), pc.cast(pa.array(k), pa.string()), "-")
    roles = np.array(["champion", "decision_maker", "admin", "end_user", "end_user"])
    copy_table(cur, "accounts_contact", pa.table({
        "workspace_id": const(ws_id, m, pa.int64()),
        "account_id": pa.array(account_ids[owner_acc]),
        "external_id": const("", m),
        "name": contact_names,
        "email": pc.binary_join_element_wise(pc.utf8_lower(pc.replace_substring(contact_names, " ", ".")), "@example.com", ""),
        "title": const("", m),
        "role": pa.array(roles[k]),
        "is_key_person": pa.array(k < 2),
        "created_at": ts(np.full(m, now)),
        "updated_at": ts(np.full(m, now)),
    }))
    conn.commit()
    log(f"contacts: {m:,} in {time.monotonic() - t0:.1f} s")

    # Product users: twenty per account; the events below are theirs.
    t0 = time.monotonic()
    m = n * PRODUCT_USERS_PER_ACCOUNT
    pu_acc = np.repeat(acc_idx, PRODUCT_USERS_PER_ACCOUNT)
    pu_k = np.tile(np.arange(PRODUCT_USERS_PER_ACCOUNT), n)
    user_ids = pc.binary_join_element_wise(labelled("u", pu_acc), pc.cast(pa.array(pu_k), pa.string()), "-")
    copy_table(cur, "usage_productuser", pa.table({
        "workspace_id": const(ws_id, m, pa.int64()),
        "user_id": user_ids,
        "account_id": pa.array(account_ids[pu_acc]),
        "group_id": labelled("acc-", pu_acc),
        "email": const("", m),
        "traits": const("{}", m),
        "first_seen_at": ts(now - rng.uniform(30, 400, m) * day),
        "last_seen_at": ts(now - rng.uniform(0, 30, m) * day),
    }))
    conn.commit()
    log(f"product users: {m:,} in {time.monotonic() - t0:.1f} s")

    # Touchpoints over 180 days, weighted to high-touch accounts.
    t0 = time.monotonic()
    m = n * TOUCHPOINTS_PER_ACCOUNT
    tw = np.where(tier == "high", 12.0, np.where(tier == "low", 3.0, 0.5))
    tw /= tw.sum()
    tp_acc = rng.choice(acc_idx, size=m, p=tw)
    tp_author = np.where(pooled[tp_acc], rng.choice(csm_ids, size=m), owner[tp_acc])
    channel_p = np.array([0.35, 0.15, 0.15, 0.03, 0.12, 0.08, 0.07, 0.05])
    copy_table(cur, "accounts_touchpoint", pa.table({
        "workspace_id": const(ws_id, m, pa.int64()),
        "account_id": pa.array(account_ids[tp_acc]),
        "author_id": pa.array(tp_author),
        "channel": pa.array(rng.choice(CHANNELS, size=m, p=channel_p)),
        "occurred_at": ts(np.sort(end - rng.uniform(0, TOUCHPOINT_DAYS, m) * day)),
        "summary": const("Call notes", m),
        "sentiment": pa.array(rng.choice(["positive", "neutral", "negative"], size=m, p=[0.3, 0.6, 0.1])),
        "external_id": const("", m),
        "created_at": ts(np.full(m, now)),
    }))
    conn.commit()
    log(f"touchpoints: {m:,} in {time.monotonic() - t0:.1f} s")

    # Usage events: time-ordered (as they arrive), skewed per account and per user; 12% of
    # accounts are silent for the whole window.
    t0 = time.monotonic()
    aw = rng.lognormal(0, 1.3, n) * (arr / np.median(arr)) ** 0.3
    aw[rng.random(n) < 0.12] = 0
    aw[churned] = 0
    aw /= aw.sum()
    name_p = 1.0 / np.arange(1, len(EVENT_NAMES) + 1)
    name_p /= name_p.sum()
    names = np.array(EVENT_NAMES)
    start = end - EVENT_DAYS * day
    chunks = max(1, -(-events // EVENT_CHUNK))
    written = 0
    for c in range(chunks):
        size = min(EVENT_CHUNK, events - written)
        span = (end - start) / chunks
        when = np.sort(start + c * span + rng.uniform(0, span, size))
        ev_acc = rng.choice(acc_idx, size=size, p=aw)
        ev_user = np.minimum(rng.geometric(0.18, size) - 1, PRODUCT_USERS_PER_ACCOUNT - 1)
        seq = np.arange(written, written + size)
        copy_table(cur, "usage_usageevent", pa.table({
            "workspace_id": const(ws_id, size, pa.int64()),
            "message_id": labelled("bench-", seq, width=9),
            "account_id": pa.array(account_ids[ev_acc]),
            "group_id": labelled("acc-", ev_acc),
            "user_id": pc.binary_join_element_wise(labelled("u", ev_acc), pc.cast(pa.array(ev_user), pa.string()), "-"),
            "event_type": pa.array(rng.choice(["track", "page", "screen"], size=size, p=[0.85, 0.12, 0.03])),
            "event": pa.array(rng.choice(names, size=size, p=name_p)),
            "occurred_at": ts(when),
            "received_at": ts(when + rng.uniform(0.05, 5, size)),
            "properties": const("{}", size),
        }))
        conn.commit()
        written += size
        log(f"events: {written:,}/{events:,} ({time.monotonic() - t0:.0f} s)")

    t0 = time.monotonic()
    for statements in restore.values():
        for statement in statements:
            cur.execute(statement)
        conn.commit()
    log(f"indexes and constraints rebuilt in {time.monotonic() - t0:.1f} s")

    # Earlier days' rollups, as the nightly usage step would have left them; tonight's run
    # recomputes its own day.
    t0 = time.monotonic()
    cur.execute(
        """
        WITH per_event AS (
            SELECT account_id, (occurred_at AT TIME ZONE %(tz)s)::date AS day, event, count(*) AS n
            FROM usage_usageevent WHERE workspace_id = %(ws)s AND account_id IS NOT NULL GROUP BY 1, 2, 3
        ), per_day AS (
            SELECT account_id, (occurred_at AT TIME ZONE %(tz)s)::date AS day, count(DISTINCT user_id) AS users,
                   jsonb_agg(DISTINCT user_id ORDER BY user_id) AS user_ids
            FROM usage_usageevent WHERE workspace_id = %(ws)s AND account_id IS NOT NULL GROUP BY 1, 2
        )
        INSERT INTO usage_dailyaccountusage (workspace_id, account_id, day, events, active_users, event_counts,
                                             user_ids)
        SELECT %(ws)s, e.account_id, e.day, sum(e.n), d.users, jsonb_object_agg(e.event, e.n), d.user_ids
        FROM per_event e JOIN per_day d ON d.account_id = e.account_id AND d.day = e.day
        GROUP BY e.account_id, e.day, d.users, d.user_ids
        """,
        {"ws": ws_id, "tz": workspace.time_zone},
    )
    conn.commit()
    log(f"daily usage rollups in {time.monotonic() - t0:.1f} s")

    conn.autocommit = True
    t0 = time.monotonic()
    cur.execute("VACUUM ANALYZE")
    log(f"VACUUM ANALYZE in {time.monotonic() - t0:.1f} s")
    build_seconds = time.monotonic() - started
    cur.execute(MARKER_DDL)
    cur.execute(
        "INSERT INTO bench_marker (id, scale, generator_version, workspace_id, as_of, build_seconds) "
        "VALUES (1, %s, %s, %s, %s, %s)",
        [json.dumps(wanted_scale(accounts=accounts, events=events)), GENERATOR_VERSION, ws_id, as_of, build_seconds],
    )
    conn.close()
    log(f"built in {build_seconds:.0f} s")
    return read_marker(url)


def row_counts(url, workspace_id):
    tables = ["accounts_account", "workspaces_membership", "accounts_contact", "accounts_touchpoint",
              "usage_productuser", "usage_usageevent", "usage_dailyaccountusage"]
    conn = connect(url)
    counts = {}
    with conn, conn.cursor() as cur:
        for table in tables:
            # Planner estimates after ANALYZE: exact enough for a report, free at 10 million rows.
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cur.fetchone()
            counts[table] = int(row[0]) if row and row[0] >= 0 else 0
    conn.close()
    return counts


# --- what a team configures once it runs: segments ------------------------------------------------
BENCH_SEGMENTS = {
    "Enterprise (ARR ≥ ¥10M)": {"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 10_000_000}]},
    "Low adoption": {"op": "and", "conditions": [
        {"field": "active_users", "op": "lt", "value": 5}, {"field": "status", "op": "in", "value": ["active"]}]},
    "Power users": {"op": "and", "conditions": [{"field": "active_users", "op": "gte", "value": 20}]},
    "Onboarding (< 3 months)": {"op": "and", "conditions": [{"field": "tenure_months", "op": "lt", "value": 3}]},
    "Mid-market, 50–500 seats": {"op": "and", "conditions": [{"field": "seats", "op": "between", "value": [50, 500]}]},
    "High touch or large": {"op": "or", "conditions": [
        {"field": "touch_tier", "op": "in", "value": ["high"]}, {"field": "seats", "op": "gte", "value": 1000}]},
}


def ensure_segments(workspace):
    """Six segments of the kinds teams define (ARR, adoption, tenure, seats, tier), two of them on
    active users, so the nightly membership step does the work it does in production."""
    from segments.models import Segment
    from segments.services import save_segment
    from workspaces.models import Membership, Role

    if Segment.objects.for_workspace(workspace).exists():
        return
    manager = Membership.objects.for_workspace(workspace).filter(role=Role.MANAGER).first()
    for name, rules in BENCH_SEGMENTS.items():
        save_segment(workspace=workspace, actor=manager, name=name, rules=rules)
    log(f"created {len(BENCH_SEGMENTS)} segments")


# Playbooks of the kinds the default library offers, one per trigger read the night does set-based,
# so that the playbooks step enrols, holds back and creates tasks as it would in production.
BENCH_PLAYBOOKS = {
    "Renewal in 120 days": {"trigger": {"kind": "renewal_within", "days": 120},
                            "steps": [{"title": "Renewal call with {account}", "due_days": 14,
                                       "description": "Renews on {renewal_date}. {health_reason}"},
                                      {"kind": "webhook", "note": "CRM"},
                                      {"from": "previous", "day": 30, "title": "Renewal proposal for {account}"}]},
    "Health red": {"trigger": {"kind": "health_red"}, "enrolment": {"limit": "once_per_reason", "cooldown_days": 30},
                   "steps": [{"title": "Save {account}: {health_reason}", "priority": 4}]},
    "Coverage broken": {"trigger": {"kind": "coverage_broken", "tiers": ["high", "low"], "min_overdue_days": 7},
                        "steps": [{"title": "Touch {account}", "assignee": {"rule": "owner"}}]},
    "Low usage": {"trigger": {"kind": "usage_below", "active_users": 2},
                  "condition": {"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 1000000}]},
                  "enrolment": {"limit": "times_per_days", "times": 2, "per_days": 365},
                  "steps": [{"title": "Adoption review with {account}", "assignee": {"rule": "fewest_open"}}]},
    "Silent": {"trigger": {"kind": "silent", "days": 45, "drop": 0.3},
               "steps": [{"title": "Check in with {account}", "assignee": {"rule": "round_robin", "role": "csm"}}]},
    "Business review every 90 days": {"trigger": {"kind": "schedule", "every_days": 90, "tiers": ["high"]},
                                      "steps": [{"title": "Business review with {account}", "type": "meeting"}]},
    "No champion": {"trigger": {"kind": "champion_vacant"}, "enrolment": {"limit": "once_ever"},
                    "steps": [{"title": "Find a champion at {account}"}]},
}


def ensure_playbooks(workspace):
    """The playbooks above (once), written as the design pages' service would: a playbook and its
    first version."""
    from playbooks.definition import validate_definition
    from playbooks.models import Playbook, PlaybookVersion

    if Playbook.objects.for_workspace(workspace).exists():
        return
    for name, definition in BENCH_PLAYBOOKS.items():
        clean = validate_definition(definition)
        playbook = Playbook.objects.create(workspace=workspace, name=name, trigger_kind=clean["trigger"]["kind"])
        PlaybookVersion.objects.create(workspace=workspace, playbook=playbook, number=1, definition=clean)
    log(f"created {len(BENCH_PLAYBOOKS)} playbooks")
