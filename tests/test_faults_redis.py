"""Redis stops: during ingestion, and during a recompute. Nothing is lost, nothing answers 500.

The platform's cache and broker are pointed at a private redis-server that the test stops and starts
again (tests/fault_helpers.py); tasks go through it to a real worker process, as in production.
"""

import datetime as dt
import io
import time
import zoneinfo

import pytest
from celery import Celery
from django.core.management import call_command
from django.urls import reverse

from cs_platform.celery import app as celery_app
from cs_platform.nightly import NIGHTLY_STEPS
from cs_platform.settings import REDIS_CACHE_OPTIONS
from cs_platform.tasks import schedule_nightly
from healthscore.models import HealthSnapshot
from usage.models import DailyAccountUsage, DirtyUsageDay, UsageEvent
from usage.services import create_write_key
from workspaces.models import Membership
from workspaces.policy import SYSTEM

from .fault_helpers import (
    CeleryWorker,
    PrivateRedis,
    assert_same_nights,
    hold_first_insert,
    require_postgresql,
    twin_workspace,
    use_broker,
    wait_for,
)
from .ingest_helpers import make_client

ALL_STEPS = ", ".join(step.name for step in NIGHTLY_STEPS)  # what a whole night reports, in order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_redis(tmp_path, settings):
    """A private Redis as this process's cache and broker, as REDIS_URL makes it in production."""
    require_postgresql(redis_server=True)
    server = PrivateRedis(tmp_path)
    server.start()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url,
                                   "OPTIONS": REDIS_CACHE_OPTIONS}}
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    use_broker(celery_app, broker_url=server.url, result_backend=server.url, task_always_eager=False)
    yield server
    use_broker(celery_app, **saved)
    server.stop()


@pytest.fixture
def worker(private_redis, tmp_path):
    worker = CeleryWorker(redis_url=private_redis.url, logfile=tmp_path / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def beat(private_redis):
    """What the beat does: send a scheduled task to the broker by name."""
    sender = Celery("beat", broker=private_redis.url, set_as_current=False)
    yield lambda name: sender.send_task(name)
    sender.close()


@pytest.mark.redis
@pytest.mark.parametrize("outage", ["killed", "frozen"])
def test_ingestion_keeps_accepting_while_redis_is_down_and_the_rollups_catch_up(
    outage, private_redis, worker, beat, ws, account, live_server, settings
):
    settings.USAGE_ROLLUP_DEBOUNCE_SECONDS = 1
    worker.start()
    write_key = create_write_key(workspace=ws, name="product", actor=SYSTEM)[1]
    errors = []
    client = make_client("segment", write_key=write_key, host=live_server.url, errors=errors)
    rolled_up = DailyAccountUsage.objects.for_workspace(ws).filter(account=account)

    def send(prefix):
        for n in range(5):
            client.track("u1", f"{prefix} {n}", context={"groupId": "crm-sakura"})
        client.flush()

    try:
        send("Before")
        wait_for(lambda: sum(rolled_up.values_list("events", flat=True)) == 5, timeout=30,
                 what="the rollup task, through the broker")
        worker.mark_connections()

        private_redis.stop() if outage == "killed" else private_redis.freeze()
        started = time.monotonic()
        send("During")
        # Stored at once, no 500 for the SDK to retry and then drop, no request waiting on Redis.
        assert errors == []
        assert time.monotonic() - started < 5
        assert UsageEvent.objects.for_workspace(ws).count() == 10
        assert DirtyUsageDay.objects.for_workspace(ws).exists()  # the day waits for its rollup

        # Killed, it comes back empty (whatever was queued or cached is gone); frozen, as it was.
        private_redis.start() if outage == "killed" else private_redis.thaw()
        if outage == "killed":
            worker.wait_reconnected()
        # No batch arrives any more; the beat's sweep finds the days still marked.
        beat("usage.tasks.sweep_usage_rollups")
        wait_for(lambda: sum(rolled_up.values_list("events", flat=True)) == 10, timeout=60,
                 what="the sweep's rollup")
        assert not DirtyUsageDay.objects.for_workspace(ws).exists()
    finally:
        client.shutdown()
        time.sleep(0.3)  # let the server thread close its database handle before teardown


def recompute(workspace, day):
    out = io.StringIO()
    call_command("recompute", "--workspace", workspace.slug, "--as-of", day.isoformat(), stdout=out)
    return out.getvalue().strip()


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.redis
def test_a_recompute_outlives_redis_and_recompute_now_says_when_it_cannot_start(private_redis, worker, client):
    night, reference = twin_workspace("redis-a"), twin_workspace("redis-b")
    day = night.today()
    admin = Membership.objects.for_workspace(night).get(user__username="redis-a-admin")
    client.force_login(admin.user)
    session = client.session
    session["workspace_id"] = night.pk
    session.save()
    worker.start()

    with hold_first_insert(HealthSnapshot._meta.db_table, when=f"NEW.workspace_id = {night.pk}", seconds=3) as hold:
        response = client.post(reverse("recompute"), follow=True)
        assert messages_of(response) == ["Recomputation started; refresh in a minute."]
        hold.wait_until_held()  # the worker is in the night's last step
        worker.mark_connections()
        private_redis.stop()

        # Redis is down: the page says so, and that nothing was started; no 500, no long wait.
        started = time.monotonic()
        response = client.post(reverse("recompute"), follow=True)
        assert response.status_code == 200
        assert messages_of(response) == [
            "The task queue is unavailable, so the recomputation was not started. Try again in a few minutes."
        ]
        assert time.monotonic() - started < 5
        # The command runs the night in its own process: it needs no broker.
        assert recompute(reference, day) == f"{reference.slug} {day}: {ALL_STEPS}"
        # The worker finishes the night it had started: its work is in the database, not in Redis.
        wait_for(lambda: HealthSnapshot.objects.for_workspace(night).filter(day=day).exists(), timeout=30,
                 what="the worker to finish the night without Redis")
    assert_same_nights(night, reference)

    private_redis.start()
    worker.wait_reconnected()
    runs = f"nightly for workspace {night.slug} on {day}"
    response = client.post(reverse("recompute"), follow=True)
    assert messages_of(response) == ["Recomputation started; refresh in a minute."]
    wait_for(lambda: worker.log().count(runs) == 2, timeout=60, what="the worker to run the retried recompute")
    # A second night of the same day reads what the first one wrote (segments read the health band
    # the first night's health step set), so it is compared with a second night of the twin.
    recompute(reference, day)
    assert_same_nights(night, reference)


@pytest.mark.redis
def test_a_night_whose_queued_task_redis_lost_is_queued_again_by_a_later_beat(private_redis, worker, ws):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    day = dt.date(2026, 3, 10)

    def beat_at(hour, minute=15):
        """The hourly beat entry, run (as a worker runs it) at that local time of `day`."""
        return schedule_nightly(dt.datetime.combine(day, dt.time(hour, minute), tokyo).isoformat())

    beat_at(2)  # the night is claimed and queued ...
    private_redis.stop()  # ... and Redis loses it before a worker takes it
    private_redis.start()
    worker.start()
    runs = f"nightly for workspace {ws.slug} on {day}"
    beat_at(3)  # an hour later the night may merely be waiting in a backlog: not queued twice
    time.sleep(2)
    assert runs not in worker.log()

    beat_at(5)  # later, a night still not done is queued again
    wait_for(lambda: runs in worker.log(), timeout=60, what="the night queued again")
    ws.refresh_from_db()
    assert ws.nightly_done_on == day
    beat_at(9)  # done: not queued again that day
    beat_at(23)
    time.sleep(2)
    assert worker.log().count(runs) == 1
