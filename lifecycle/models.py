"""Usage levels (Lv1-Lv4): the workspace's definitions, each account's level history and its level now.

A level's rules are thresholds over usage signals of the 30 days up to a day (see rules.py); the
highest level whose rules all hold is the account's level, Lv1 is everything else. The nightly step
(nightly.py) writes the history: one row per stay at a level (valid_from, valid_to exclusive; open
while it lasts), never one per day, and the current level of each account on its own small table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from workspaces.models import WorkspaceOwned

LEVELS = [1, 2, 3, 4]


class UsageLevel(WorkspaceOwned):
    number = models.PositiveSmallIntegerField(_("level"), choices=[(n, f"Lv{n}") for n in LEVELS])
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # {"min_days_active": int, "min_active_users": int, "min_users_per_seat": float, "min_key_features": int}
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="usage_level_unique_number"),
        ]

    def __str__(self):
        return f"Lv{self.number} {self.name}"


class AccountLevel(WorkspaceOwned):
    """One stay of an account at a level: from valid_from (a local day) until valid_to (exclusive; null
    while it lasts). Written only by the nightly step; an account not active on a day has no row covering it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="level_history")
    level = models.PositiveSmallIntegerField(_("level"))
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["account_id", "valid_from"]
        indexes = [
            models.Index(fields=["workspace", "valid_from"]),
            models.Index(fields=["account", "valid_from"]),
        ]

    def __str__(self):
        return f"{self.account_id}: Lv{self.level} from {self.valid_from}"


class CurrentLevel(WorkspaceOwned):
    """The account's open level row, copied for cheap reads (lists, the account page, triggers)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="current_level")
    level = models.PositiveSmallIntegerField(_("level"))
    since = models.DateField(_("since"))
    computed_on = models.DateField()

    class Meta:
        ordering = ["account_id"]

    def __str__(self):
        return f"{self.account_id}: Lv{self.level}"
