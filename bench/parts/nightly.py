"""Part 1: the nightly recompute, each registered step and all together, vs one reference query.

The reference is the bare database computing the inputs every nightly step needs — per account
over 30 days: distinct active users, events, distinct event names, days active and last seen,
plus last touch and touches in 90 days — and writing one row per account with INSERT … SELECT.
"""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import psycopg2

from ..results import Figure, Target, failed, not_available
from .common import median, run_worker

PART = "nightly"
RATIO_TARGET = Target(on="ratio", op="<=", limit=2.0, label="≤ 2x the reference query")
# The capabilities the issue names, by the app that provides each (coverage lives with segments).
EXPECTED = {"segments": "segment membership", "coverage": "coverage", "healthscore": "health scores"}

REFERENCE_DDL = """
DROP TABLE IF EXISTS bench_reference_features;
CREATE TABLE bench_reference_features (
    account_id bigint PRIMARY KEY,
    active_users integer NOT NULL,
    events integer NOT NULL,
    event_names integer NOT NULL,
    days_active integer NOT NULL,
    last_seen timestamptz,
    last_touch timestamptz,
    touches_90d integer NOT NULL
);
"""

REFERENCE_SQL = """
INSERT INTO bench_reference_features
    (account_id, active_users, events, event_names, days_active, last_seen, last_touch, touches_90d)
SELECT a.id, coalesce(u.active_users, 0), coalesce(u.events, 0), coalesce(u.event_names, 0),
       coalesce(u.days_active, 0), u.last_seen, t.last_touch, coalesce(t.touches_90d, 0)
FROM accounts_account a
LEFT JOIN (
    SELECT account_id,
           count(DISTINCT user_id) AS active_users,
           count(*) AS events,
           count(DISTINCT event) AS event_names,
           count(DISTINCT (occurred_at AT TIME ZONE %(tz)s)::date) AS days_active,
           max(occurred_at) AS last_seen
    FROM usage_usageevent
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL
      AND occurred_at >= %(start30)s AND occurred_at < %(end)s
    GROUP BY account_id
) u ON u.account_id = a.id
LEFT JOIN (
    SELECT account_id, max(occurred_at) AS last_touch,
           count(*) FILTER (WHERE occurred_at >= %(start90)s) AS touches_90d
    FROM accounts_touchpoint
    WHERE workspace_id = %(ws)s AND occurred_at < %(end)s
    GROUP BY account_id
) t ON t.account_id = a.id
WHERE a.workspace_id = %(ws)s
"""


def window(workspace, as_of):
    tz = ZoneInfo(workspace.time_zone)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return {"ws": workspace.pk, "tz": workspace.time_zone, "end": end,
            "start30": end - dt.timedelta(days=30), "start90": end - dt.timedelta(days=90)}


def reference_query(ctx):
    """One run of the reference: table recreated, INSERT … SELECT, commit. Returns (seconds, rows)."""
    conn = psycopg2.connect(ctx.url)
    try:
        with conn.cursor() as cur:
            cur.execute(REFERENCE_DDL)
            conn.commit()
            started = time.perf_counter()
            cur.execute(REFERENCE_SQL, window(ctx.workspace, ctx.as_of))
            rows = cur.rowcount
            conn.commit()
            return time.perf_counter() - started, rows
    finally:
        conn.close()


def registered_steps():
    from cs_platform.nightly import NIGHTLY_STEPS

    return list(NIGHTLY_STEPS)  # NightlyStep(name, run), with .path for the report


