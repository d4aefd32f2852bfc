"""The night of each workspace: its own local hour and date, one run at a time, readable steps."""

import datetime as dt
import threading

import pytest
from django.db import connection

from cs_platform.nightly import (
    NIGHTLY_STEPS,
    REQUEUE_AFTER,
    mark_night_done,
    run_nightly,
    workspace_lock,
    workspaces_due,
)
from cs_platform.tasks import recompute_workspace
from tests.factories import WorkspaceFactory
from tests.nights import past_nightly_hour

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def test_the_steps_are_the_apps_own_in_reading_order():
    assert [(step.name, step.path) for step in NIGHTLY_STEPS] == [
        ("usage", "usage.nightly.step"),
        ("tiers", "coverage.nightly.tiers_step"),
        ("segments", "segments.nightly.step"),
        ("coverage", "coverage.nightly.coverage_step"),
        ("health", "healthscore.nightly.step"),
        ("lifecycle", "lifecycle.nightly.step"),
        ("playbooks", "playbooks.nightly.step"),
    ]


def test_only_runs_the_named_steps_and_refuses_unknown_ones(ws):
    assert run_nightly(workspace=ws, as_of=ws.today(), only=["tiers", "coverage"]) == ["tiers", "coverage"]
    with pytest.raises(ValueError, match="nightly_health"):
        run_nightly(workspace=ws, as_of=ws.today(), only=["nightly_health"])


def test_each_workspace_starts_at_its_own_hour_with_its_own_date():
    WorkspaceFactory(slug="tokyo", time_zone="Asia/Tokyo")
    WorkspaceFactory(slug="new-york", time_zone="America/New_York")
    WorkspaceFactory(slug="late", time_zone="Asia/Tokyo", nightly_hour=5)
    # 2026-03-09 17:15 UTC = 03-10 02:15 in Tokyo, 03-09 13:15 in New York (daylight time).
    due = workspaces_due(now=dt.datetime(2026, 3, 9, 17, 15, tzinfo=UTC))
    assert [(w.slug, day) for w, day in due] == [("tokyo", dt.date(2026, 3, 10)), ("new-york", dt.date(2026, 3, 9))]
    for workspace, day in due:
        mark_night_done(workspace, day)  # as their nights do when they run to the end
    # An hour later nothing is queued twice; Tokyo's late workspace waits for 05:00.
    assert workspaces_due(now=dt.datetime(2026, 3, 9, 18, 15, tzinfo=UTC)) == []
    due = workspaces_due(now=dt.datetime(2026, 3, 9, 20, 15, tzinfo=UTC))  # 05:15 in Tokyo
    assert [(w.slug, day) for w, day in due] == [("late", dt.date(2026, 3, 10))]
    mark_night_done(*due[0])
    # New York's next night: its 02:15 on 03-10 is 06:15 UTC.
    due = workspaces_due(now=dt.datetime(2026, 3, 10, 6, 15, tzinfo=UTC))
    assert [(w.slug, day) for w, day in due] == [("new-york", dt.date(2026, 3, 10))]


def test_a_night_queued_but_never_done_is_queued_again_later_and_a_done_one_is_not():
    WorkspaceFactory(slug="tokyo", time_zone="Asia/Tokyo")
    queued_at = dt.datetime(2026, 3, 9, 17, 15, tzinfo=UTC)  # 02:15 on 03-10 in Tokyo
    assert [w.slug for w, _day in workspaces_due(now=queued_at)] == ["tokyo"]
    assert workspaces_due(now=queued_at + REQUEUE_AFTER - dt.timedelta(minutes=1)) == []
    due = workspaces_due(now=queued_at + REQUEUE_AFTER)  # its task was lost: queued again
    assert [(w.slug, day) for w, day in due] == [("tokyo", dt.date(2026, 3, 10))]
    mark_night_done(due[0][0], dt.date(2026, 3, 10))
    assert workspaces_due(now=queued_at + 3 * REQUEUE_AFTER) == []


def test_a_night_queued_twice_runs_once(ws):
    day = ws.today().isoformat()
    first = recompute_workspace.apply(args=[ws.pk, day], kwargs={"nightly": True}).get()
    second = recompute_workspace.apply(args=[ws.pk, day], kwargs={"nightly": True}).get()
    assert first["skipped"] is False and second == {**first, "skipped": True, "steps": []}


def test_the_beat_enqueues_the_due_nights(ws, monkeypatch):
    queued = []
    monkeypatch.setattr(recompute_workspace, "delay", lambda *args, **kwargs: queued.append((args, kwargs)))
    from cs_platform.tasks import schedule_nightly

    now = past_nightly_hour(ws)
    schedule_nightly(now.isoformat())
    schedule_nightly(now.isoformat())
    assert queued == [((ws.pk, now.date().isoformat()), {"nightly": True})]


@pytest.mark.django_db(transaction=True)
def test_a_second_run_of_the_same_workspace_skips_while_the_first_holds_the_lock():
    if connection.vendor != "postgresql":
        pytest.skip("the nightly lock is PostgreSQL's advisory lock (SQLite serialises writers itself)")
    ws = WorkspaceFactory(slug="locked")
    holding, release = threading.Event(), threading.Event()

    def first_run():
        from django.db import connections

        with workspace_lock(ws) as acquired:
            assert acquired
            holding.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=first_run)
    thread.start()
    holding.wait(10)
    try:
        result = recompute_workspace.apply(args=[ws.pk, ws.today().isoformat()]).get()
        assert result["skipped"] is True and result["steps"] == []
    finally:
        release.set()
        thread.join()
    result = recompute_workspace.apply(args=[ws.pk, ws.today().isoformat()]).get()
    assert result["skipped"] is False and result["steps"][-1] == "playbooks"
