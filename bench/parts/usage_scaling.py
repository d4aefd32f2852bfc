"""`python -m bench usage-scaling`: the nightly usage step at several event volumes per 30 days.

"A night costs one day of data": the usage step should grow with the day's new events, not with the
window. Each volume gets its own benchmark database (built once, reused afterwards: the default
volume uses the main one, another `<name>_<N>m`), and in each the usage step runs as the night
runs it (a worker process, `--step usage`), next to two references measured in the same database
right after: COUNT(DISTINCT …) over the whole window (grows with the window) and the per-day sets
formulation, whose night adds its day and reads 30 days of sets (the fastest; reference.py).

Not part of `bench run`: three databases take about 15 minutes to build. The figures go into
docs/benchmarks.md by hand, with the command that produced them.
"""

import subprocess
import sys
from types import SimpleNamespace

from .. import datagen
from ..env import ROOT
from . import reference
from .common import median, run_worker
from .nightly import window

DEFAULT_EVENTS = 10_000_000


def database_for(base_url, events):
    if events == DEFAULT_EVENTS:
        return base_url
    head, name = base_url.rsplit("/", 1)
    return f"{head}/{name}_{events // 1_000_000}m"


def reference_window(url, workspace_id, as_of):
    """The nightly part's reference window (nightly.window), for a workspace read by its id."""
    conn = datagen.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT time_zone FROM workspaces_workspace WHERE id = %s", [workspace_id])
        tz = cur.fetchone()[0]
    conn.close()
    return window(SimpleNamespace(pk=workspace_id, time_zone=tz), as_of)


def measure_volume(base_url, *, accounts, events, runs):
    url = database_for(base_url, events)
    subprocess.run([sys.executable, "-m", "bench", "build", "--accounts", str(accounts), "--events", str(events),
                    "--database-url", url], cwd=ROOT, check=True)
    marker = datagen.read_marker(url)
    ctx = SimpleNamespace(url=url)
    common = ["--workspace-id", str(marker["workspace_id"]), "--as-of", marker["as_of"].isoformat()]
    run_worker(ctx, "nightly", *common, "--step", "usage")  # the first night of this database: not timed
    step = [run_worker(ctx, "nightly", *common, "--step", "usage")["seconds"] for _ in range(runs)]
    params = reference_window(url, marker["workspace_id"], marker["as_of"])
    reference.prepare_day_sets(url, params)
    per_day = [reference.measure(url, params, "incremental")[0] for _ in range(runs)]
    count_distinct = [reference.measure(url, params, "count_distinct")[0] for _ in range(runs)]
    reference.drop_tables(url)
    return {"events": events, "step": step, "per_day_sets": per_day, "count_distinct": count_distinct}


def run(base_url, *, accounts, volumes, runs=2):
    rows = []
    for events in volumes:
        row = measure_volume(base_url, accounts=accounts, events=events, runs=runs)
        rows.append(row)
        print(f"[bench] {events:,} events: usage step {', '.join(f'{s:.2f}' for s in row['step'])} s; "
              f"per-day sets {', '.join(f'{s:.2f}' for s in row['per_day_sets'])} s; "
              f"COUNT(DISTINCT) {', '.join(f'{s:.2f}' for s in row['count_distinct'])} s", flush=True)
    first = rows[0]
    print("\n| events per 30 days | usage step (median) | per-day sets reference | COUNT(DISTINCT) reference "
          "| step / per-day sets | step against the smallest volume |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        step, per_day, cd = median(row["step"]), median(row["per_day_sets"]), median(row["count_distinct"])
        print(f"| {row['events']:,} | {step:.2f} s | {per_day:.2f} s | {cd:.2f} s | {step / per_day:.2f}x "
              f"| {step / median(first['step']):.2f}x |")
    return 0
