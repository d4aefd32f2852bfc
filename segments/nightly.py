"""This app's steps of the nightly pipeline (see cs_platform/nightly.py for the order)."""

from .coverage import compute_coverage
from .services import assign_tiers, materialize_segments


def tiers_and_segments_step(*, workspace, as_of):
    """Tiers first (segments may select on tier), then segment membership."""
    tiers = assign_tiers(workspace=workspace, as_of=as_of)
    segments = materialize_segments(workspace=workspace, as_of=as_of)
    return {"tiers": tiers, "segments": segments}


def coverage_step(*, workspace, as_of):
    return compute_coverage(workspace=workspace, day=as_of)
