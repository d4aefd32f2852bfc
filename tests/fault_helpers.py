"""What the fault tests share: the real pieces a deployment runs, started here so they can fail.

- `PrivateRedis`: a redis-server of the test's own on a free loopback port, to stop and start again
  (never the machine's Redis).
- `CeleryWorker`: a real `celery worker` process on the test database, to kill with SIGKILL.
- `hold_first_insert`: a test-only hook in the data: a trigger that makes the first matching row
  inserted into a table wait inside PostgreSQL, so a fault lands in the middle of a step every time.
- `nightly_rows`: every row the night writes for a workspace, by natural keys (no ids, no run
  timestamps), ordered, so that two workspaces' nights compare row by row.

They run on PostgreSQL (with redis-server installed); on the embedded SQLite run they skip, and
with REQUIRE_REDIS set (CI's PostgreSQL and Redis pass) a missing piece fails instead.
"""

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.db import connection, models

ROOT = Path(__file__).resolve().parent.parent


def require_postgresql(*, redis_server=False):
    """Skip (or, with REQUIRE_REDIS, fail) unless the pieces a fault test needs are here."""
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (set DATABASE_URL)")
    if redis_server and not shutil.which("redis-server"):
        missing.append("the redis-server program")
    if not missing:
        return
    reason = "fault tests run against real services; missing: " + ", ".join(missing)
    if os.environ.get("REQUIRE_REDIS"):
        pytest.fail(f"{reason}, and REQUIRE_REDIS is set")
    pytest.skip(reason)


