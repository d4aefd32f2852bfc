import pytest

from cs_platform.demo import seed_demo
from success.models import EventKind, KptNote, PlanEvent, PlanStatus, SuccessPlan
from success.selectors import gaps_as_of


@pytest.mark.django_db
def test_demo_has_plans_in_every_state_with_history_and_kpt_notes():
    ws = seed_demo(slug="demo", accounts=60, seed=7).workspace
    plans = SuccessPlan.objects.for_workspace(ws)
    assert set(plans.values_list("status", flat=True)) == set(PlanStatus.values)
    events = PlanEvent.objects.for_workspace(ws)
    assert events.filter(kind=EventKind.CHANGES_REQUESTED).exclude(comment="").exists()
    assert events.filter(kind=EventKind.REOPENED).exists()  # approved plans edited, then approved again
    today = ws.today()
    # History goes back weeks: a month ago some plans had a gap on record already.
    import datetime as dt

    assert gaps_as_of(workspace=ws, day=today - dt.timedelta(days=30))
    notes = KptNote.objects.for_workspace(ws)
    month = today.replace(day=1)
    assert notes.filter(period_start=month).count() == 3
    assert notes.exclude(period_start=month).count() == 3
