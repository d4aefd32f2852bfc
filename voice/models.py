"""Feature requests (one request, evidence from many accounts) and NPS/CSAT survey responses."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from workspaces.models import Membership, WorkspaceOwned


class RequestStatus(models.TextChoices):
    NEW = "new", _("New")
    PLANNED = "planned", _("Planned")
    SHIPPED = "shipped", _("Shipped")
    DECLINED = "declined", _("Declined")


class EvidenceSource(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    SUPPORT = "support", _("Support ticket")
    SURVEY = "survey", _("Survey")
    OTHER = "other", _("Other")


class FeatureRequest(WorkspaceOwned):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.NEW)
    external_id = models.CharField(
        _("external ID"), max_length=100, blank=True, help_text=_("The product team's ID (issue tracker), optional."))
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""),
                name="feature_request_unique_external_id_per_workspace",
                violation_error_message=_("Another feature request of this workspace already has this external ID."),
            )
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self):
        return self.title


class FeatureRequestEvidence(WorkspaceOwned):
    """One account asking for a request: who said what, when, and where we heard it."""

    request = models.ForeignKey(FeatureRequest, verbose_name=_("feature request"), on_delete=models.CASCADE,
                                related_name="evidence")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="feature_evidence")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    quote = models.TextField(_("quote"), blank=True)
    date = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=10, choices=EvidenceSource.choices, default=EvidenceSource.CALL)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["request", "account"]), models.Index(fields=["workspace", "date"])]

    def __str__(self):
        return f"{self.request} · {self.account}"


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (likelihood to recommend)")
    CSAT = "csat", _("CSAT (satisfaction)")


SCORE_RANGE = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}


class SurveyResponse(WorkspaceOwned):
    """One answer to an NPS (0-10) or CSAT (1-5) survey, from a contact of an account.

    `account` is the contact's account when the answer was recorded, kept on the row so that
    per-account reads (health, playbooks) are one indexed query."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="survey_responses")
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="survey_responses")
    kind = models.CharField(_("survey"), max_length=5, choices=SurveyKind.choices, default=SurveyKind.NPS)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True)
    responded_on = models.DateField(_("responded on"))
    external_id = models.CharField(_("external ID"), max_length=100, blank=True,
                                   help_text=_("The survey tool's ID, used to upsert."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-responded_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""),
                name="survey_response_unique_external_id_per_workspace",
                violation_error_message=_("Another survey response of this workspace already has this external ID."),
            ),
            models.CheckConstraint(
                condition=Q(kind="nps", score__gte=0, score__lte=10) | Q(kind="csat", score__gte=1, score__lte=5),
                name="survey_response_score_in_range",
                violation_error_message=_("An NPS score is 0-10, a CSAT score 1-5."),
            ),
        ]
        indexes = [models.Index(fields=["workspace", "kind", "responded_on"]),
                   models.Index(fields=["account", "kind", "responded_on"])]

    def __str__(self):
        return f"{self.contact} · {self.get_kind_display()} {self.score}"