def wait_for(condition, *, timeout, what, interval=0.1):
    """Poll `condition()` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def use_broker(app, **conf):
    """Point this process's Celery app at another broker (and result store), e.g. one that is down.

    kombu keeps one connection pool per broker URL in a process-wide registry. A pool that an earlier
    test left closed, or bound to a Redis since stopped, would be handed out again for the same URL
    (the suite's own Redis, or a port the OS gives out again): "Acquire on closed pool". So the
    registry is emptied and the app's own caches dropped; the next task opens fresh connections.
    """
    kombu.pools.reset()
    app.conf.update(conf)
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throw-away redis-server on 127.0.0.1, no persistence, that the test may stop at will."""

    def __init__(self, workdir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = Path(workdir)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        wait_for(lambda: self._answers(client), timeout=10, what="the private redis-server")
        client.close()

    @staticmethod
    def _answers(client):
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def freeze(self):
        """SIGSTOP: connections stay open and nothing answers, as in a network partition or a hung host."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        """Stop it the hard way, as a crash or an OOM kill would: its queue and cache are gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
        self.process = None


def database_url_of_tests():
    """The URL of the database the tests use (pytest-django's test database), for subprocesses."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class _ServerProcess:
    """A child process of the test that writes to its log file: stopped politely, then by force."""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            self._log.close()
        self.process = None


class CeleryWorker(_ServerProcess):
    """`celery -A cs_platform worker` as its own process, on the test database and a given Redis."""

    def __init__(self, *, redis_url, logfile):
        self.logfile = Path(logfile)
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_of_tests(),
            "REDIS_URL": redis_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "fault-tests-only",
            "DJANGO_SETTINGS_MODULE": "cs_platform.settings",
        }
        self.process = None
        self._starts = 0

    def start(self):
        self._log = self.logfile.open("a")
        self._starts += 1
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cs_platform", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", f"faults-{os.getpid()}@%h"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self._ready(), timeout=60, what="the Celery worker to be ready")

    def _ready(self):
        if self.process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {self.process.returncode}:\n{self.log()[-3000:]}")
        return self.log().count(" ready.") == self._starts

    def log(self):
        return self.logfile.read_text(errors="replace")

    def mark_connections(self):
        """Before a broker outage: remember how often the worker has connected so far."""
        self._connected = self.log().count("Connected to redis")

    def wait_reconnected(self, timeout=90):
        """After the outage: until the worker has connected again, restarting it if it exited meanwhile,
        as the deployment's supervisor does (docker-compose: `restart: unless-stopped`). A worker can
        exit by itself when Redis goes away under it: kombu gives up with "Unrecoverable error" when
        the broker vanishes in the middle of an acknowledgement."""
        def back():
            if self.process.poll() is not None:
                self._log.close()
                self.start()  # waits until it is ready, connected
                return True
            return self.log().count("Connected to redis") > self._connected

        wait_for(back, timeout=timeout, what="the worker to be connected to Redis again", interval=0.2)

    def kill(self):
        """SIGKILL: no warm shutdown, no ack, no result; what an OOM kill or a lost machine does."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


class WebServer(_ServerProcess):
    """The platform served by gunicorn (one sync worker, persistent database connections as
    configured) on the test database; embedded cache and in-process tasks (no REDIS_URL)."""

    def __init__(self, *, logfile):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logfile = Path(logfile)
        self.env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
        self.env.update(DATABASE_URL=database_url_of_tests(), DJANGO_SETTINGS_MODULE="cs_platform.settings",
                        SECRET_KEY=os.environ.get("SECRET_KEY") or "fault-tests-only")
        self.process = None

    def start(self):
        self._log = self.logfile.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cs_platform.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "1", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, timeout=60, what="gunicorn to answer")

    def _answers(self):
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.logfile.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


def end_other_sessions():
    """End every other session on the test database, as a restarted PostgreSQL, a failover or a
    pooler's idle timeout does; returns how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        ended = len(cursor.fetchall())
    wait_for(lambda: _other_sessions() == 0, timeout=10, what="the ended sessions to go")
    return ended


def _other_sessions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return cursor.fetchone()[0]


_hooks = itertools.count(1)


class Hold:
    def __init__(self, seconds):
        self.seconds = seconds

    def wait_until_held(self, timeout=60):
        """The pid of the database backend sleeping in the hook, once a statement reaches it."""
        def sleeping():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
                    " AND pid <> pg_backend_pid()"
                )
                row = cursor.fetchone()
            return row[0] if row else None

        self.pid = wait_for(sleeping, timeout=timeout, what="a statement to reach the hook", interval=0.05)
        return self.pid

    def wait_until_gone(self, pid=None, timeout=30):
        """Until that backend has ended (the database noticed its client died, or was told to end it)."""
        pid = pid or self.pid

        def gone():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                return cursor.fetchone()[0] == 0

        wait_for(gone, timeout=timeout, what=f"database backend {pid} to end")


@contextmanager
def hold_first_insert(table, *, when, seconds):
    """A trigger on `table`: the first row inserted that matches the SQL condition `when` (on NEW)
    waits `seconds` inside the database, in the middle of the statement (and of its transaction).

    Test data, not a mock: the code under test runs unchanged; the database is merely slow once.
    The gate is a sequence, which a rollback does not undo, so a retried statement passes at once.
    """
    n = next(_hooks)
    names = {"seq": f"fault_gate_{n}", "fn": f"fault_hold_{n}", "trg": f"fault_hold_{n}"}
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SEQUENCE {names['seq']}")
        cursor.execute(f"""
            CREATE FUNCTION {names['fn']}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('{names['seq']}') = 1 THEN PERFORM pg_sleep({float(seconds)}); END IF;
                RETURN NEW;
            END $$""")
        cursor.execute(f"CREATE TRIGGER {names['trg']} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when})"
                       f" EXECUTE FUNCTION {names['fn']}()")
    try:
        yield Hold(seconds)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {names['trg']} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {names['fn']}()")
            cursor.execute(f"DROP SEQUENCE IF EXISTS {names['seq']}")


# --- The night's rows, comparable across workspaces ------------------------------------------------


def _nightly_models():
    from accounts.models import Account
    from coverage.models import CoverageRollup, CoverageSnapshot, TierChange
    from healthscore.models import HealthAlert, HealthSnapshot
    from segments.models import Segment, SegmentMembership, SegmentMembershipEvent
    from usage.models import DailyAccountUsage, DirtyUsageDay, IngestSettings

    return {
        # model: the fields the night writes on it (None: every field but ids and run timestamps)
        Account: ["external_id", "touch_tier", "health_score", "health_band", "health_change_30d", "active_users_30d"],
        Segment: ["name", "computed_on", "member_count"],
        IngestSettings: ["active_users_on"],
        DailyAccountUsage: None,
        DirtyUsageDay: None,
        TierChange: None,
        SegmentMembership: None,
        SegmentMembershipEvent: None,
        CoverageSnapshot: None,
        CoverageRollup: None,
        HealthSnapshot: None,
        HealthAlert: None,
    }


def _natural(field):
    """The lookups that name a related row the same way in two workspaces built alike."""
    from accounts.models import Account
    from healthscore.models import ScorecardVersion
    from segments.models import Segment
    from workspaces.models import Membership

    target = field.related_model
    if target is Account:
        return [f"{field.name}__external_id"]
    if target is Membership:
        return [f"{field.name}__user__username"]
    if target is Segment:
        return [f"{field.name}__name"]
    if target is ScorecardVersion:
        return [f"{field.name}__scorecard__name", f"{field.name}__number"]
    raise AssertionError(f"no natural key for {field.model.__name__}.{field.name}")


def _columns(model, names):
    lookups = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name == "workspace" or (names is not None and field.name not in names):
            continue
        if isinstance(field, models.DateTimeField) and names is None:
            continue  # when this run happened, not what it computed
        lookups += _natural(field) if field.is_relation else [field.name]
    return lookups


def nightly_rows(workspace):
    """{table: sorted rows} of everything the night writes for `workspace`, by natural keys.

    Member usernames lose the workspace's slug prefix (the demo names them `<slug>-csm1`), and a
    coverage snapshot's segment ids become segment names, so that twin workspaces compare equal.
    """
    from segments.models import Segment

    prefix = f"{workspace.slug}-"
    segment_names = dict(Segment.objects.for_workspace(workspace).values_list("pk", "name"))
    dump = {}
    for model, names in _nightly_models().items():
        lookups = _columns(model, names)
        rows = []
        for values in model.objects.for_workspace(workspace).values_list(*lookups):
            row = []
            for lookup, value in zip(lookups, values, strict=True):
                if lookup.endswith("user__username") and value:
                    value = value.removeprefix(prefix)
                elif lookup == "segment_keys":
                    value = sorted(segment_names[int(s)] for s in value.strip(",").split(",") if s)
                row.append(value)
            rows.append(tuple(row))
        dump[model._meta.db_table] = sorted(rows, key=repr)
    return dump


def assert_same_nights(interrupted, reference):
    """Row by row: the same tables, the same rows; names the first table that differs."""
    got, expected = nightly_rows(interrupted), nightly_rows(reference)
    assert any(expected.values()), "the reference night wrote nothing: the comparison would prove nothing"
    for table in expected:
        if got[table] != expected[table]:
            only_got = [row for row in got[table] if row not in expected[table]][:5]
            only_expected = [row for row in expected[table] if row not in got[table]][:5]
            pytest.fail(f"{table} differs from the uninterrupted night ({len(got[table])} rows, expected "
                        f"{len(expected[table])}):\n  only here: {only_got}\n  only there: {only_expected}")


# --- Twin workspaces: one to break, one to compare with ---------------------------------------------

TWIN_SEGMENTS = [
    ("Strategic", {"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 3_000_000}]}),
    ("High touch", {"op": "and", "conditions": [{"field": "touch_tier", "op": "in", "value": ["high"]}]}),
    ("Unhealthy", {"op": "or", "conditions": [{"field": "health_band", "op": "in", "value": ["red", "yellow"]},
                                              {"field": "active_users", "op": "lt", "value": 3}]}),
]
STALE_DAYS = 10


def twin_workspace(slug, *, accounts=25, seed=11):
    """A demo workspace (deterministic for its seed) with work waiting for tonight: segments never
    materialized, and the last days' usage marked for a rollup that has not happened yet."""
    import datetime as dt

    from cs_platform.demo import seed_demo
    from segments.services import save_segment
    from usage.models import DailyAccountUsage, DirtyUsageDay
    from workspaces.models import Membership

    workspace = seed_demo(slug=slug, accounts=accounts, seed=seed).workspace
    admin = Membership.objects.for_workspace(workspace).get(user__username=f"{slug}-admin")
    for name, rules in TWIN_SEGMENTS:
        save_segment(workspace=workspace, actor=admin, name=name, rules=rules, materialize=False)
    today = workspace.today()
    stale = [today - dt.timedelta(days=n) for n in range(1, STALE_DAYS + 1)]
    DailyAccountUsage.objects.for_workspace(workspace).filter(day__in=stale).delete()
    DirtyUsageDay.objects.bulk_create([DirtyUsageDay(workspace=workspace, day=day) for day in stale])
    return workspace
