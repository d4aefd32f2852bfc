"""Faults in the night: a worker killed in the middle of a step, two recomputes of one workspace at once.

Each test builds twin workspaces from the same demo seed: the night of one is broken, the other's runs
undisturbed, and the two must end with the same rows, table by table (tests/fault_helpers.py).
"""

import datetime as dt
import io
import threading

import pytest
from celery import Celery
from django.core.management import call_command
from django.db import connections

from cs_platform.nightly import NIGHTLY_STEPS
from healthscore.models import HealthSnapshot
from segments.models import Segment, SegmentMembership
from usage.models import DailyAccountUsage, DirtyUsageDay

from .fault_helpers import (
    STALE_DAYS,
    CeleryWorker,
    PrivateRedis,
    assert_same_nights,
    hold_first_insert,
    require_postgresql,
    twin_workspace,
)

ALL_STEPS = ", ".join(step.name for step in NIGHTLY_STEPS)  # what a whole night reports, in order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_redis(tmp_path):
    require_postgresql(redis_server=True)
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(private_redis, tmp_path):
    worker = CeleryWorker(redis_url=private_redis.url, logfile=tmp_path / "worker.log")
    yield worker
    worker.stop()


def recompute(workspace, day):
    out = io.StringIO()
    call_command("recompute", "--workspace", workspace.slug, "--as-of", day.isoformat(), stdout=out)
    return out.getvalue().strip()


def hold_in_step(step, workspace, day):
    """Where each step is caught: a row it inserts, part-way through its work."""
    if step == "usage":
        # The rollup of the fifth of ten stale days: the days before it are committed, one by one.
        stale = day - dt.timedelta(days=STALE_DAYS // 2)
        return DailyAccountUsage._meta.db_table, f"NEW.workspace_id = {workspace.pk} AND NEW.day = '{stale}'"
    if step == "segments":
        # The second segment's members (in the order the step takes them): the first is committed.
        second = list(Segment.objects.for_workspace(workspace))[1]
        return SegmentMembership._meta.db_table, f"NEW.segment_id = {second.pk}"
    if step == "health":
        # Usage, tiers, segments and coverage are done (playbooks come after it).
        return HealthSnapshot._meta.db_table, f"NEW.workspace_id = {workspace.pk}"
    raise ValueError(step)


def assert_stopped_inside(step, workspace, day):
    """The kill did land in the middle of the step: part of its work is there, part is not."""
    if step == "usage":
        marks = DirtyUsageDay.objects.for_workspace(workspace).count()
        done = DailyAccountUsage.objects.for_workspace(workspace).filter(
            day__gte=day - dt.timedelta(days=STALE_DAYS), day__lt=day).values("day").distinct().count()
        assert marks == STALE_DAYS and 0 < done < STALE_DAYS
    elif step == "segments":
        computed = [segment.computed_on for segment in Segment.objects.for_workspace(workspace)]
        assert computed[0] == day and computed[1] is None
    elif step == "health":
        assert Segment.objects.for_workspace(workspace).filter(computed_on=day).count() == 3
        assert not HealthSnapshot.objects.for_workspace(workspace).filter(day=day).exists()


@pytest.mark.redis
@pytest.mark.parametrize("step", ["usage", "segments", "health"])
def test_a_worker_killed_in_the_middle_of_a_step_loses_nothing_when_the_night_runs_again(step, private_redis, worker):
    broken, reference = twin_workspace("night-a"), twin_workspace("night-b")
    day = broken.today()
    table, when = hold_in_step(step, broken, day)
    worker.start()
    sender = Celery("faults", broker=private_redis.url, set_as_current=False)
    with hold_first_insert(table, when=when, seconds=3) as hold:
        sender.send_task("cs_platform.tasks.recompute_workspace", args=[broken.pk, day.isoformat()])
        backend = hold.wait_until_held()
        worker.kill()
        # Its database session ends as soon as it next speaks to the dead client: what the step
        # had not committed is rolled back, and the workspace's lock is released with it.
        hold.wait_until_gone(backend)
    sender.close()
    assert_stopped_inside(step, broken, day)

    assert recompute(broken, day) == f"{broken.slug} {day}: {ALL_STEPS}"
    assert recompute(reference, day) == f"{reference.slug} {day}: {ALL_STEPS}"
    assert_same_nights(broken, reference)


@pytest.mark.redis
def test_two_recomputes_of_one_workspace_at_once_compute_it_once(db):
    require_postgresql()
    twice, reference = twin_workspace("twice-a"), twin_workspace("twice-b")
    day = twice.today()
    outputs = {}

    def run(name):
        try:
            outputs[name] = recompute(twice, day)
        finally:
            connections.close_all()  # this thread's own database connection

    table, when = hold_in_step("health", twice, day)
    with hold_first_insert(table, when=when, seconds=2) as hold:
        first = threading.Thread(target=run, args=["first"])
        first.start()
        hold.wait_until_held()  # the first holds the workspace, in its last step
        second = threading.Thread(target=run, args=["second"])
        second.start()
        second.join(30)
        first.join(30)
    assert outputs == {
        "first": f"{twice.slug} {day}: {ALL_STEPS}",
        "second": f"{twice.slug} {day}: skipped, another run of this workspace is in progress",
    }
    recompute(reference, day)
    assert_same_nights(twice, reference)
