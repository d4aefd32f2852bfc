"""Part 2: events per second through `POST /v1/batch`, sent by the real Segment SDK to gunicorn,
vs a bare multi-row INSERT … ON CONFLICT DO NOTHING of equivalent rows from one connection.

Both write into the same 10-million-row table of the benchmark workspace; the rows are deleted
again afterwards (by id, all above the largest id before the part started).
"""

import datetime as dt
import json
import subprocess
import sys
import time
import uuid

import numpy as np
import psycopg2
from psycopg2.extras import execute_values

from ..datagen import EVENT_NAMES
from ..env import ROOT, server_env
from ..results import Figure, Target, failed, not_available
from ..server import Server
from .common import optional

PART = "ingest"
NAME = "events/s through POST /v1/batch (Segment SDK)"
TARGETS = [
    Target(on="value", op=">=", limit=10_000, label="≥ 10,000 events/s"),
    Target(on="ratio", op=">=", limit=0.2, label="≥ 0.2 of the bare insert"),
]


def route_exists(path):
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
        return True
    except Resolver404:
        return False


def max_event_id(cur):
    cur.execute("SELECT coalesce(max(id), 0) FROM usage_usageevent")
    return cur.fetchone()[0]


def bare_insert(ctx, rows_count, seed=1):
    """The same kind of rows, 100 per statement, from one psycopg2 connection: the database's own
    ceiling for this table. Commits every 10,000 rows; the API must commit each batch it acknowledges."""
    rng = np.random.default_rng(seed)
    accounts = rng.integers(0, ctx.scale["accounts"], rows_count)
    names = rng.choice(EVENT_NAMES, rows_count)
    now = dt.datetime.now(dt.UTC)
    conn = psycopg2.connect(ctx.url)
    with conn.cursor() as cur:
        cur.execute("SELECT external_id, id FROM accounts_account WHERE workspace_id = %s", [ctx.workspace.pk])
        account_ids = dict(cur.fetchall())
    rows = []
    for i in range(rows_count):
        group = f"acc-{accounts[i]:06d}"
        rows.append((ctx.workspace.pk, str(uuid.uuid4()), account_ids.get(group), group,
                     f"u{accounts[i]:06d}-{i % 20}", "track", names[i], now, now,
                     json.dumps({"plan": "bench", "n": i})))
    sql = ("INSERT INTO usage_usageevent (workspace_id, message_id, account_id, group_id, user_id, event_type, "
           "event, occurred_at, received_at, properties) VALUES %s "
           "ON CONFLICT (workspace_id, message_id) DO NOTHING")
    started = time.perf_counter()
    with conn.cursor() as cur:
        for start in range(0, rows_count, 100):
            execute_values(cur, sql, rows[start:start + 100], page_size=100)
            if (start + 100) % 10_000 == 0:
                conn.commit()
        conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return rows_count / seconds, seconds


def run(ctx, results):
    create_write_key = optional("usage.services.create_write_key")
    if create_write_key is None or not route_exists("/v1/batch"):
        return [not_available(PART, NAME, "the usage app's tracking API (/v1/batch) has not landed yet",
                              unit="events/s", targets=TARGETS)]
    from workspaces.models import Membership, Role

    admin = Membership.objects.for_workspace(ctx.workspace).filter(role=Role.ADMIN).first()
    _key_obj, key = create_write_key(workspace=ctx.workspace, name="benchmark", actor=admin)

    total = 30_000 if ctx.quick else 300_000
    seconds_limit = 20 if ctx.quick else 60
    producers, threads = 3, 2
    conn = psycopg2.connect(ctx.url)
    conn.autocommit = True
    cur = conn.cursor()
    before = max_event_id(cur)
    figures = []
    try:
        with Server(ctx.url) as server:
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "bench.loadgen", "segment", "--host", server.base_url, "--key", key,
                     "--count", str(total // producers), "--seconds", str(seconds_limit),
                     "--threads", str(threads), "--accounts", str(ctx.scale["accounts"]),
                     "--names", "|".join(EVENT_NAMES), "--seed", str(p)],
                    cwd=ROOT, env=server_env(ctx.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
                for p in range(producers)
            ]
            reports = []
            for proc in procs:
                out, err = proc.communicate(timeout=seconds_limit + 600)
                if proc.returncode != 0:
                    raise RuntimeError(f"load generator failed: {err.strip().splitlines()[-1:]}")
                reports.append(json.loads(out.strip().splitlines()[-1]))
            server_description = server.description
        queued = sum(r["queued"] for r in reports)
        lost_in_sdk = sum(r["refused"] + r["failed_messages"] for r in reports)
        elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
        cur.execute(
            "SELECT count(*), count(DISTINCT message_id), count(account_id) FROM usage_usageevent "
            "WHERE id > %s AND workspace_id = %s", [before, ctx.workspace.pk],
        )
        stored, distinct, matched = cur.fetchone()
        rate = stored / elapsed if elapsed else None
        count_ok = stored == queued and distinct == stored and lost_in_sdk == 0
        bare_rate, bare_seconds = bare_insert(ctx, min(max(stored, 10_000), 100_000))
        note = (
            f"{producers} SDK processes x {threads} threads, batches of 100; {queued:,} events queued, "
            f"{stored:,} stored ({distinct:,} distinct message ids, {matched:,} matched to an account), "
            f"{lost_in_sdk} lost in the SDK, in {elapsed:.1f} s. Count check: "
            f"{'passed' if count_ok else 'FAILED'}. Server: {server_description}."
        )
        figures.append(Figure(
            part=PART, name=NAME, value=rate, unit="events/s", baseline=bare_rate, better="higher",
            baseline_name="bare INSERT … ON CONFLICT DO NOTHING, 100 rows/statement, 1 connection, commit per 10,000",
            targets=TARGETS, note=note,
        ))
        figures.append(Figure(
            part=PART, name="events lost or duplicated (count check)",
            value=float(abs(queued - stored) + (stored - distinct) + lost_in_sdk), unit="events",
            targets=[Target(on="value", op="<=", limit=0, label="0")],
        ))
        if not count_ok:
            figures[-1].note = f"queued {queued:,}, stored {stored:,}, distinct {distinct:,}, lost in SDK {lost_in_sdk}"
            errors = [e for r in reports for e in r["errors"]][:3]
            if errors:
                figures[-1].note += f"; first errors: {errors}"
    except Exception as exc:  # noqa: BLE001 — report it and still clean up
        figures.append(failed(PART, NAME, f"{type(exc).__name__}: {exc}", unit="events/s", targets=TARGETS))
    finally:
        cur.execute("DELETE FROM usage_usageevent WHERE id > %s AND workspace_id = %s", [before, ctx.workspace.pk])
        conn.close()
    return figures
