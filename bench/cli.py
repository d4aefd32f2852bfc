"""`python -m bench [run|build|compare|report|smoke|usage-scaling] …` — see docs/benchmarks.md for what each part measures."""

import argparse
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .env import ROOT, BenchError, database_url, ensure_postgres_reachable, require_postgres
from .results import Results, compare

RESULTS_PATH = ROOT / "bench" / "results.json"
DOC_PATH = ROOT / "docs" / "benchmarks.md"
PARTS = ["nightly", "ingest", "web", "import", "history"]


def add_scale_args(parser):
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts in the workspace (default 100000)")
    parser.add_argument("--events", type=int, default=10_000_000,
                        help="usage events over the last 30 days (default 10000000)")
    parser.add_argument("--database-url", help="PostgreSQL URL of the benchmark database "
                        "(default $BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/cs_bench)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data even if it matches")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="build or reuse the data, run the parts, write the results (default)")
    add_scale_args(run)
    run.add_argument("--only", help=f"comma-separated parts to run: {','.join(PARTS)}")
    run.add_argument("--quick", action="store_true", help="shorter measurement windows (development)")
    run.add_argument("--output", type=Path, default=RESULTS_PATH, help="results JSON (default bench/results.json)")
    run.add_argument("--doc", type=Path, default=DOC_PATH, help="report to write (default docs/benchmarks.md)")
    run.add_argument("--profile", action="store_true", help="profile the slow paths even when targets are met")
    build = sub.add_parser("build", help="only build (or reuse) the benchmark data")
    add_scale_args(build)
    cmp = sub.add_parser("compare", help="compare a run with the committed results; exit 1 on a regression")
    cmp.add_argument("--results", type=Path, default=RESULTS_PATH, help="the run to check (default bench/results.json)")
    cmp.add_argument("--against", help="results to compare with: a path, or a git revision "
                     "(default: bench/results.json as committed at HEAD)", default="HEAD")
    smoke = sub.add_parser("smoke", help="build from nothing at a tiny scale and run every part once: proves the "
                           "harness works at this commit (no targets, no comparison; exit 1 if a part crashed)")
    smoke.add_argument("--accounts", type=int, default=300)
    smoke.add_argument("--events", type=int, default=30_000)
    smoke.add_argument("--database-url", help="PostgreSQL URL (default as for run)")
    scaling = sub.add_parser("usage-scaling", help="the nightly usage step at several event volumes per 30 days, "
                             "each in its own database (built once); prints a table")
    scaling.add_argument("--accounts", type=int, default=100_000)
    scaling.add_argument("--volumes", default="5000000,10000000,20000000",
                         help="comma-separated events per 30 days (default 5M, 10M and 20M)")
    scaling.add_argument("--runs", type=int, default=2)
    scaling.add_argument("--database-url", help="PostgreSQL URL of the main benchmark database (default as for run); "
                         "other volumes use <name>_<N>m beside it")
    rep = sub.add_parser("report", help="re-render docs/benchmarks.md from a results file")
    rep.add_argument("--results", type=Path, default=RESULTS_PATH)
    rep.add_argument("--doc", type=Path, default=DOC_PATH)
    return parser


def main(argv=None):
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "run")
    args = parser.parse_args(argv)
    try:
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "report":
            return cmd_report(args)
        url = require_postgres(smoke_database_url(args.database_url) if args.command == "smoke"
                               else database_url(args.database_url))
        ensure_postgres_reachable(url)
        from .runner import prepare, run_parts

        if args.command == "smoke":
            return cmd_smoke(args, url)
        if args.command == "usage-scaling":
            from .parts import usage_scaling

            volumes = [int(v) for v in args.volumes.split(",")]
            return usage_scaling.run(url, accounts=args.accounts, volumes=volumes, runs=args.runs)
        ctx = prepare(url, accounts=args.accounts, events=args.events, rebuild=args.rebuild)
        if args.command == "build":
            return 0
        parts = args.only.split(",") if args.only else PARTS
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise BenchError(f"Unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}.")
        results = run_parts(ctx, parts, quick=args.quick, profile=args.profile)
        return write_and_check(results, args.output, args.doc)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


def write_and_check(results, output, doc):
    from .report import render

    results.save(output)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results))
    print(f"\nwrote {output} and {doc}")
    try:
        committed = load_committed("HEAD", output)
    except BenchError:
        return 0
    return print_comparison(committed, results)


def load_committed(against, path):
    candidate = Path(against)
    if candidate.exists():
        return Results.load(candidate)
    try:
        rel = path.resolve().relative_to(ROOT)
    except ValueError:
        rel = Path("bench/results.json")
    try:
        text = subprocess.run(
            ["git", "show", f"{against}:{rel}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        raise BenchError(f"No committed results at {against}:{rel}.") from exc
    import json

    return Results.from_dict(json.loads(text))


def print_comparison(old, new):
    regressions, unmatched = compare(old, new)
    old_scale, new_scale = old.meta.get("scale"), new.meta.get("scale")
    print(f"\ncompared with the committed results ({old.meta.get('date', '?')}, scale {old_scale})")
    if old_scale != new_scale:
        print(f"  note: scales differ ({old_scale} vs {new_scale}); ratios are still comparable, roughly.")
    for key in unmatched:
        print(f"  not comparable (missing on one side): {key}")
    if not regressions:
        print("  no ratio got more than 25% worse")
        return 0
    for reg in regressions:
        print(f"  REGRESSION {reg.describe()}")
    return 1


def cmd_compare(args):
    if not args.results.exists():
        raise BenchError(f"{args.results} does not exist; run `python -m bench` first.")
    new = Results.load(args.results)
    old = load_committed(args.against, args.results)
    return print_comparison(old, new)


def smoke_database_url(cli_value):
    """The smoke run drops and rebuilds its database: never the full-scale one a real run reuses."""
    url = database_url(cli_value)
    return url if cli_value else url.rsplit("/", 1)[0] + "/cs_bench_smoke"


def cmd_smoke(args, url):
    """The harness end to end at a scale that takes seconds. CI runs this at every commit so that
    the generator and the parts keep up with the models and code they drive; the figures of such a
    run mean nothing and are neither written nor compared."""
    from .results import FAILED
    from .runner import prepare, run_parts

    ctx = prepare(url, accounts=args.accounts, events=args.events, rebuild=True)
    results = run_parts(ctx, PARTS, quick=True, profile=False)
    crashed = [figure for figure in results.figures if figure.status == FAILED]
    for figure in crashed:
        print(f"bench smoke: {figure.key} crashed: {figure.note}", file=sys.stderr)
    print(f"bench smoke: {len(results.figures)} figures, {len(crashed)} crashed")
    return 1 if crashed else 0


def cmd_report(args):
    from .report import render

    args.doc.write_text(render(Results.load(args.results)))
    print(f"wrote {args.doc}")
    return 0


def guarded(part, name, function, *args, **kwargs):
    """Run one measurement; an unexpected error becomes a failed figure, never a crashed run."""
    from .results import failed

    started = time.monotonic()
    try:
        return function(*args, **kwargs)
    except BenchError:
        raise
    except Exception as exc:  # noqa: BLE001 — every other part must still run and be reported
        traceback.print_exc()
        return [failed(part, name, f"{type(exc).__name__}: {exc} (after {time.monotonic() - started:.0f} s)")]
