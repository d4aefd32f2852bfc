"""Part 4: CSV import of a 100,000-row accounts file through the imports app's service, dry run
and commit, vs COPY of the same rows into a scratch table.

The file is a first load of a book of business (every row creates an account) into a scratch
workspace that has the same 50 CSMs as members; the workspace and everything in it is deleted
afterwards, so the benchmark workspace itself is never touched.
"""

import csv
import datetime as dt
import time

import numpy as np
import psycopg2

from ..env import CACHE_DIR
from ..results import Figure, failed, not_available
from .common import optional, run_worker

PART = "import"
ROWS = 100_000
SCRATCH_PREFIX = "bench-import"
HEADERS = ["External ID", "Name", "Domain", "Owner", "ARR", "Plan", "Licensed seats", "Contract start",
           "Renewal date", "Stage", "Status", "Tags"]


def write_file(path, rows, csm_emails, stages, seed=7):
    rng = np.random.default_rng(seed)
    arr = np.round(rng.lognormal(np.log(1_200_000), 1.25, rows), -3)
    owners = rng.integers(0, len(csm_emails), rows)
    start = dt.date(2026, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        for i in range(rows):
            begin = start - dt.timedelta(days=int(rng.integers(0, 1500)))
            out.writerow([
                f"crm-{i:06d}", f"Imported Company {i:06d}", f"imported{i:06d}.example.com",
                csm_emails[owners[i]], f"{arr[i]:.0f}", ["Starter", "Team", "Business"][i % 3],
                int(max(5, arr[i] // 60_000)), begin.isoformat(), (begin + dt.timedelta(days=365 * 3)).isoformat(),
                stages[i % len(stages)], "active", "imported" if i % 10 == 0 else "",
            ])


def create_scratch_workspace(ctx):
    from cs_platform.provisioning import create_workspace
    from workspaces.models import Membership

    slug = f"{SCRATCH_PREFIX}-{int(time.time())}"
    workspace = create_workspace(name="Benchmark import scratch", slug=slug)
    members = Membership.objects.for_workspace(ctx.workspace).select_related("user")
    Membership.objects.bulk_create(Membership(workspace=workspace, user=m.user, role=m.role) for m in members)
    return workspace


def delete_workspace_rows(url, workspace_id):
    """Delete a workspace and every row of it, in one transaction, without loading any of it; then
    vacuum the tables it had rows in.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED in PostgreSQL, so the order of the
    deletes does not matter inside the transaction. Link tables without a workspace column (M2M)
    are cleared through their foreign key to a workspace-owned table first. The vacuum keeps the
    benchmark database as built: a scratch load of 6 million events left behind as dead rows made
    every later scan of the event table read them too (autovacuum may be off, or late).
    """
    from workspaces.models import AUDIT_ERASURE_SETTING

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        # The audit log is append-only; deleting a whole workspace is the one exception, and this
        # transaction says so the way workspaces.models.audit_erasure does.
        cur.execute("SELECT set_config(%s, 'on', true)", [AUDIT_ERASURE_SETTING])
        cur.execute("""
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
            WHERE c.column_name = 'workspace_id' AND c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        """)
        owned = {r[0] for r in cur.fetchall()}
        cur.execute("""
            SELECT src.relname, a.attname, dst.relname
            FROM pg_constraint k
            JOIN pg_class src ON src.oid = k.conrelid
            JOIN pg_class dst ON dst.oid = k.confrelid
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1
        """)
        for table, column, target in cur.fetchall():
            if table not in owned and target in owned:
                cur.execute(f'DELETE FROM "{table}" WHERE "{column}" IN '
                            f'(SELECT id FROM "{target}" WHERE workspace_id = %s)', [workspace_id])
        emptied = set()
        for table in owned:
            cur.execute(f'DELETE FROM "{table}" WHERE workspace_id = %s', [workspace_id])
            if cur.rowcount > 0:
                emptied.add(table)
        cur.execute("DELETE FROM workspaces_workspace WHERE id = %s", [workspace_id])
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in sorted(emptied):
            cur.execute(f'VACUUM "{table}"')
            # VACUUM cuts the emptied pages off the table's end, but a BRIN index keeps its summaries
            # of them: the next rows written there would each update a stale summary. Rebuilt, as new.
            cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%USING brin%%'",
                        [table])
            for (index,) in cur.fetchall():
                cur.execute(f'REINDEX INDEX "{index}"')
    conn.close()


def leftover_scratch_workspaces(url, prefix=SCRATCH_PREFIX):
    """Scratch workspaces a crashed run left behind (their slug starts with `prefix`)."""
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM workspaces_workspace WHERE slug LIKE %s", [prefix + "-%"])
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    return ids


def copy_baseline(url, path):
    """COPY the same file into a typed scratch table: the database's own ingest rate for these rows."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("""
            DROP TABLE IF EXISTS bench_import_copy;
            CREATE TABLE bench_import_copy (
                external_id varchar(100), name varchar(200), domain varchar(200), owner varchar(254),
                arr numeric(16, 2), plan varchar(80), licensed_seats integer, contract_start date,
                renewal_date date, stage varchar(80), status varchar(10), tags text
            )
        """)
        conn.commit()
        started = time.perf_counter()
        with open(path, encoding="utf-8") as fh:
            cur.copy_expert("COPY bench_import_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_import_copy")
        conn.commit()
    conn.close()
    return seconds


def run_import_in_worker(args):
    """Runs inside `python -m bench.worker import`: the service, as the management command calls it."""
    from pathlib import Path

    from imports import selectors, services
    from imports.columns import suggest_mapping
    from imports.readers import read_file
    from workspaces.models import Workspace
    from workspaces.policy import SystemActor

    workspace = Workspace.objects.get(pk=args.workspace_id)
    path = Path(args.file)
    started = time.perf_counter()
    sheet = read_file(path.read_bytes(), filename=path.name)
    read_seconds = time.perf_counter() - started
    saved = selectors.saved_mapping(workspace=workspace, object_type="accounts")
    mapping = suggest_mapping("accounts", sheet.headers, saved)
    result = services.import_sheet(workspace=workspace, actor=SystemActor("bench"), object_type="accounts", sheet=sheet,
                                   mapping=mapping, commit=args.commit, filename=path.name)
    return {"seconds": time.perf_counter() - started, "read_seconds": read_seconds, "rows": len(sheet),
            "summary": result.summary(), "errors": result.errors[:3], "mapped": sorted(mapping.values())}


def run(ctx, results):
    if optional("imports.services.import_sheet") is None or optional("imports.readers.read_file") is None:
        return [not_available(PART, "rows/s, dry run", "the imports app has not landed yet", unit="rows/s"),
                not_available(PART, "rows/s, commit", "the imports app has not landed yet", unit="rows/s")]
    from accounts.models import LifecycleStage
    from workspaces.models import Membership, Role

    rows = 20_000 if ctx.quick else ROWS
    for stale in leftover_scratch_workspaces(ctx.url):
        delete_workspace_rows(ctx.url, stale)
    CACHE_DIR.mkdir(exist_ok=True)
    path = CACHE_DIR / f"accounts-{rows}.csv"
    emails = list(Membership.objects.for_workspace(ctx.workspace).filter(role=Role.CSM)
                  .values_list("user__email", flat=True))
    stages = list(LifecycleStage.objects.for_workspace(ctx.workspace).values_list("name", flat=True))
    write_file(path, rows, emails, stages)
    copy_seconds = copy_baseline(ctx.url, path)
    copy_rate = rows / copy_seconds
    baseline_name = "COPY of the same file into a typed scratch table"
    workspace = create_scratch_workspace(ctx)
    figures = []
    try:
        for commit in (False, True):
            label = "commit" if commit else "dry run"
            name = f"rows/s, {label} (accounts CSV)"
            argv = ["import", "--workspace-id", str(workspace.pk), "--file", str(path)]
            try:
                report = run_worker(ctx, *argv, *(["--commit"] if commit else []))
            except RuntimeError as exc:
                figures.append(failed(PART, name, exc, unit="rows/s"))
                continue
            summary = report["summary"]
            ok = summary["error_rows"] == 0 and not summary["mapping_errors"] and summary["created"] == rows
            note = (f"{rows:,} rows in {report['seconds']:.1f} s (reading the file {report['read_seconds']:.1f} s), "
                    f"peak RSS {report['maxrss_mib']:.0f} MiB; created {summary['created']:,}, "
                    f"errors {summary['error_rows']:,}, committed {summary['committed']}")
            if not ok:
                note += f"; UNEXPECTED: {summary} {report['errors']}"
            figures.append(Figure(part=PART, name=name, value=rows / report["seconds"], unit="rows/s",
                                  better="higher", baseline=copy_rate, baseline_name=baseline_name, note=note))
            if ctx.profile:
                results.profiles[f"import, {label}: slowest SQL statements"] = report["queries"]
        if ctx.profile:
            profiled = run_worker(ctx, "import", "--workspace-id", str(workspace.pk), "--file", str(path),
                                  "--profile")
            results.profiles["import, dry run (cProfile, cumulative)"] = profiled.get("profile", "")
    finally:
        delete_workspace_rows(ctx.url, workspace.pk)
    return figures
