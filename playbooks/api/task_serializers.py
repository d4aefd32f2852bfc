"""API shapes of tasks. Parsing only: related rows are looked up in the caller's workspace, and the
viewset hands `validated_data` to playbooks.tasks, the one write path."""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer, BriefContactSerializer, member_field
from accounts.models import Account, Channel, Contact, Sentiment
from workspaces.api.fields import IdField, SaneDateTimeField, WorkspaceRelatedField
from workspaces.api.serializers import BriefMembershipSerializer

from ..models import Playbook, Task


class BriefPlaybookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Playbook
        fields = ["id", "name"]


def _sane_due(value):
    if not dt.date(1970, 1, 1) <= value <= dt.date(2999, 12, 31):
        raise serializers.ValidationError(_("Choose a date between 1970 and 2999."))
    return value


@extend_schema_serializer(description=_(
    "A task (call-to-action) on an account for one member. Status changes go through the complete, "
    "snooze and cancel actions."
))
class TaskSerializer(serializers.ModelSerializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer,
                                    required=False, help_text=_("Account id."))
    account_external_id = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to account: the account's external ID."))
    assignee = member_field(allow_null=True, required=False,
                            help_text=_("Membership id of the assignee; the caller when left out."))
    due_on = serializers.DateField(validators=[_sane_due])
    playbook = serializers.SerializerMethodField(help_text=_("The playbook whose run made this task, if any."))
    completed_by = BriefMembershipSerializer(read_only=True, allow_null=True)
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id", "account", "account_external_id", "assignee", "type", "title", "description", "due_on",
            "priority", "status", "snoozed_until", "outcome", "source", "run", "step_index", "playbook", "alert",
            "touchpoint", "external_id", "completed_on", "completed_by", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "snoozed_until", "outcome", "source", "run", "step_index", "alert",
                            "touchpoint", "completed_on", "created_at", "updated_at"]

    def get_playbook(self, task) -> dict | None:
        if task.run_id is None:
            return None
        return {"id": task.run.playbook_id, "name": task.run.playbook.name}

    def validate(self, attrs):
        if "account_external_id" in attrs:
            external_id = attrs.pop("account_external_id")
            account = Account.objects.for_workspace(self.context["workspace"]).filter(external_id=external_id).first()
            if account is None:
                raise serializers.ValidationError(
                    {"account_external_id": [_("No account of this workspace has this external ID.")]})
            if "account" in attrs and attrs["account"] != account:
                raise serializers.ValidationError(
                    {"account_external_id": [_("Names a different account than account.")]})
            attrs["account"] = account
        if self.instance is None and attrs.get("account") is None:
            raise serializers.ValidationError({"account": [_("Give account (an id) or account_external_id.")]})
        return attrs


class TouchSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    occurred_at = SaneDateTimeField(required=False, help_text=_("When it happened; now when left out."))
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    contacts = serializers.ListField(
        child=WorkspaceRelatedField(queryset=Contact.objects.all(), brief_serializer=BriefContactSerializer),
        required=False, max_length=100)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)


class CompleteRequestSerializer(serializers.Serializer):
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    touch = TouchSerializer(required=False, allow_null=True, help_text=_(
        "The touchpoint that did it: logged on the task's account and linked, so it counts for coverage."))


class SnoozeRequestSerializer(serializers.Serializer):
    until = serializers.DateField(validators=[_sane_due], help_text=_("The day the task opens again (after today)."))


class CancelRequestSerializer(serializers.Serializer):
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class BulkReassignRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), min_length=1, max_length=1000, help_text=_("Task ids."))
    assignee = member_field(help_text=_("Membership id of the member who takes the tasks."))


class BulkReassignResultSerializer(serializers.Serializer):
    reassigned = serializers.IntegerField()
