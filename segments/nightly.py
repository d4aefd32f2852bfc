"""The segments step of the nightly pipeline (cs_platform/nightly.py runs it after the tiers)."""

from .services import materialize_segments


def step(*, workspace, as_of):
    """Every segment's membership as of the day (rules may select on the tier just assigned)."""
    return {"segments": materialize_segments(workspace=workspace, as_of=as_of)}
