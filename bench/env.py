"""Where the benchmark runs: its own PostgreSQL database, never the platform's usual one.

The harness must not touch a developer's data, so it reads `BENCH_DATABASE_URL` (or `--database-url`)
instead of `DATABASE_URL`, and it refuses SQLite outright: the figures mean nothing there.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cs_bench"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(__file__).resolve().parent / ".cache"


class BenchError(Exception):
    """A condition the harness cannot run under; printed as one line, exit status 2."""


def database_url(cli_value=None):
    return cli_value or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def require_postgres(url):
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith("sqlite") or scheme not in POSTGRES_SCHEMES:
        raise BenchError(
            f"The benchmark runs on PostgreSQL only (got {scheme or 'no'} database URL {url!r}). "
            "SQLite cannot hold 10 million events with concurrent writers, so its figures would mean "
            "nothing. Point BENCH_DATABASE_URL (or --database-url) at a PostgreSQL database, e.g. "
            f"{DEFAULT_DATABASE_URL}."
        )
    if not urlsplit(url).path.strip("/"):
        raise BenchError(f"The benchmark database URL {url!r} names no database.")
    return url


def database_name(url):
    return urlsplit(url).path.strip("/")


def maintenance_url(url):
    """The same server's `postgres` database, to create or drop the benchmark database from."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def server_env(url):
    """Environment for Django processes of the benchmark (harness, migrate, gunicorn, workers)."""
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    env["DEBUG"] = "0"  # DEBUG keeps every query in memory and would distort both time and memory.
    env.setdefault("LOG_LEVEL", "WARNING")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def setup_django(url):
    os.environ.update(server_env(url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate(url):
    proc = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=server_env(url),
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise BenchError(f"`manage.py migrate` failed on the benchmark database:\n{tail}")


def ensure_postgres_reachable(url):
    import psycopg2

    try:
        psycopg2.connect(maintenance_url(url), connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        raise BenchError(f"Cannot reach PostgreSQL at {maintenance_url(url)}: {exc}".strip()) from exc
