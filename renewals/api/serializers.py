"""API shapes of renewals. The one write (an outcome) goes through renewals.services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from accounts.models import MONEY, Contract
from workspaces.api.fields import WorkspaceRelatedField
from workspaces.api.serializers import BriefMembershipSerializer

from ..forecast import AT_RISK, band_of
from ..models import Outcome, RenewalOutcome


class BriefLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = ["id", "external_id", "product"]


@extend_schema_serializer(description=_("A contract line that comes up for renewal, with its account's health as of today."))
class UpcomingRenewalSerializer(serializers.ModelSerializer):

    account = BriefAccountSerializer(read_only=True)
    renews_on = serializers.DateField(source="renews_on_day", read_only=True,
                                      help_text=_("The renewal day: the renewal date, else the end date."))
    days_to_renewal = serializers.SerializerMethodField(help_text=_("Negative: past due."))
    arr = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True, help_text=_("MRR × 12."))
    health_score = serializers.FloatField(source="account.health_score", read_only=True, allow_null=True)
    health_band = serializers.SerializerMethodField(help_text=_("green, yellow, red or na (no health)."))
    at_risk = serializers.SerializerMethodField(help_text=_("Health red, or no health score."))
    has_outcome = serializers.BooleanField(read_only=True, help_text=_("An outcome is recorded for this renewal."))

    class Meta:
        model = Contract
        fields = ["id", "external_id", "account", "product", "quantity", "unit", "mrr", "arr", "start_date",
                  "end_date", "renewal_date", "renews_on", "days_to_renewal", "health_score", "health_band",
                  "at_risk", "has_outcome"]
        read_only_fields = fields

    def get_days_to_renewal(self, line) -> int:
        return (line.renews_on_day - self.context["today"]).days

    def get_health_band(self, line) -> str:
        return band_of(line.account)

    def get_at_risk(self, line) -> bool:
        return band_of(line.account) in AT_RISK


@extend_schema_serializer(description=_(
    "Written: the line and what happened; the rest is read (the renewal day is the line's)."))
class RenewalOutcomeSerializer(serializers.ModelSerializer):

    line = WorkspaceRelatedField(queryset=Contract.objects.all(), brief_serializer=BriefLineSerializer,
                                 help_text=_("The contract line's id."))
    account = BriefAccountSerializer(read_only=True)
    successor = BriefLineSerializer(read_only=True, allow_null=True)
    recorded_by = BriefMembershipSerializer(read_only=True, allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    new_mrr = serializers.DecimalField(required=False, allow_null=True, min_value=0, **MONEY,
                                       help_text=_("The renewed line's MRR: required when renewed."))
    quantity = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2_000_000_000,
                                        write_only=True, help_text=_("The renewed line's quantity; default the same."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    churn_reason = serializers.CharField(required=False, allow_blank=True, max_length=30,
                                         help_text=_("Required when churned: a churn reason code."))
    churn_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    class Meta:
        model = RenewalOutcome
        fields = ["id", "line", "account", "due_on", "outcome", "previous_mrr", "new_mrr", "quantity", "successor",
                  "note", "churn_reason", "churn_note", "recorded_by", "recorded_at"]
        read_only_fields = ["due_on", "previous_mrr", "recorded_at"]