def run(ctx, results):
    figures = []
    steps = registered_steps()
    baseline_runs = [reference_query(ctx)[0] for _ in range(2)]
    seconds, rows = reference_query(ctx) if not ctx.quick else (baseline_runs[-1], None)
    baseline_runs.append(seconds)
    baseline = median(baseline_runs)
    ref_name = f"reference INSERT … SELECT, {rows or ctx.scale['accounts']:,} rows"
    print(f"  reference query runs: {', '.join(f'{s:.2f}' for s in baseline_runs)} s", flush=True)

    for app, what in EXPECTED.items():
        if not any(step.path.split(".")[0] == app for step in steps):
            figures.append(not_available(PART, f"{what} ({app})", f"no nightly step of the `{app}` app is registered yet"))
    if not steps:
        figures.append(not_available(PART, "all steps together", "no nightly step is registered yet",
                                     targets=[RATIO_TARGET]))
        return figures

    common = ["--workspace-id", str(ctx.workspace.pk), "--as-of", ctx.as_of.isoformat()]
    idle = run_worker(ctx, "idle")
    step_reports = {}
    for step in steps:
        if step.name == "playbooks":
            forget_playbook_runs(ctx)
        try:
            report = run_worker(ctx, "nightly", *common, "--step", step.name)
        except RuntimeError as exc:
            figures.append(failed(PART, f"step {step.path}", exc))
            print(f"    {step.path}: FAILED {str(exc)[-300:]}", flush=True)
            continue
        step_reports[step] = report
        figures.append(Figure(
            part=PART, name=f"step {step.path}", value=report["seconds"], unit="s", baseline=baseline,
            baseline_name=ref_name, note=f"peak RSS {report['maxrss_mib']:.0f} MiB",
        ))
        print(f"    {step.path}: {report['seconds']:.2f} s, peak {report['maxrss_mib']:.0f} MiB", flush=True)

    figures += playbooks_share(step_reports)
    try:
        together = run_worker(ctx, "nightly", *common)
    except RuntimeError as exc:
        figures.append(failed(PART, "all steps together (run_nightly)", exc, targets=[RATIO_TARGET]))
        return figures
    # The reference once more, right after: the cache is as warm for it as for the pipeline.
    baseline_runs.append(reference_query(ctx)[0])
    baseline = median(baseline_runs)
    total = Figure(
        part=PART, name="all steps together (run_nightly)", value=together["seconds"], unit="s",
        baseline=baseline, baseline_name=ref_name, targets=[RATIO_TARGET],
        note=f"{len(steps)} steps: {', '.join(step.name for step in steps)}",
    )
    figures.append(total)
    figures.append(Figure(
        part=PART, name="worker peak memory (run_nightly)", value=together["maxrss_mib"], unit="MiB",
        baseline=idle["maxrss_mib"], baseline_name="idle worker after imports",
    ))
    if step_reports and (total.target_met is False or ctx.profile):
        slowest = max(step_reports, key=lambda s: step_reports[s]["seconds"])
        profiled = run_worker(ctx, "nightly", *common, "--step", slowest.name, "--profile")
        results.profiles[f"nightly step {slowest.path} (cProfile, cumulative)"] = profiled.get("profile", "")
        results.profiles[f"nightly step {slowest.path}: slowest SQL statements"] = profiled["queries"]
        for step, report in step_reports.items():
            if step != slowest:
                results.profiles[f"nightly step {step.path}: slowest SQL statements"] = report["queries"]
    return figures


def forget_playbook_runs(ctx):
    """The bench workspace's runs, tasks, actions and holds deleted, so that the playbooks step
    measured is always a first night (every match enrols, every first task is created), not a re-run
    of a night an earlier bench run already did (which creates nothing). The audit log is append-only
    and keeps its rows."""
    conn = psycopg2.connect(ctx.url)
    try:
        with conn.cursor() as cur:
            for table in ("playbooks_task", "playbooks_runaction", "playbooks_playbookhold", "playbooks_playbookrun"):
                cur.execute(f"DELETE FROM {table} WHERE workspace_id = %s", [ctx.workspace.pk])
        conn.commit()
    finally:
        conn.close()


def playbooks_share(step_reports):
    """The playbooks step (it reads what every other step wrote) against the other steps together:
    its cost as a share of the night, at the bench's scale."""
    seconds = {step.name: report["seconds"] for step, report in step_reports.items()}
    if "playbooks" not in seconds or len(seconds) < 2:
        return []
    others = sum(value for name, value in seconds.items() if name != "playbooks")
    return [Figure(part=PART, name="playbooks step vs the other steps", value=seconds["playbooks"], unit="s",
                   baseline=others, baseline_name=f"the other {len(seconds) - 1} steps together",
                   note="first night of the bench's playbooks: enrols, holds back and creates the due tasks")]
