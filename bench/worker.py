"""A fresh process that runs one piece of platform code and reports time and peak memory as JSON.

Run by the harness as `python -m bench.worker JOB [--step DOTTED] …`; the last stdout line is the
JSON. A separate process gives an honest peak RSS (`ru_maxrss` of this process only) and a cold
Python, like a Celery worker picking up the nightly task.
"""

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import resource
import sys
import time
from contextlib import contextmanager


def maxrss_mib():
    """This process's peak RSS. VmHWM first: ru_maxrss survives fork and exec, so a child of a big
    harness process would report at least the harness's size."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class QueryLog:
    """Every SQL statement's duration, to show which queries a slow step spends its time in."""

    def __init__(self):
        self.entries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append((time.perf_counter() - started, " ".join(str(sql).split())))

    def summary(self, top=8):
        total = sum(d for d, _ in self.entries)
        lines = [f"{len(self.entries)} SQL statements, {total:.2f} s in the database"]
        for duration, sql in sorted(self.entries, reverse=True)[:top]:
            lines.append(f"{duration:8.3f} s  {sql[:260]}")
        return "\n".join(lines)


@contextmanager
def profiled(enabled, top=25):
    box = {}
    if not enabled:
        yield box
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield box
    finally:
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
        stats.print_stats(top)
        box["profile"] = trim_profile(out.getvalue())


def trim_profile(text):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("ncalls"):
            return "\n".join(lines[i:]).rstrip()
    return text.rstrip()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("job", choices=["idle", "nightly", "import", "history"])
    parser.add_argument("--workspace-id", type=int)
    parser.add_argument("--as-of")
    parser.add_argument("--step", help="name of one nightly step, e.g. coverage (default: the whole pipeline)")
    parser.add_argument("--file", help="CSV file for the import and history jobs")
    parser.add_argument("--commit", action="store_true", help="import for real (default: dry run)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    report = {"pid": os.getpid()}
    if args.job == "idle":
        import cs_platform.nightly  # noqa: F401 — what a worker imports: every step's module

        report.update(seconds=0.0)
    elif args.job == "nightly":
        from workspaces.models import Workspace

        workspace = Workspace.objects.get(pk=args.workspace_id)
        as_of = dt.date.fromisoformat(args.as_of)
        log = QueryLog()
        with connection.execute_wrapper(log), profiled(args.profile) as box:
            started = time.perf_counter()
            from cs_platform.nightly import run_nightly

            ran = run_nightly(workspace=workspace, as_of=as_of, only=[args.step] if args.step else None)
            report["seconds"] = time.perf_counter() - started
        report.update(ran=ran, queries=log.summary(), **box)
    elif args.job == "import":
        from .parts.imports import run_import_in_worker

        log = QueryLog()
        with connection.execute_wrapper(log), profiled(args.profile) as box:
            report.update(run_import_in_worker(args))
        report.update(queries=log.summary(), **box)
    elif args.job == "history":
        from .parts.history_load import run_history_in_worker

        log = QueryLog()
        with connection.execute_wrapper(log):
            report.update(run_history_in_worker(args))
        report.update(queries=log.summary())
    report["maxrss_mib"] = maxrss_mib()
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
