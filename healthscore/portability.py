"""What of the health capability travels in a workspace archive: settings, scorecards with every
version, sentiment ratings, the daily snapshots and the alerts with their outcomes.

Snapshots travel rather than being recomputed: each was scored with the version of its day and
from what was true then (the owner, the account's values, usage that retention may since have
pruned), and back-tests and trends read them. A scorecard names the segments it applies to by id;
those ids are renamed (a deleted segment keeps naming nothing). Definitions hold no ids.
"""

from workspaces.transfer import Part, Table

from . import services
from .models import HealthAlert, HealthSettings, HealthSnapshot, Scorecard, ScorecardVersion, SentimentRating


def _rename_segments(values, context):
    values["segments"] = [context.idmap.json_ref("segments.Segment", s) if isinstance(s, int) else s
                          for s in values.get("segments") or []]
    return values


PART = Part("health", [
    Table(HealthSettings),
    Table(Scorecard, into=_rename_segments),
    Table(ScorecardVersion),
    Table(SentimentRating, keep_ids=False),
    Table(HealthSnapshot, keep_ids=False),
    Table(HealthAlert),
], defaults=services.ensure_defaults)
