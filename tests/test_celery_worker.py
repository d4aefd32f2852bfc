"""The real broker path, once: a task goes through Redis to a live worker and back.

Eager mode (used by every other test) hides serialization and on-commit bugs; this test doesn't.
It needs REDIS_URL; CI sets REQUIRE_REDIS so that a missing Redis fails rather than skips.
"""

import os

import pytest
from django.conf import settings

from cs_platform.celery import app as celery_app
from cs_platform.tasks import recompute_workspace


@pytest.fixture
def live_worker(transactional_db):
    if not settings.REDIS_URL:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("REQUIRE_REDIS is set but REDIS_URL is not")
        pytest.skip("needs REDIS_URL")
    from celery.contrib.testing import tasks  # noqa: F401  registers celery.ping, used by start_worker
    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=20):
            yield
    finally:
        celery_app.conf.task_always_eager = True


@pytest.mark.redis
def test_nightly_task_runs_on_a_real_worker(live_worker, ws):
    result = recompute_workspace.delay(ws.pk, "2026-01-15")
    outcome = result.get(timeout=60)
    assert outcome["workspace"] == ws.slug
    assert outcome["as_of"] == "2026-01-15"
