"""The lifecycle step of the night: every active account's usage level on the day, into the history.

Set-based (computation.levels_on: a few queries for all accounts), idempotent (services.write_levels
writes nothing when the day's levels are already recorded) and as-of (a past day reads that day's usage).
"""

from .computation import levels_on
from .selectors import rules_by_number
from .services import write_levels


def step(*, workspace, as_of):
    levels = levels_on(workspace=workspace, day=as_of, definitions=rules_by_number(workspace))
    return write_levels(workspace=workspace, day=as_of, levels=levels)
