"""Expansion toss-ups: opportunities a CSM finds on an account and hands to an account executive.

The KPI is pipeline generated (how many were handed over, and their estimated MRR); what was won
is read second, as a check of the quality of what was handed over (docs/expansion.md).
A toss-up moves handed over → qualified → won or lost (`TRANSITIONS`); a CRM keeps the status in
sync by upserting on `external_id`.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY, Account
from workspaces.models import Membership, WorkspaceOwned


class OpportunityKind(models.TextChoices):
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    MORE_SEATS = "more_seats", _("More seats")
    OTHER = "other", _("Other")


class OpportunityStatus(models.TextChoices):
    HANDED_OVER = "handed_over", _("Handed over")
    QUALIFIED = "qualified", _("Qualified")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


CLOSED_STATUSES = (OpportunityStatus.WON, OpportunityStatus.LOST)
OPEN_STATUSES = (OpportunityStatus.HANDED_OVER, OpportunityStatus.QUALIFIED)

# Where a toss-up may go from each status. A won deal is final; a lost one may come back (the
# account executive reopens it), as qualified.
TRANSITIONS = {
    OpportunityStatus.HANDED_OVER: {OpportunityStatus.QUALIFIED, OpportunityStatus.WON, OpportunityStatus.LOST},
    OpportunityStatus.QUALIFIED: {OpportunityStatus.WON, OpportunityStatus.LOST},
    OpportunityStatus.WON: set(),
    OpportunityStatus.LOST: {OpportunityStatus.QUALIFIED},
}


class Opportunity(WorkspaceOwned):
    """One toss-up: an expansion opportunity on an account, handed to an account executive."""

    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="opportunities")
    kind = models.CharField(_("kind"), max_length=20, choices=OpportunityKind.choices, default=OpportunityKind.UPSELL)
    estimated_mrr = models.DecimalField(_("estimated MRR"), validators=[MinValueValidator(0)], **MONEY)
    note = models.TextField(_("note"), blank=True)
    raised_by = models.ForeignKey(
        Membership, verbose_name=_("raised by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="raised_opportunities", help_text=_("The CSM credited with the toss-up."),
    )
    handed_to = models.ForeignKey(
        Membership, verbose_name=_("account executive"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="received_opportunities", help_text=_("The account executive, when they are a member."),
    )
    handed_to_name = models.CharField(
        _("account executive (name)"), max_length=200, blank=True,
        help_text=_("The account executive's name in the CRM, when they are not a member."),
    )
    status = models.CharField(_("status"), max_length=20, choices=OpportunityStatus.choices,
                              default=OpportunityStatus.HANDED_OVER)
    handed_over_on = models.DateField(_("handed over on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    won_mrr = models.DecimalField(_("won MRR"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY)
    lost_reason = models.TextField(_("lost reason"), blank=True)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True,
                                   help_text=_("The CRM's ID, used to upsert."))
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-handed_over_on", "-id"]
        verbose_name = _("toss-up")
        verbose_name_plural = _("toss-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""),
                name="opportunity_unique_external_id_per_workspace",
                violation_error_message=_("Another toss-up of this workspace already has this external ID."),
            ),
            models.CheckConstraint(
                condition=~Q(status="won") | Q(won_mrr__isnull=False),
                name="opportunity_won_has_won_mrr",
                violation_error_message=_("A won toss-up needs its won MRR."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["handed_over", "qualified"]) | Q(closed_on__isnull=False),
                name="opportunity_closed_has_date",
                violation_error_message=_("A won or lost toss-up needs its close date."),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "handed_over_on"]),
            models.Index(fields=["workspace", "raised_by", "handed_over_on"]),
            models.Index(fields=["account", "status"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.account}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def account_executive(self):
        """Who took it: the member's name, else the CRM's name ("" when nobody is named)."""
        return self.handed_to.display_name if self.handed_to_id else self.handed_to_name
