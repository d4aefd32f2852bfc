"""Part 1: the nightly recompute, each registered step and all together, vs the fastest reference.

The reference is the bare database computing the inputs every nightly step needs — per account
over 30 days: distinct active users, events, distinct event names, days active and last seen,
plus last touch and touches in 90 days — and writing one row per account with INSERT … SELECT, in
each formulation of reference.py, all measured in the same run; the fastest is the baseline.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import psycopg2

from ..results import Figure, Target, failed, not_available
from . import reference
from .common import median, run_worker

PART = "nightly"
RATIO_TARGET = Target(on="ratio", op="<=", limit=1.5, label="≤ 1.5x the fastest reference")
MEMORY_TARGET = Target(on="value", op="<=", limit=400, label="≤ 400 MiB")
# The capabilities the issue names, by the app that provides each (coverage lives with segments).
EXPECTED = {"segments": "segment membership", "coverage": "coverage", "healthscore": "health scores"}

def window(workspace, as_of):
    tz = ZoneInfo(workspace.time_zone)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return {"ws": workspace.pk, "tz": workspace.time_zone, "end": end, "as_of": as_of,
            "first_day": as_of - dt.timedelta(days=29),
            "start30": end - dt.timedelta(days=30), "start90": end - dt.timedelta(days=90)}


def measure_references(ctx, figures):
    """Every formulation of the reference (reference.py), each measured in this run; a formulation
    whose rows differ from COUNT(DISTINCT)'s is reported as failed. Returns {name: [seconds, …]}."""
    params = window(ctx.workspace, ctx.as_of)
    reference.prepare_day_sets(ctx.url, params)
    runs = {name: [] for name in reference.FORMULATIONS}
    rows = None
    for _ in range(1 if ctx.quick else 2):
        for name in reference.FORMULATIONS:
            seconds, written = reference.measure(ctx.url, params, name)
            runs[name].append(seconds)
            rows = rows or written
    for name in reference.FORMULATIONS:
        wrong = reference.differences(ctx.url, name)
        if wrong:
            figures.append(failed(PART, f"reference: {reference.DESCRIPTIONS[name]}",
                                  RuntimeError(f"{wrong} rows differ from COUNT(DISTINCT)'s")))
            del runs[name]
        print(f"  reference {name}: {', '.join(f'{s:.2f}' for s in runs.get(name, []))} s", flush=True)
    return runs, rows


def registered_steps():
    from cs_platform.nightly import NIGHTLY_STEPS

    return list(NIGHTLY_STEPS)  # NightlyStep(name, run), with .path for the report


def run(ctx, results):
    figures = []
    steps = registered_steps()
    runs, rows = measure_references(ctx, figures)
    # The baseline is the fastest formulation that computes the same rows.
    fastest = min(runs, key=lambda name: median(runs[name]))
    baseline = median(runs[fastest])
    ref_name = f"fastest reference ({reference.DESCRIPTIONS[fastest]}), {rows or ctx.scale['accounts']:,} rows"
    for name, seconds in runs.items():
        figures.append(Figure(part=PART, name=f"reference: {reference.DESCRIPTIONS[name]}", value=median(seconds),
                              unit="s", baseline=baseline, baseline_name="the fastest reference",
                              note=f"runs: {', '.join(f'{s:.2f}' for s in seconds)} s"))

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
    forget_playbook_runs(ctx)  # the whole night is a first night too: its time and its memory peak
    try:
        together = run_worker(ctx, "nightly", *common)
    except RuntimeError as exc:
        figures.append(failed(PART, "all steps together (run_nightly)", exc, targets=[RATIO_TARGET]))
        return figures
    # The fastest reference once more, right after: the cache is as warm for it as for the pipeline.
    runs[fastest].append(reference.measure(ctx.url, window(ctx.workspace, ctx.as_of), fastest)[0])
    baseline = median(runs[fastest])
    total = Figure(
        part=PART, name="all steps together (run_nightly)", value=together["seconds"], unit="s",
        baseline=baseline, baseline_name=ref_name, targets=[RATIO_TARGET],
        note=f"{len(steps)} steps: {', '.join(step.name for step in steps)}",
    )
    figures.append(total)
    figures.append(Figure(
        part=PART, name="worker peak memory (run_nightly)", value=together["maxrss_mib"], unit="MiB",
        baseline=idle["maxrss_mib"], baseline_name="idle worker after imports", targets=[MEMORY_TARGET],
    ))
    if step_reports and (total.target_met is False or ctx.profile):
        slowest = max(step_reports, key=lambda s: step_reports[s]["seconds"])
        profiled = run_worker(ctx, "nightly", *common, "--step", slowest.name, "--profile")
        results.profiles[f"nightly step {slowest.path} (cProfile, cumulative)"] = profiled.get("profile", "")
        results.profiles[f"nightly step {slowest.path}: slowest SQL statements"] = profiled["queries"]
        for step, report in step_reports.items():
            if step != slowest:
                results.profiles[f"nightly step {step.path}: slowest SQL statements"] = report["queries"]
    reference.drop_tables(ctx.url)
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
