"""Part 5: building a year of daily usage history from a file: 500 accounts, 6 million events over
365 days, loaded through the usage app's history import (check, COPY into staging, one INSERT …
SELECT of the new message ids, then every day's rollup rebuilt in one statement and the 30-day
active users).

Baseline, measured in the same run on the same file: a bare COPY of the same rows into a typed
scratch table plus one bare GROUP BY (account, day, event) over them into another. The ratio is the
import's time over that.

The load goes into a scratch workspace with its own 500 accounts (deleted afterwards), so the
benchmark workspace is never touched.
"""

import datetime as dt
import time

import numpy as np
import psycopg2

from ..env import CACHE_DIR
from ..results import Figure, Target, failed, not_available
from .common import optional, run_worker
from .imports import delete_workspace_rows, leftover_scratch_workspaces

PART = "history"
ACCOUNTS = 500
EVENTS = 6_000_000
DAYS = 365
SCRATCH_PREFIX = "bench-history"
EVENT_NAMES = ["Login", "Dashboard Viewed", "Report Exported", "Search", "Invite Sent", "Settings Changed",
               "File Uploaded", "Comment Added"]
HEADER = "message_id,timestamp,account,user_id,event\n"
TARGET_SECONDS = 120


def write_file(path, *, rows, accounts, days, end, seed=11):
    """`rows` events, time-ordered over `days` days up to `end` (UTC), skewed per account (a few big
    ones), 20 users an account. Written in blocks with numpy: a 6M-row file takes seconds."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, accounts) + 0.2
    weights /= weights.sum()
    start = dt.datetime.combine(end - dt.timedelta(days=days - 1), dt.time.min, tzinfo=dt.UTC).timestamp()
    span = days * 86_400
    block = 500_000
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        written = 0
        while written < rows:
            n = min(block, rows - written)
            seconds = np.sort(rng.integers(0, span, n)) + int(start)
            account = rng.choice(accounts, n, p=weights)
            user = rng.integers(0, 20, n)
            event = rng.integers(0, len(EVENT_NAMES), n)
            stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
            lines = [f"h{written + i},{stamps[i]}Z,hist-{account[i]:04d},u{account[i]}-{user[i]},"
                     f"{EVENT_NAMES[event[i]]}\n" for i in range(n)]
            fh.write("".join(lines))
            written += n


def baseline(url, path, tz):
    """Bare COPY of the file into a typed table, then one GROUP BY (account, day, event) into another."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("""DROP TABLE IF EXISTS bench_history_copy; DROP TABLE IF EXISTS bench_history_daily;
                CREATE TABLE bench_history_copy (message_id varchar(200), occurred_at timestamptz,
                    account varchar(200), user_id varchar(200), event varchar(200))""")
            conn.commit()
            started = time.perf_counter()
            with open(path, encoding="utf-8") as fh:
                cur.copy_expert("COPY bench_history_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
            conn.commit()
            copy_seconds = time.perf_counter() - started
            started = time.perf_counter()
            cur.execute("""CREATE TABLE bench_history_daily AS
                SELECT account, (occurred_at AT TIME ZONE %s)::date AS day, event, count(*) AS n
                FROM bench_history_copy GROUP BY 1, 2, 3""", [tz])
            conn.commit()
            group_seconds = time.perf_counter() - started
            cur.execute("DROP TABLE bench_history_copy; DROP TABLE bench_history_daily")
            conn.commit()
    finally:
        conn.close()
    return copy_seconds, group_seconds


def create_scratch_workspace(accounts):
    from accounts.models import Account
    from cs_platform.provisioning import create_workspace

    workspace = create_workspace(name="Benchmark history scratch", slug=f"{SCRATCH_PREFIX}-{int(time.time())}")
    Account.all_workspaces.bulk_create(
        Account(workspace=workspace, name=f"History account {i:04d}", external_id=f"hist-{i:04d}")
        for i in range(accounts))
    return workspace


def run_history_in_worker(args):
    """Runs inside `python -m bench.worker history`: the page's and the API's code path, as the job runs it."""
    from django.db import connection

    from usage.models import DailyAccountUsage, UsageEvent
    from usage.services.history import run_job, start_import
    from workspaces.models import Workspace
    from workspaces.policy import SystemActor

    workspace = Workspace.objects.get(pk=args.workspace_id)
    started = time.perf_counter()
    with open(args.file, "rb") as fh:
        job = start_import(workspace=workspace, actor=SystemActor("bench"), chunks=iter(lambda: fh.read(1 << 20), b""),
                           filename="history.csv", run=False)
    check_seconds = time.perf_counter() - started
    job = run_job(job_id=job.pk)
    seconds = time.perf_counter() - started
    stored = UsageEvent.objects.for_workspace(workspace).filter(account__isnull=False).count()
    rollups = DailyAccountUsage.objects.for_workspace(workspace)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(events), 0), count(*) FROM {DailyAccountUsage._meta.db_table} "
                       "WHERE workspace_id = %s", [workspace.pk])
        rolled, rollup_rows = cursor.fetchone()
    return {"seconds": seconds, "check_seconds": check_seconds, "status": job.status, "failure": job.failure,
            "summary": job.summary, "stored": stored, "rolled_up": int(rolled), "rollup_rows": rollup_rows,
            "days": rollups.values("day").distinct().count()}


def run(ctx, results):
    if optional("usage.services.history.start_import") is None:
        return [not_available(PART, "year of history: import + rollup rebuild", "the history import has not landed",
                              unit="s")]
    rows = EVENTS
    if ctx.quick:  # smoke and development: the same path at a scale that takes seconds
        rows = min(EVENTS, max(10_000, ctx.scale["events"] // 10))
    for stale in leftover_scratch_workspaces(ctx.url, SCRATCH_PREFIX):
        delete_workspace_rows(ctx.url, stale)
    CACHE_DIR.mkdir(exist_ok=True)
    end = ctx.workspace.today() - dt.timedelta(days=1)  # whole UTC days, none ahead of the clock
    path = CACHE_DIR / f"history-{ACCOUNTS}-{rows}-{end.isoformat()}.csv"
    if not path.exists():
        write_file(path, rows=rows, accounts=ACCOUNTS, days=DAYS, end=end)
    workspace = create_scratch_workspace(ACCOUNTS)
    name = f"year of history: import + rollup rebuild ({ACCOUNTS} accounts, {rows:,} events, {DAYS} days)"
    try:
        copy_seconds, group_seconds = baseline(ctx.url, path, workspace.time_zone)
        try:
            report = run_worker(ctx, "history", "--workspace-id", str(workspace.pk), "--file", str(path))
        except RuntimeError as exc:
            return [failed(PART, name, exc, unit="s")]
    finally:
        delete_workspace_rows(ctx.url, workspace.pk)
    results.profiles["history import: slowest SQL statements"] = report["queries"]
    summary = report["summary"]
    ok = (report["status"] == "done" and summary.get("inserted") == rows and report["stored"] == rows
          and report["rolled_up"] == rows)
    note = (f"{rows:,} events in {report['seconds']:.1f} s: checking the file {report['check_seconds']:.1f} s, "
            f"then COPY, insert and one rollup statement; {report['rollup_rows']:,} daily rows over "
            f"{report['days']} days; peak RSS {report['maxrss_mib']:.0f} MiB. Baseline: COPY {copy_seconds:.1f} s + "
            f"GROUP BY {group_seconds:.1f} s. Count check: {'passed' if ok else 'FAILED'}")
    if not ok:
        note += f"; UNEXPECTED: {report['status']} {report['failure'][:200]} {summary} stored {report['stored']:,}, "
        note += f"rolled up {report['rolled_up']:,}"
    targets = [Target("value", "<=", TARGET_SECONDS, f"≤ {TARGET_SECONDS} s")] if rows == EVENTS else []
    return [Figure(part=PART, name=name, value=report["seconds"], unit="s", better="lower",
                   baseline=copy_seconds + group_seconds,
                   baseline_name="bare COPY of the same file + one bare GROUP BY (account, day, event)",
                   targets=targets, note=note)]
