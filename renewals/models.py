"""Renewal outcomes: what happened when a contract line came up for renewal (docs/renewals.md).

A contract line (accounts.models.Contract) renews on its `renews_on` day (its renewal date, else its
end date). Recording the outcome ends that line on that day and, when renewed, starts its successor
line on the same day (renewals.services.record_outcome): the revenue movements read the lines.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account, Contract
from workspaces.models import Membership, WorkspaceOwned


class Outcome(models.TextChoices):
    RENEWED = "renewed", _("Renewed")
    EXPANDED = "expanded", _("Renewed with expansion")
    CONTRACTED = "contracted", _("Renewed with contraction")
    CHURNED = "churned", _("Churned")


RENEWED_OUTCOMES = (Outcome.RENEWED, Outcome.EXPANDED, Outcome.CONTRACTED)


class RenewalOutcome(WorkspaceOwned):
    """One contract line's renewal on one day: renewed (flat, up or down, with its new MRR) or churned."""

    line = models.ForeignKey(Contract, verbose_name=_("contract line"), on_delete=models.CASCADE,
                             related_name="renewal_outcomes")
    successor = models.ForeignKey(Contract, verbose_name=_("successor line"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="renewal_outcomes")
    due_on = models.DateField(_("renewal day"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    previous_mrr = models.DecimalField(_("MRR before"), **MONEY)
    new_mrr = models.DecimalField(_("new MRR"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY)
    note = models.TextField(_("note"), blank=True)
    churn_reason = models.CharField(_("churn reason"), max_length=30, blank=True)
    churn_note = models.TextField(_("churn note"), blank=True)
    recorded_by = models.ForeignKey(Membership, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-due_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "due_on"], name="renewal_outcome_once_per_line_and_day",
                violation_error_message=_("An outcome is already recorded for this renewal."),
            ),
        ]
        indexes = [models.Index(fields=["workspace", "due_on"]), models.Index(fields=["account", "due_on"])]

    def __str__(self):
        return f"{self.account} · {self.due_on} · {self.get_outcome_display()}"

    @property
    def is_renewed(self):
        return self.outcome in RENEWED_OUTCOMES
