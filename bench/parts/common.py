"""Helpers shared by the parts: running a worker process, percentiles, feature detection."""

import json
import math
import statistics
import subprocess
import sys
import time
from importlib import import_module
from importlib.util import find_spec

from ..env import ROOT, BenchError, server_env


def run_worker(ctx, *args, timeout=3600):
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args], cwd=ROOT, env=server_env(ctx.url),
        capture_output=True, text=True, timeout=timeout,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise RuntimeError(f"worker {' '.join(args[:1])} failed: {tail}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = elapsed
    return report


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values)


def app_installed(label):
    from django.apps import apps

    return apps.is_installed(label) or any(c.label == label for c in apps.get_app_configs())


def optional(dotted):
    """The object at `module.attr`, or None when that feature has not landed (yet)."""
    module_name, attr = dotted.rsplit(".", 1)
    try:
        if find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:
        return None
    module = import_module(module_name)
    return getattr(module, attr, None)


def require(condition, message):
    if not condition:
        raise BenchError(message)
