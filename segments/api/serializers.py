"""API shapes of segments. Parsing only; writes go to services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from workspaces.api.fields import no_null_characters

from ..models import Segment, SegmentAddition, SegmentMembership, SegmentMembershipEvent


class BriefSegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name"]


class SegmentSerializer(serializers.ModelSerializer):
    # Rules are validated (strictly, naming the bad condition) by services.save_segment; a new
    # segment (or a PUT) must send them, a PATCH may leave them out.
    rules = serializers.JSONField(validators=[no_null_characters])

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "member_count", "computed_on", "created_at", "updated_at"]
        read_only_fields = ["member_count", "computed_on", "created_at", "updated_at"]


class PreviewRequestSerializer(serializers.Serializer):
    rules = serializers.JSONField(validators=[no_null_characters])


class PreviewResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = serializers.ListField(child=serializers.DictField())


class SegmentMemberSerializer(serializers.ModelSerializer):
    account = BriefAccountSerializer(read_only=True)

    class Meta:
        model = SegmentMembership
        fields = ["account", "since"]


class SegmentEventSerializer(serializers.ModelSerializer):
    account = BriefAccountSerializer(read_only=True)

    class Meta:
        model = SegmentMembershipEvent
        fields = ["account", "day", "kind"]


class AccountIdsSerializer(serializers.Serializer):
    accounts = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10000,
                                     help_text=_("Ids of accounts of this workspace."))


class AdditionResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(required=False)
    already = serializers.IntegerField(required=False)
    removed = serializers.IntegerField(required=False)
    members = serializers.IntegerField()


class SegmentAdditionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = SegmentAddition
        fields = ["account", "account_name", "source", "added_by", "added_at"]
