"""What of the coverage capability travels in a workspace archive: the touch model, pins, cadence
policies and their rules, and the whole history — tier changes, the daily snapshot rows and their
rollups.

The history travels rather than being recomputed: a past day's coverage was computed from what was
true that day (owners, touches, tiers, segment membership, the cadence policies of the time), and
the snapshot rows are that record. A snapshot row names the segments its account was in by id
(`segment_keys`); those ids are renamed, and a segment deleted since keeps a distinct id that names
nothing, so "by segment" reports of past days read as they did.
"""

from workspaces.transfer import Part, Table

from . import services
from .models import (
    CadencePolicy,
    CadenceRule,
    CoverageRollup,
    CoverageSnapshot,
    TierChange,
    TierPin,
    TouchModel,
)


def _rename_segment_keys(values, context):
    keys = [int(s) for s in (values.get("segment_keys") or "").strip(",").split(",") if s]
    renamed = [context.idmap.json_ref("segments.Segment", key) for key in keys]
    values["segment_keys"] = f",{','.join(str(k) for k in renamed)}," if renamed else ""
    return values


PART = Part("coverage", [
    Table(TouchModel),
    Table(TierPin),
    Table(TierChange, keep_ids=False),
    Table(CadencePolicy),
    Table(CadenceRule),
    Table(CoverageSnapshot, keep_ids=False, into=_rename_segment_keys),
    Table(CoverageRollup, keep_ids=False, into=_rename_segment_keys),
], defaults=services.ensure_defaults)
