"""The coverage app's steps of the nightly pipeline (cs_platform/nightly.py runs them in order)."""

from .computation import compute_coverage
from .services import assign_tiers


def tiers_step(*, workspace, as_of):
    """Every active account's touch tier for the day; first, since segments may select on it."""
    return {"tiers": assign_tiers(workspace=workspace, as_of=as_of)}


def coverage_step(*, workspace, as_of):
    """The day's coverage snapshot and its rollup, from tiers, segment membership and touches."""
    return compute_coverage(workspace=workspace, day=as_of)
