"""The broker (Redis) is down when a member starts an import: the page answers at once and says the
job is queued and will run when the queue is back; nothing is lost, because the job stays queued in
the database and the beat's sweep sends it again.

The broker here is a real Redis URL on a loopback port where nothing listens (connections refused),
and, on PostgreSQL with redis-server installed, a private Redis that is stopped, then started again
with a real worker and the beat's sweep.
"""

import time

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from cs_platform.celery import app as celery_app
from imports.models import ImportJob
from imports.services import requeue_abandoned_jobs
from imports.tasks import sweep_queued_imports

from .fault_helpers import (
    CeleryWorker,
    PrivateRedis,
    free_port,
    hold_first_insert,
    require_postgresql,
    use_broker,
    wait_for,
)
from .imports_helpers import csv_bytes

QUEUE_DOWN = "The task queue is unavailable right now."
DATA = csv_bytes([["external_id", "name"], ["q-1", "Queued One KK"], ["q-2", "Queued Two KK"]])


@pytest.fixture
def broker(settings, tmp_path):
    """broker.down(url) / broker.up(): the broker this process sends tasks to."""
    settings.MEDIA_ROOT = tmp_path
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}

    class Broker:
        @staticmethod
        def use(url):
            use_broker(celery_app, broker_url=url, result_backend=url, task_always_eager=False)

        @staticmethod
        def down():
            Broker.use(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

        @staticmethod
        def in_process():
            use_broker(celery_app, **saved)

    yield Broker
    use_broker(celery_app, **saved)


def start(client, url, form):
    """Start a dry run or an import from a page; the job is committed and sent in the request, as in
    production (these tests run without a surrounding transaction)."""
    started = time.monotonic()
    response = client.post(url, form)
    assert time.monotonic() - started < 1.0  # one refused connection, no reconnect loop
    assert response.status_code == 302
    return client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_page_with_the_broker_down_queues_the_job_and_the_sweep_runs_it(ws, manager, login, broker):
    client = login(manager)
    client.post(reverse("imports:index"), {"object_type": "accounts", "file": SimpleUploadedFile("q.csv", DATA)})
    job = ImportJob.all_workspaces.get()

    broker.down()
    page = start(client, reverse("imports:map", args=[job.pk]), {"col_0": "external_id", "col_1": "name"})
    job.refresh_from_db()
    assert job.status == "queued" and QUEUE_DOWN in page
    assert sweep_queued_imports() == 0  # still down: the sweep says so and the job waits
    job.refresh_from_db()
    assert job.status == "queued"

    broker.in_process()  # the queue is back (here: tasks run in-process)
    sweep_queued_imports()
    job.refresh_from_db()
    assert job.status == "checked" and job.total_rows == 2 and not job.errors

    broker.down()
    page = start(client, reverse("imports:job", args=[job.pk]), {"action": "commit"})
    job.refresh_from_db()
    assert job.status == "queued" and QUEUE_DOWN in page and not Account.all_workspaces.exists()
    broker.in_process()
    sweep_queued_imports()
    job.refresh_from_db()
    assert job.status == "done"
    assert set(Account.objects.for_workspace(ws).values_list("name", flat=True)) == {"Queued One KK",
                                                                                    "Queued Two KK"}


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_up_the_page_says_nothing_about_the_queue(ws, manager, login, broker):
    client = login(manager)
    client.post(reverse("imports:index"), {"object_type": "accounts", "file": SimpleUploadedFile("q.csv", DATA)})
    job = ImportJob.all_workspaces.get()
    page = start(client, reverse("imports:map", args=[job.pk]), {"col_0": "external_id", "col_1": "name"})
    assert QUEUE_DOWN not in page and "Dry run" in page


def test_the_beat_runs_the_sweep():
    entry = next(e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "imports.tasks.sweep_queued_imports")
    assert entry["schedule"] <= 5 * 60 and entry["options"]["expires"] < entry["schedule"]
    assert "imports.tasks.sweep_queued_imports" in celery_app.tasks


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_once_redis_is_back(ws, manager, login, broker, tmp_path):
    """Redis stopped when the member starts the dry run; started again, a real worker runs the job
    when the beat's sweep sends it."""
    require_postgresql(redis_server=True)
    redis = PrivateRedis(tmp_path)
    worker = CeleryWorker(redis_url=redis.url, logfile=tmp_path / "worker.log")
    worker.env["MEDIA_ROOT"] = str(django_settings.MEDIA_ROOT)  # where the page stored the upload
    client = login(manager)
    client.post(reverse("imports:index"), {"object_type": "accounts", "file": SimpleUploadedFile("q.csv", DATA)})
    job = ImportJob.all_workspaces.get()
    try:
        broker.use(redis.url)  # configured, but not started: connections refused
        page = start(client, reverse("imports:map", args=[job.pk]), {"col_0": "external_id", "col_1": "name"})
        assert QUEUE_DOWN in page
        redis.start()
        worker.start()
        from celery import Celery

        beat = Celery("beat", broker=redis.url, set_as_current=False)
        beat.send_task("imports.tasks.sweep_queued_imports")
        beat.close()
        wait_for(lambda: ImportJob.all_workspaces.get(pk=job.pk).status not in ("queued", "checking"), timeout=60,
                 what="the swept job, run by the worker")
        job.refresh_from_db()
        assert job.status == "checked" and job.total_rows == 2, (job.failure, worker.log()[-3000:])
    finally:
        worker.stop()
        redis.stop()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_runs_again_from_the_sweep_and_writes_once(ws, manager, login, broker, tmp_path):
    """A worker SIGKILLed in the middle of an import: nothing of it is written, the job is not left
    "checking" for good — the sweep sees that nobody holds the job any more and queues it again —
    and the rerun writes every row once. While the worker is alive, the sweep leaves its job alone."""
    require_postgresql(redis_server=True)
    redis = PrivateRedis(tmp_path)
    worker = CeleryWorker(redis_url=redis.url, logfile=tmp_path / "worker.log")
    worker.env["MEDIA_ROOT"] = str(django_settings.MEDIA_ROOT)
    client = login(manager)
    client.post(reverse("imports:index"), {"object_type": "accounts", "file": SimpleUploadedFile("q.csv", DATA)})
    job = ImportJob.all_workspaces.get()
    start(client, reverse("imports:map", args=[job.pk]), {"col_0": "external_id", "col_1": "name"})  # in-process
    job.refresh_from_db()
    assert job.status == "checked"
    try:
        redis.start()
        worker.start()
        broker.use(redis.url)
        with hold_first_insert("accounts_account", when="NEW.name = 'Queued One KK'", seconds=3) as hold:
            start(client, reverse("imports:job", args=[job.pk]), {"action": "commit"})
            backend = hold.wait_until_held()
            assert requeue_abandoned_jobs() == 0  # its worker is alive and holds it
            worker.kill()
            hold.wait_until_gone(backend)
        job.refresh_from_db()
        assert job.status == "checking" and not Account.all_workspaces.exists()

        broker.in_process()  # the beat's sweep; here the job then runs in this process
        sweep_queued_imports()
        job.refresh_from_db()
        assert job.status == "done", job.failure
        assert sorted(Account.objects.for_workspace(ws).values_list("name", flat=True)) == ["Queued One KK",
                                                                                           "Queued Two KK"]
    finally:
        worker.stop()
        redis.stop()
