"""What of the lifecycle capability travels in a workspace archive: the usage levels' definitions,
each account's level history and its current level (the history cannot be recomputed for days whose
raw events retention has pruned). Stage targets and thresholds travel with the stages (accounts)."""

from workspaces.transfer import Part, Table

from . import services
from .models import AccountLevel, CurrentLevel, UsageLevel

PART = Part("lifecycle", [
    Table(UsageLevel),
    Table(AccountLevel, keep_ids=False),
    Table(CurrentLevel, keep_ids=False),
], defaults=services.ensure_defaults)
