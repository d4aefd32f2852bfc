"""API shapes of programmes. Parsing only; writes go to services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from workspaces.api.fields import SaneDateTimeField, WorkspaceRelatedField, no_null_characters

from ..models import Attendance, AttendanceStatus, Programme, ProgrammeSession
from ..services import MAX_ROWS


class BriefProgrammeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Programme
        fields = ["id", "name", "kind"]


class ProgrammeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=150, validators=[no_null_characters])
    description = serializers.CharField(required=False, allow_blank=True, validators=[no_null_characters])
    channel = serializers.CharField(read_only=True, help_text=_("The touchpoint channel attendance counts as."))

    class Meta:
        model = Programme
        fields = ["id", "name", "kind", "channel", "description", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ProgrammeSessionSerializer(serializers.ModelSerializer):
    programme = WorkspaceRelatedField(queryset=Programme.objects.all(), brief_serializer=BriefProgrammeSerializer)
    title = serializers.CharField(max_length=200, validators=[no_null_characters])
    starts_at = SaneDateTimeField()  # a moment a real clock could show (years 1970-2999)
    registered_count = serializers.SerializerMethodField()
    attended_count = serializers.SerializerMethodField()

    class Meta:
        model = ProgrammeSession
        fields = ["id", "programme", "title", "starts_at", "registered_count", "attended_count", "created_at"]
        read_only_fields = ["created_at"]

    def _count(self, session, status):
        return session.attendances.filter(status=status).count()

    def get_registered_count(self, session) -> int:
        if hasattr(session, "registered_count"):
            return session.registered_count
        return self._count(session, AttendanceStatus.REGISTERED)

    def get_attended_count(self, session) -> int:
        if hasattr(session, "attended_count"):
            return session.attended_count
        return self._count(session, AttendanceStatus.ATTENDED)


class BriefContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    external_id = serializers.CharField()


class AttendanceSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="session_id", read_only=True)
    programme = serializers.IntegerField(source="session.programme_id", read_only=True)
    contact = BriefContactRefSerializer(read_only=True)
    account = BriefAccountSerializer(source="contact.account", read_only=True)
    touchpoint = serializers.IntegerField(source="touchpoint_id", read_only=True, allow_null=True)

    class Meta:
        model = Attendance
        fields = ["id", "session", "programme", "contact", "account", "status", "touchpoint", "created_at",
                  "updated_at"]


class AttendanceRowSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True, max_length=254, validators=[no_null_characters])
    contact_external_id = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                                validators=[no_null_characters])
    status = serializers.ChoiceField(choices=AttendanceStatus.choices, required=False,
                                     help_text=_("Empty: attended."))


class AttendanceImportSerializer(serializers.Serializer):
    rows = serializers.ListField(child=serializers.DictField(), allow_empty=False, max_length=MAX_ROWS, help_text=_(
        "One row per contact: its email or external ID (contact_external_id), and status."))


class AttendanceImportRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AttendanceImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = AttendanceImportRowErrorSerializer(many=True)


class AttendanceImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    touchpoints = serializers.IntegerField()


class EffectGroupSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    progressed = serializers.IntegerField()
    progression_rate = serializers.FloatField(allow_null=True)
    usage_accounts = serializers.IntegerField()
    events_before = serializers.IntegerField()
    events_after = serializers.IntegerField()
    usage_change = serializers.FloatField(allow_null=True)
    grew = serializers.IntegerField()
    grew_share = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField()


class EffectDifferenceSerializer(serializers.Serializer):
    progression_rate = serializers.FloatField(allow_null=True)
    usage_change = serializers.FloatField(allow_null=True)
    grew_share = serializers.FloatField(allow_null=True)


class EffectReportSerializer(serializers.Serializer):
    attendees = EffectGroupSerializer()
    comparison = EffectGroupSerializer()
    difference = EffectDifferenceSerializer()
    min_group = serializers.IntegerField()
    sessions_too_recent = serializers.ListField(child=serializers.IntegerField())
    note = serializers.CharField()
