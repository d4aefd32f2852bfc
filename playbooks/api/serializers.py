"""API shapes of playbooks and their runs. Parsing only; writes go to services (which validate the
definition strictly, naming the bad part: a 400 on "definition" with the path in the message)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from workspaces.api.fields import IdField, WorkspaceRelatedField, no_null_characters
from workspaces.api.serializers import BriefMembershipSerializer

from ..describe import describe_why
from ..models import Playbook, PlaybookRun, PlaybookVersion

MAX_ENROL = 500


class BriefPlaybookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Playbook
        fields = ["id", "name"]


class PlaybookSerializer(serializers.ModelSerializer):
    definition = serializers.JSONField(
        required=False, validators=[no_null_characters],
        help_text=_("Trigger, condition, enrolment, steps and exit (see the playbook documentation). Required "
                    "to create; a changed definition becomes a new version, and runs already going keep theirs."))
    note = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=300,
                                 help_text=_("What changed, kept with the new version."))
    version = serializers.SerializerMethodField(help_text=_("The newest version's number."))
    active_runs = serializers.SerializerMethodField()

    class Meta:
        model = Playbook
        fields = ["id", "name", "description", "enabled", "trigger_kind", "library_key", "version", "definition",
                  "note", "active_runs", "created_at", "updated_at"]
        read_only_fields = ["trigger_kind", "library_key", "created_at", "updated_at"]

    def get_version(self, playbook) -> int | None:
        return getattr(playbook, "version_number", None)

    def get_active_runs(self, playbook) -> int:
        return getattr(playbook, "active_runs", 0) or 0

    def to_representation(self, playbook):
        data = super().to_representation(playbook)
        data["definition"] = getattr(playbook, "latest_definition", None)
        return data


class PlaybookVersionSerializer(serializers.ModelSerializer):
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PlaybookVersion
        fields = ["id", "number", "definition", "note", "created_by", "created_at"]


class PlaybookPreviewRequestSerializer(serializers.Serializer):
    definition = serializers.JSONField(validators=[no_null_characters])
    playbook = WorkspaceRelatedField(queryset=Playbook.objects.all(), brief_serializer=BriefPlaybookSerializer,
                                     required=False, help_text=_(
                                         "The playbook being edited, if any: its runs and holds count."))


class PlaybookPreviewSampleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    why = serializers.CharField()


class PlaybookPreviewResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Accounts that would enrol today."))
    matching = serializers.IntegerField(help_text=_("Accounts that match the trigger today."))
    held = serializers.DictField(child=serializers.IntegerField(),
                                 help_text=_("Matching accounts held back, by reason (limit, cooldown, condition)."))
    sample = PlaybookPreviewSampleSerializer(many=True)


class PlaybookRunSerializer(serializers.ModelSerializer):
    playbook = BriefPlaybookSerializer(read_only=True)
    account = BriefAccountSerializer(read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    why = serializers.SerializerMethodField(help_text=_("Why it started: the trigger and the values that matched."))
    why_text = serializers.SerializerMethodField(help_text=_("Why it started, in words."))

    class Meta:
        model = PlaybookRun
        fields = ["id", "playbook", "account", "version", "reason_key", "why", "why_text", "status", "started_on",
                  "ended_on", "ended_why", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_why(self, run):
        # "batch" only tells the engine which evaluation inserted the run: bookkeeping, not a reason.
        return {key: value for key, value in (run.why or {}).items() if key != "batch"}

    @extend_schema_field(serializers.CharField())
    def get_why_text(self, run):
        return describe_why(run)


class EnrolRequestSerializer(serializers.Serializer):
    playbook = WorkspaceRelatedField(queryset=Playbook.objects.all(), brief_serializer=BriefPlaybookSerializer)
    accounts = serializers.ListField(child=IdField(), min_length=1, max_length=MAX_ENROL,
                                     help_text=_("IDs of the accounts to enrol (the caller's own, for a CSM)."))


class EnrolSkippedSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    name = serializers.CharField()
    why = serializers.CharField()


class EnrolResultSerializer(serializers.Serializer):
    enrolled = serializers.ListField(child=serializers.IntegerField(), help_text=_("IDs of the runs started."))
    skipped = EnrolSkippedSerializer(many=True)


class EndRunRequestSerializer(serializers.Serializer):
    why = serializers.CharField(required=False, allow_blank=True, max_length=200, validators=[no_null_characters])
