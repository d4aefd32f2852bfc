"""API shapes of success plans, objectives, level definitions and KPT notes. Parsing only; writes go
to services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from accounts.models import Account
from segments.selectors import segments_of
from workspaces.api.fields import WorkspaceRelatedField, no_null_characters

from ..models import KptNote, LevelDefinition, Objective, PlanEvent, SuccessPlan


class BriefSegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ObjectiveSerializer(serializers.ModelSerializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=SuccessPlan.all_workspaces.all(), help_text=_(
        "The success plan (id)."))
    text = serializers.CharField(max_length=300, validators=[no_null_characters])
    kpi = serializers.CharField(max_length=200, required=False, allow_blank=True, validators=[no_null_characters])
    objective_level = serializers.IntegerField(min_value=1, max_value=4, required=False, default=3)
    achievement_level = serializers.IntegerField(min_value=1, max_value=4, required=False, default=1)
    gap = serializers.IntegerField(read_only=True, help_text=_("max(0, objective level - achievement level)"))
    achieved = serializers.BooleanField(read_only=True, help_text=_("Achievement level >= objective level."))

    class Meta:
        model = Objective
        fields = ["id", "plan", "text", "kpi", "target_date", "objective_level", "achievement_level", "gap",
                  "achieved", "position", "created_at", "updated_at"]
        read_only_fields = ["position", "created_at", "updated_at"]

    def validate_plan(self, plan):
        workspace = self.context.get("workspace")
        if workspace is None or plan.workspace_id != workspace.pk:
            raise serializers.ValidationError(_("Not found in this workspace (id {pk_value}).").format(pk_value=plan.pk))
        if self.instance is not None and plan.pk != self.instance.plan_id:
            raise serializers.ValidationError(_("An objective cannot move to another plan."))
        return plan


class SuccessPlanSerializer(serializers.ModelSerializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer)
    summary = serializers.CharField(required=False, allow_blank=True, validators=[no_null_characters])
    objectives = ObjectiveSerializer(many=True, read_only=True)
    gap = serializers.SerializerMethodField(help_text=_(
        "Sum over the objectives of max(0, objective level - achievement level); null without objectives."))
    successful = serializers.SerializerMethodField(help_text=_("Every objective achieved."))

    class Meta:
        model = SuccessPlan
        fields = ["id", "account", "summary", "status", "objectives", "gap", "successful", "submitted_at",
                  "decided_at", "created_at", "updated_at"]
        read_only_fields = ["status", "submitted_at", "decided_at", "created_at", "updated_at"]

    def _levels(self, plan):
        return [(o.objective_level, o.achievement_level) for o in plan.objectives.all()]

    def get_gap(self, plan) -> int | None:
        from ..services import plan_gap

        return plan_gap(self._levels(plan))

    def get_successful(self, plan) -> bool:
        from ..services import is_successful

        return is_successful(self._levels(plan))


class PlanCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, validators=[no_null_characters])


class PlanEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanEvent
        fields = ["id", "kind", "occurred_at", "actor", "actor_name", "comment", "changes", "status_after",
                  "gap_after", "objectives_after"]


class LevelDefinitionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=80, validators=[no_null_characters])
    description = serializers.CharField(required=False, allow_blank=True, validators=[no_null_characters])

    class Meta:
        model = LevelDefinition
        fields = ["id", "level", "name", "description", "updated_at"]
        read_only_fields = ["level", "updated_at"]


class KptNoteSerializer(serializers.ModelSerializer):
    period_start = serializers.DateField(help_text=_("Any day of the period: stored as the week's Monday or the "
                                                     "month's first day."))
    text = serializers.CharField(validators=[no_null_characters])
    segment = WorkspaceRelatedField(choices_of=segments_of, brief_serializer=BriefSegmentSerializer, required=False,
                                    allow_null=True)
    playbook = serializers.IntegerField(source="playbook_id", required=False, allow_null=True, min_value=1,
                                        max_value=2**63 - 1,
                                        help_text=_("A playbook of the workspace (id)."))
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)

    class Meta:
        model = KptNote
        fields = ["id", "period_kind", "period_start", "kind", "text", "segment", "playbook", "author",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
