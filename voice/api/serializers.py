"""API shapes of feature requests, their evidence, survey responses and the NPS report. Parsing only;
writes go to services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer, BriefContactSerializer
from accounts.models import MONEY, Account, Contact
from workspaces.api.fields import WorkspaceRelatedField
from workspaces.api.serializers import BriefMembershipSerializer

from ..models import EvidenceSource, FeatureRequest, FeatureRequestEvidence, RequestStatus, SurveyResponse


class FeatureRequestSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=RequestStatus.choices, required=False,
                                     help_text=_("Managers change it; a new request is `new`."))
    account_count = serializers.IntegerField(read_only=True, help_text=_("Distinct accounts asking."))
    asking_arr = serializers.DecimalField(read_only=True, **MONEY, help_text=_(
        "Sum of the current ARR of the distinct accounts asking (of the segment or tier filtered on, if any)."))
    evidence_count = serializers.IntegerField(read_only=True)
    last_heard = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = FeatureRequest
        fields = ["id", "title", "description", "status", "external_id", "account_count", "asking_arr",
                  "evidence_count", "last_heard", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class BriefFeatureRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureRequest
        fields = ["id", "title", "status"]


class FeatureRequestEvidenceSerializer(serializers.ModelSerializer):
    request = WorkspaceRelatedField(queryset=FeatureRequest.objects.all(), brief_serializer=BriefFeatureRequestSerializer)
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer)
    contact = WorkspaceRelatedField(queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer,
                                    required=False, allow_null=True)
    date = serializers.DateField(required=False, help_text=_("Default: today."))
    source = serializers.ChoiceField(choices=EvidenceSource.choices, required=False)
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FeatureRequestEvidence
        fields = ["id", "request", "account", "contact", "quote", "date", "source", "created_by", "created_at"]
        read_only_fields = ["created_at"]


class SurveyResponseSerializer(serializers.ModelSerializer):
    contact = WorkspaceRelatedField(queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer)
    account = BriefAccountSerializer(read_only=True, help_text=_("The contact's account."))
    score = serializers.IntegerField(min_value=0, max_value=10, help_text=_("NPS 0-10, CSAT 1-5."))
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                        help_text=_("The survey tool's ID, used to upsert."))

    class Meta:
        model = SurveyResponse
        fields = ["id", "contact", "account", "kind", "score", "comment", "responded_on", "external_id",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class NpsFiguresSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField(required=False, help_text=_("NPS: answers of 9 or 10."))
    passives = serializers.IntegerField(required=False, help_text=_("NPS: answers of 7 or 8."))
    detractors = serializers.IntegerField(required=False, help_text=_("NPS: answers of 0 to 6."))
    satisfied = serializers.IntegerField(required=False, help_text=_("CSAT: answers of 4 or 5."))
    nps = serializers.FloatField(required=False, allow_null=True,
                                 help_text=_("Share of promoters minus share of detractors, in percent; null without answers."))
    csat = serializers.FloatField(required=False, allow_null=True, help_text=_("Share of answers of 4 or 5, in percent; null without answers."))
    average = serializers.FloatField(allow_null=True)


class NpsPeriodSerializer(NpsFiguresSerializer):
    period = serializers.DateField(help_text=_("The first day of the month or quarter."))


class NpsGroupSerializer(NpsFiguresSerializer):
    key = serializers.CharField(help_text=_("The segment's id or the touch tier."))
    name = serializers.CharField()


class NpsReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Included."))
    total = NpsFiguresSerializer()
    periods = NpsPeriodSerializer(many=True)
    group_by = serializers.CharField()
    groups = NpsGroupSerializer(many=True)
