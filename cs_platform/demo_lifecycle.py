"""The demo's lifecycle: stage targets and "stuck after" thresholds, and the usage level history.

The stage moves are the demo's own (demo.py moves each account one stage every 120 days from its
contract start), so the distribution's twelve weekly points move as accounts cross stages, start and
churn. The level history is what the nightly step would have written had it run on each month-start
day of the usage history and today: the same computation, run for those days in order, so that the
per-level churn rates rest on the demo's churned accounts.
"""

import datetime as dt

from accounts.models import LifecycleStage
from lifecycle import nightly as lifecycle_nightly
from lifecycle.selectors import month_starts

# Per stage position: (target share in percent, stuck after days); the last stage is never "stuck".
STAGE_SETTINGS = [(15, 90), (25, 100), (35, 110), (15, 150), (10, None)]
HISTORY_DAYS = 180


def seed_lifecycle(workspace, rng, today, actor):
    """Targets and thresholds on the stages, and the level history of the last six months."""
    stages = list(LifecycleStage.objects.for_workspace(workspace).order_by("position", "id"))
    for stage, (target, stuck) in zip(stages, STAGE_SETTINGS, strict=False):
        stage.target_share, stage.stuck_after_days = target, stuck
    LifecycleStage.objects.for_workspace(workspace).bulk_update(stages, ["target_share", "stuck_after_days"])
    first = today - dt.timedelta(days=HISTORY_DAYS - 30)  # a full 30-day usage window behind the first day
    days = [day for day in month_starts(first, today) if day < today] + [today]
    for day in days:
        lifecycle_nightly.step(workspace=workspace, as_of=day)
    return len(days)
