"""The nightly step: idempotent snapshots, as-of recomputation equal to the stored day, account rows,
version markers, and no query per account."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, Touchpoint
from cs_platform.nightly import run_nightly
from healthscore.definition import default_definition
from healthscore.models import HealthSnapshot
from healthscore.nightly import step as nightly_health
from healthscore.scoring import compute_scores, snapshot_payload
from healthscore.selectors import account_health, default_scorecard, trend_chart
from healthscore.services import rate_sentiment, save_scorecard
from tests.factories import AccountFactory

from .health_data import add_usage, at_noon, known_since

pytestmark = pytest.mark.django_db


def snapshot_rows(ws):
    return list(HealthSnapshot.objects.for_workspace(ws).order_by("account_id", "day").values_list(
        "id", "account_id", "day", "version_id", "total", "band", "available_weight", "groups", "measures"))


@pytest.fixture
def book(ws, csm):
    """Three accounts with different usage, touches and sentiment over the last 60 days."""
    today = ws.today()
    busy, quiet, new = (AccountFactory(workspace=ws, owner=csm) for _ in range(3))
    known_since(today - dt.timedelta(days=400), busy, quiet, new)  # seats, renewal… on record since the start
    for back in range(0, 60, 2):
        add_usage(busy, today - dt.timedelta(days=back), users=[f"u{i}" for i in range(12)], names=("login", "report"))
    for back in range(40, 60, 7):
        add_usage(quiet, today - dt.timedelta(days=back), users=["solo"])
    Touchpoint.all_workspaces.create(workspace=ws, account=busy, channel="phone",
                              occurred_at=at_noon(busy, today - dt.timedelta(days=5)))
    # The workspace logged touches before the past days scored here (else touch measures say nothing).
    Touchpoint.all_workspaces.create(workspace=ws, account=busy, channel="phone",
                              occurred_at=at_noon(busy, today - dt.timedelta(days=45)))
    rate_sentiment(account=busy, actor=csm, rating=5, rated_at=at_noon(busy, today - dt.timedelta(days=3)))
    return busy, quiet, new


def test_rerunning_a_day_writes_identical_rows(ws, book):
    today = ws.today()
    nightly_health(workspace=ws, as_of=today)
    first = snapshot_rows(ws)
    nightly_health(workspace=ws, as_of=today)
    assert snapshot_rows(ws) == first
    assert len(first) == 3


def test_a_chunk_at_a_time_writes_the_same_rows(ws, book, monkeypatch):
    """The snapshots are written (and the alerts read) a chunk of accounts at a time; chunks smaller
    than the book give the same rows as one chunk."""
    from healthscore import nightly

    today = ws.today()
    nightly_health(workspace=ws, as_of=today)
    whole = [row[1:] for row in snapshot_rows(ws)]
    HealthSnapshot.objects.for_workspace(ws).delete()
    monkeypatch.setattr(nightly, "CHUNK", 2)
    nightly_health(workspace=ws, as_of=today)
    assert [row[1:] for row in snapshot_rows(ws)] == whole and len(whole) == 3


def test_as_of_recomputation_equals_the_stored_snapshot(ws, csm, book):
    busy, quiet, _new = book
    past = ws.today() - dt.timedelta(days=20)
    nightly_health(workspace=ws, as_of=past)
    # Things that happen after the stored day must not change what that day computes to.
    add_usage(quiet, ws.today(), users=["late1", "late2"])
    Touchpoint.all_workspaces.create(workspace=ws, account=quiet, channel="onsite_meeting",
                              occurred_at=at_noon(quiet, ws.today() - dt.timedelta(days=1)))
    rate_sentiment(account=quiet, actor=csm, rating=1)
    frame, _ = compute_scores(workspace=ws, as_of=past)
    stored = {s.account_id: s for s in HealthSnapshot.objects.for_workspace(ws).filter(day=past)}
    assert set(stored) == set(frame.index)
    for account_id, row in frame.iterrows():
        groups, measures = snapshot_payload(row, row["version"].definition)
        snap = stored[account_id]
        assert (snap.total, snap.band, snap.groups, snap.measures) == (
            None if row["total"] != row["total"] else row["total"], row["band"], groups, measures)
    assert stored[busy.pk].total is not None


def test_account_rows_get_score_band_and_30_day_change(ws, book):
    busy, quiet, new = book
    today = ws.today()
    nightly_health(workspace=ws, as_of=today - dt.timedelta(days=30))
    nightly_health(workspace=ws, as_of=today)
    busy.refresh_from_db()
    quiet.refresh_from_db()
    new.refresh_from_db()
    snap_now = HealthSnapshot.all_workspaces.get(account=quiet, day=today)
    snap_then = HealthSnapshot.all_workspaces.get(account=quiet, day=today - dt.timedelta(days=30))
    assert quiet.health_score == snap_now.total and quiet.health_band == snap_now.band
    assert quiet.health_change_30d == pytest.approx(snap_now.total - snap_then.total)
    assert quiet.health_change_30d < 0  # usage stopped 40 days ago
    assert new.health_band == "na" and new.health_score is None
    # Recomputing an older day afterwards leaves the current values alone.
    nightly_health(workspace=ws, as_of=today - dt.timedelta(days=10))
    assert Account.all_workspaces.get(pk=quiet.pk).health_score == snap_now.total


def test_runs_after_every_step_it_reads(ws, book):
    ran = run_nightly(workspace=ws, as_of=ws.today())
    assert ran == ["usage", "tiers", "segments", "coverage", "health", "lifecycle", "playbooks"]
    assert HealthSnapshot.objects.for_workspace(ws).count() == 3


def test_query_count_does_not_grow_with_accounts(ws, csm, book):
    today = ws.today()
    nightly_health(workspace=ws, as_of=today)
    with CaptureQueriesContext(connection) as few:
        nightly_health(workspace=ws, as_of=today)
    for _ in range(15):
        account = AccountFactory(workspace=ws, owner=csm)
        add_usage(account, today, users=["x", "y"])
    with CaptureQueriesContext(connection) as many:
        nightly_health(workspace=ws, as_of=today)
    assert len(many.captured_queries) <= len(few.captured_queries) + 2


def test_version_change_is_marked_on_the_trend(ws, manager, book):
    busy = book[0]
    today = ws.today()
    card = default_scorecard(workspace=ws)
    nightly_health(workspace=ws, as_of=today - dt.timedelta(days=2))
    definition = default_definition()
    definition["groups"][0]["weight"] = 70
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition, note="usage matters more")
    nightly_health(workspace=ws, as_of=today - dt.timedelta(days=1))
    nightly_health(workspace=ws, as_of=today)
    snaps = list(HealthSnapshot.all_workspaces.filter(account=busy).order_by("day"))
    assert [s.version.number for s in snaps] == [1, 2, 2]
    chart = trend_chart(snaps)
    assert chart["markers"] == [{"index": 1, "label": "v2"}]


def test_explanation_in_plain_words(ws, book):
    busy = book[0]
    today = ws.today()
    nightly_health(workspace=ws, as_of=today - dt.timedelta(days=7))
    nightly_health(workspace=ws, as_of=today)
    health = account_health(account=busy)
    texts = [line["text"] for line in health["explanation"]["lines"]]
    assert any(t.startswith("Active users 12 of 20 seats: 75/100, weight") for t in texts), texts
    assert health["explanation"]["weakest"] is not None
    assert health["week_ago"].day == today - dt.timedelta(days=7)
