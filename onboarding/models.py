"""Onboarding: the sales → CS handoff of each account, and its onboarding milestones.

- `OnboardingSettings`: one row per workspace: which handoff fields are required, and whether an
  account may leave the first lifecycle stage before its handoff is complete.
- `Handoff`: one per account, what sales hands over. Complete when every required field is filled;
  `completed_at` is the moment it first became so (cleared when a required field is emptied).
- `MilestoneTemplate`: the workspace's onboarding plan: each milestone (by `key`) with its target day
  after the contract start. A row with a touch tier overrides the row without one for that tier.
- `AccountMilestone`: an account's milestone, stored once something is recorded about it (its done
  day). A milestone without a row is not done; its target is computed from the template.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, TouchTier
from workspaces.models import Membership, WorkspaceOwned

# The handoff's fields a workspace may require, in form order.
HANDOFF_FIELDS = ("why_bought", "objectives", "decision_maker", "key_person", "contract_terms", "fit_criteria",
                  "risks")
DEFAULT_REQUIRED = ["why_bought", "objectives", "decision_maker"]
# The milestone whose done day is the first value (time to first value counts to it).
FIRST_VALUE = "first_success"


def default_required():
    return list(DEFAULT_REQUIRED)


class OnboardingSettings(WorkspaceOwned):
    required_fields = models.JSONField(_("required handoff fields"), default=default_required, blank=True)
    handoff_gates_stage = models.BooleanField(
        _("handoff gates the first stage"), default=True,
        help_text=_("An account cannot leave the first lifecycle stage until its handoff is complete."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="onboarding_settings_one_per_workspace")]

    def __str__(self):
        return str(_("Onboarding settings"))


class Handoff(WorkspaceOwned):
    account = models.OneToOneField(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                   related_name="handoff")
    why_bought = models.TextField(_("why they bought"), blank=True)
    objectives = models.TextField(_("objectives"), blank=True)
    decision_maker = models.ForeignKey(Contact, verbose_name=_("decision maker"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    key_person = models.ForeignKey(Contact, verbose_name=_("key person"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    contract_terms = models.TextField(_("contract terms"), blank=True)
    fit_criteria = models.TextField(_("fit criteria"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(Membership, verbose_name=_("completed by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["workspace", "completed_at"])]

    def __str__(self):
        return str(self.account)

    def missing(self, required):
        """The required fields still empty, in form order."""
        return [name for name in HANDOFF_FIELDS if name in required and not _filled(self, name)]


def _filled(handoff, name):
    if name in ("decision_maker", "key_person"):
        return getattr(handoff, f"{name}_id") is not None
    return bool((getattr(handoff, name) or "").strip())


class MilestoneTemplate(WorkspaceOwned):
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    target_day = models.PositiveSmallIntegerField(_("target day"), help_text=_("Days after the contract start."))
    tier = models.CharField(_("touch tier"), max_length=10, choices=TouchTier.choices, blank=True,
                            help_text=_("Empty: every tier. A tier's row overrides it for that tier."))

    class Meta:
        ordering = ["position", "target_day", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key", "tier"], name="milestone_template_unique_key_tier",
                                    violation_error_message=_("This milestone already has a row for this tier.")),
        ]

    def __str__(self):
        return self.name


class AccountMilestone(WorkspaceOwned):
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="milestones")
    key = models.SlugField(_("milestone"), max_length=40)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "key"]
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="account_milestone_unique_key")]
        indexes = [models.Index(fields=["workspace", "key", "done_on"])]

    def __str__(self):
        return f"{self.account_id} · {self.key}"
