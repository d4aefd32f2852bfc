"""API shape of toss-ups. Serializers parse; `expansion.services` decide and write."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer, WorkspaceModelSerializer, member_field
from accounts.models import Account
from workspaces.api.fields import WorkspaceRelatedField
from workspaces.api.serializers import BriefMembershipSerializer

from ..models import Opportunity


@extend_schema_serializer(description=_(
    "A toss-up: an expansion opportunity a CSM found on an account and handed to an account executive. "
    "Status moves handed_over → qualified → won or lost (a lost one may be reopened as qualified); won needs "
    "won_mrr. A CRM keeps it in sync with PUT by-external-id."
))
class OpportunitySerializer(WorkspaceModelSerializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer,
                                    required=False, help_text=_("Account id."))
    account_external_id = serializers.CharField(
        write_only=True, required=False, help_text=_("Alternative to account: the account's external ID."))
    raised_by = member_field(required=False, help_text=_(
        "Membership id of the CSM credited; the caller when left out (crediting another is a manager's)."))
    handed_to = member_field(allow_null=True, required=False, help_text=_(
        "Membership id of the account executive, when they are a member."))
    handed_to_email = serializers.EmailField(
        write_only=True, required=False, allow_blank=True,
        help_text=_("Alternative to handed_to: the email of an active member of the workspace."))
    handed_over_on = serializers.DateField(required=False, help_text=_("Defaults to today."))
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Opportunity
        fields = [
            "id", "account", "account_external_id", "external_id", "kind", "estimated_mrr", "note", "raised_by",
            "handed_to", "handed_to_email", "handed_to_name", "status", "handed_over_on", "closed_on", "won_mrr",
            "lost_reason", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"estimated_mrr": {"required": False}}

    def validate(self, attrs):
        self.resolve_account_external_id(attrs)
        self.require_account(attrs)
        self.resolve_member_email(attrs, email_field="handed_to_email", target="handed_to")
        if self.instance is None and attrs.get("estimated_mrr") is None:
            raise serializers.ValidationError({"estimated_mrr": [_("This field is required.")]})
        return attrs
