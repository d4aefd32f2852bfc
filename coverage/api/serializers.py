"""API shapes of the touch model and coverage. Parsing only; writes go to services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from accounts.models import Account, Channel, ContactRole, TouchTier
from segments.selectors import segments_of
from workspaces.api.fields import WorkspaceRelatedField
from workspaces.api.serializers import BriefMembershipSerializer

from ..models import CadencePolicy, CadenceRule, CoverageSnapshot, TierPin, TouchModel


@extend_schema_serializer(description=_(
    "The segment a cadence policy applies to, in brief (the segments API has the rest)."
))
class PolicySegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CadenceRuleSerializer(serializers.ModelSerializer):
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), allow_empty=False)
    contact_role = serializers.ChoiceField(choices=ContactRole.choices, required=False, allow_blank=True)

    class Meta:
        model = CadenceRule
        fields = ["name", "channels", "contact_role", "max_gap_days"]


class CadencePolicySerializer(serializers.ModelSerializer):
    segment = WorkspaceRelatedField(
        choices_of=segments_of, brief_serializer=PolicySegmentSerializer, required=False, allow_null=True,
    )
    tier = serializers.ChoiceField(choices=TouchTier.choices, required=False, allow_blank=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), allow_empty=False)
    rules = CadenceRuleSerializer(many=True, required=False)

    class Meta:
        model = CadencePolicy
        fields = ["id", "name", "tier", "segment", "priority", "max_gap_days", "channels", "rules", "updated_at"]
        read_only_fields = ["updated_at"]


class TierPinSerializer(serializers.ModelSerializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer)
    pinned_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TierPin
        fields = ["id", "account", "tier", "reason", "pinned_by", "pinned_at"]
        read_only_fields = ["pinned_by", "pinned_at"]


class BandSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=10)
    min = serializers.IntegerField(min_value=0)


class TouchModelSerializer(serializers.ModelSerializer):
    seat_bands = BandSerializer(many=True, required=False)
    tenure_bands = BandSerializer(many=True, required=False)
    must_not_lose = serializers.ListField(child=serializers.CharField(max_length=21), required=False)

    class Meta:
        model = TouchModel
        fields = ["high_min_arr", "low_min_arr", "seat_bands", "tenure_bands", "must_not_lose", "matrix_users",
                  "updated_at"]
        read_only_fields = ["updated_at"]


class CoverageRowSerializer(serializers.ModelSerializer):
    account = BriefAccountSerializer(read_only=True)
    owner = BriefMembershipSerializer(read_only=True, allow_null=True)
    segments = serializers.ListField(source="segment_ids", child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = CoverageSnapshot
        fields = ["day", "account", "owner", "tier", "segments", "policy_name", "seat_band", "tenure_band", "cell",
                  "arr", "in_scope", "covered", "last_touch_on", "days_since_last_touch", "due_date",
                  "overdue_days", "broken_rule", "broken_rules", "fix_channel"]
        read_only_fields = fields
