"""The playbooks step of the nightly pipeline (cs_platform/nightly.py runs it after health)."""

from .engine import evaluate_playbooks
from .tasks import wake_snoozed_tasks


def step(*, workspace, as_of, actor=None):
    """Every playbook's trigger for all accounts (after health: triggers read the day's scores,
    coverage, segments and usage): enrol, end the runs whose trigger cleared, create the due tasks;
    and snoozed tasks whose day has come are open again.

    Playbooks act in the present: a recompute of a past day (a back-fill of history, the weekly
    points of the trend charts) does not enrol accounts on that day, which would hand CSMs tasks
    that were due weeks ago. Reports of past days read the runs and tasks as they were written.
    What it writes is audited as `actor`'s (the night's, or the member's who asked for it)."""
    if as_of < workspace.today():
        return {"playbooks": "past day: not evaluated"}
    woken = wake_snoozed_tasks(workspace=workspace, as_of=as_of)
    return {"playbooks": evaluate_playbooks(workspace=workspace, as_of=as_of, actor=actor), "woken": woken}
