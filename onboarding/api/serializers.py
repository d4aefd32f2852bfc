"""API shapes of onboarding. Parsing only; writes go to services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer, BriefContactSerializer
from accounts.models import Account, Contact
from workspaces.api.fields import WorkspaceRelatedField, no_null_characters

from ..forms import FIELD_LABELS
from ..models import HANDOFF_FIELDS, Handoff, MilestoneTemplate, OnboardingSettings
from ..services import MAX_TEXT

TEXTS = ("why_bought", "objectives", "contract_terms", "fit_criteria", "risks")


class HandoffSerializer(serializers.ModelSerializer):
    account = BriefAccountSerializer(read_only=True)
    decision_maker = BriefContactSerializer(read_only=True, allow_null=True)
    key_person = BriefContactSerializer(read_only=True, allow_null=True)
    complete = serializers.SerializerMethodField(help_text=_("Every required field is filled."))

    class Meta:
        model = Handoff
        fields = ["id", "account", "why_bought", "objectives", "decision_maker", "key_person", "contract_terms",
                  "fit_criteria", "risks", "complete", "completed_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_complete(self, obj) -> bool:
        return obj.completed_at is not None


class HandoffWriteSerializer(serializers.Serializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer,
                                    required=False, help_text=_("The account's id (or give account_external_id)."))
    account_external_id = serializers.CharField(required=False, max_length=100,
                                                help_text=_("The CRM's ID of the account (or give account)."))
    why_bought = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT,
                                       validators=[no_null_characters])
    objectives = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT,
                                       validators=[no_null_characters])
    decision_maker = WorkspaceRelatedField(queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer,
                                           required=False, allow_null=True)
    key_person = WorkspaceRelatedField(queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer,
                                       required=False, allow_null=True)
    contract_terms = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT,
                                           validators=[no_null_characters])
    fit_criteria = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT,
                                         validators=[no_null_characters])
    risks = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT,
                                  validators=[no_null_characters])

    def validate(self, attrs):
        if "account" not in attrs and "account_external_id" not in attrs:
            raise serializers.ValidationError({"account": [_("Give account (id) or account_external_id.")]})
        if "account" not in attrs:
            workspace = self.context["workspace"]
            account = Account.objects.for_workspace(workspace).filter(
                external_id=attrs["account_external_id"]).exclude(external_id="").first()
            if account is None:
                raise serializers.ValidationError({"account_external_id": [_("No account with this external ID.")]})
            attrs["account"] = account
        attrs.pop("account_external_id", None)
        return attrs


class HandoffBulkSerializer(serializers.Serializer):
    rows = HandoffWriteSerializer(many=True, max_length=1000)


class HandoffBulkResultSerializer(serializers.Serializer):
    results = HandoffSerializer(many=True)


class MilestoneSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    target_day = serializers.IntegerField()
    target_on = serializers.DateField(allow_null=True)
    done_on = serializers.DateField(allow_null=True)
    late = serializers.BooleanField()
    days_late = serializers.IntegerField()
    on_time = serializers.BooleanField()


class AccountMilestonesSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    milestones = MilestoneSerializer(many=True)


class MilestonesResultSerializer(serializers.Serializer):
    results = AccountMilestonesSerializer(many=True)


class MilestoneWriteSerializer(serializers.Serializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer,
                                    required=False)
    account_external_id = serializers.CharField(required=False, max_length=100)
    milestone = serializers.SlugField(max_length=40, help_text=_("The milestone's key, e.g. first_success."))
    done_on = serializers.DateField(required=False, allow_null=True,
                                    help_text=_("The local day it was done; null: not done."))
    done_at = serializers.DateTimeField(required=False, help_text=_(
        "Or the moment it was done: its day in the workspace's time zone counts."))

    def validate(self, attrs):
        workspace = self.context["workspace"]
        if "account" not in attrs:
            account = None
            if attrs.get("account_external_id"):
                account = Account.objects.for_workspace(workspace).filter(
                    external_id=attrs["account_external_id"]).exclude(external_id="").first()
            if account is None:
                raise serializers.ValidationError({"account": [_("Give account (id) or a known account_external_id.")]})
            attrs["account"] = account
        if "done_at" in attrs:
            attrs["done_on"] = workspace.local_day(attrs.pop("done_at"))
        elif "done_on" not in attrs:
            raise serializers.ValidationError({"done_on": [_("Give done_on (null to clear) or done_at.")]})
        return attrs


class MilestoneBulkSerializer(serializers.Serializer):
    rows = MilestoneWriteSerializer(many=True, max_length=1000)


class ReportGroupSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    reached = serializers.IntegerField(help_text=_("Accounts whose first success is done."))
    median = serializers.FloatField(allow_null=True, help_text=_("Median time to first value, in days."))
    mean = serializers.FloatField(allow_null=True, help_text=_("Mean time to first value, in days."))
    due = serializers.IntegerField(help_text=_("Accounts whose last milestone's target day has passed."))
    on_time = serializers.IntegerField(help_text=_("Due accounts with every milestone done by its target day."))
    on_time_share = serializers.FloatField(allow_null=True, help_text=_("on_time / due, in percent."))


class CohortSerializer(ReportGroupSerializer):
    month = serializers.DateField()


class TierSerializer(ReportGroupSerializer):
    tier = serializers.CharField(allow_blank=True)
    label = serializers.CharField()


class CsmSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(allow_null=True)
    owner = serializers.CharField()
    accounts = serializers.IntegerField()
    late_milestones = serializers.IntegerField()
    late_accounts = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    months = serializers.IntegerField()
    start = serializers.DateField()
    cohorts = CohortSerializer(many=True)
    tiers = TierSerializer(many=True)
    csms = CsmSerializer(many=True)


class OnboardingSettingsSerializer(serializers.ModelSerializer):
    required_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=[(name, FIELD_LABELS[name]) for name in HANDOFF_FIELDS]), allow_empty=True,
        help_text=_("The handoff fields that must be filled for a handoff to be complete."))

    class Meta:
        model = OnboardingSettings
        fields = ["id", "required_fields", "handoff_gates_stage"]


class MilestoneTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MilestoneTemplate
        fields = ["id", "key", "name", "target_day", "tier", "position"]
        # The service checks these (with the messages of the page); the model's own unique-together
        # check would need the workspace, which the API never takes from the body.
        validators = []
