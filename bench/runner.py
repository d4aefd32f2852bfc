"""Prepares the benchmark database and runs the parts, collecting one Results."""

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field

from . import datagen
from .env import ROOT, migrate, setup_django
from .results import Results


@dataclass
class Context:
    url: str
    marker: dict
    workspace: object = None
    scale: dict = field(default_factory=dict)
    quick: bool = False
    profile: bool = False

    @property
    def as_of(self):
        return self.marker["as_of"]


def prepare(url, *, accounts, events, rebuild=False):
    scale = datagen.wanted_scale(accounts=accounts, events=events)
    marker = datagen.read_marker(url)
    if not rebuild and datagen.marker_matches(marker, scale):
        datagen.log(f"reusing the benchmark data built {marker['built_at']:%Y-%m-%d %H:%M} at {scale}")
        datagen.log("applying any new migrations")
        migrate(url)
        setup_django(url)
    else:
        why = "--rebuild" if rebuild else ("no data yet" if marker is None else f"built at {marker['scale']}")
        datagen.log(f"building the benchmark data at {scale} ({why})")
        datagen.ensure_database(url, drop=True)
        migrate(url)
        setup_django(url)
        marker = datagen.build(url, accounts=accounts, events=events)
    from workspaces.models import Workspace

    workspace = Workspace.objects.get(pk=marker["workspace_id"])
    datagen.ensure_segments(workspace)
    datagen.ensure_playbooks(workspace)
    return Context(url=url, marker=marker, workspace=workspace, scale=scale)


def run_parts(ctx, parts, *, quick=False, profile=False):
    from .cli import guarded

    ctx.quick, ctx.profile = quick, profile
    results = Results(meta=collect_meta(ctx))
    modules = {
        "nightly": "bench.parts.nightly",
        "ingest": "bench.parts.ingest",
        "web": "bench.parts.web",
        "import": "bench.parts.imports",
        "history": "bench.parts.history_load",
    }
    for part in parts:
        from importlib import import_module

        datagen.log(f"--- {part} ---")
        started = time.monotonic()
        module = import_module(modules[part])
        for figure in guarded(part, "(whole part)", module.run, ctx, results):
            results.add(figure)
            print_figure(figure)
        datagen.log(f"{part} took {time.monotonic() - started:.0f} s")
    return results


def print_figure(f):
    from .report import fmt_number, fmt_ratio, verdict

    if f.status != "ok":
        print(f"  {f.part:8} {f.name:58} {f.status}: {f.note}", flush=True)
        return
    base = f"{fmt_number(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "—"
    print(f"  {f.part:8} {f.name:58} {fmt_number(f.value, f.unit):>14}  baseline {base}  "
          f"ratio {fmt_ratio(f.ratio)}  {verdict(f)}", flush=True)


def collect_meta(ctx):
    import django
    from django.db import connection

    from cs_platform.nightly import NIGHTLY_STEPS

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
        settings = []
        for name in ["shared_buffers", "work_mem", "maintenance_work_mem", "random_page_cost", "effective_cache_size"]:
            cur.execute(f"SHOW {name}")
            settings.append(f"{name}={cur.fetchone()[0]}")
    try:
        import gunicorn

        gunicorn_version = gunicorn.__version__
    except ImportError:
        gunicorn_version = "not installed"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": memory_gib(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "gunicorn": gunicorn_version,
        "pg_settings": ", ".join(settings),
        "commit": commit.stdout.strip() or "?",
        "scale": ctx.scale,
        "as_of": ctx.as_of.isoformat(),
        "build_seconds": ctx.marker.get("build_seconds"),
        "row_counts": datagen.row_counts(ctx.url, ctx.workspace.pk),
        "nightly_steps": [step.path for step in NIGHTLY_STEPS],
        "argv": " ".join(sys.argv[1:]),
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def memory_gib():
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        return "?"
