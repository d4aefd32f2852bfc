"""API shapes of webhooks. Parsing only; writes go to services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workspaces.api.serializers import BriefMembershipSerializer

from ..events import EVENTS
from ..models import Delivery, Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=500, help_text=_(
        "HTTPS URL; hosts resolving to private, loopback or link-local addresses are refused."))
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENTS.items())), allow_empty=False)
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)
    secret_hint = serializers.CharField(read_only=True, help_text=_("The first characters of the signing secret."))

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "events", "enabled", "disabled_reason", "consecutive_failures",
                  "secret_hint", "created_by", "created_at", "updated_at"]
        read_only_fields = ["disabled_reason", "consecutive_failures", "secret_hint", "created_by", "created_at",
                            "updated_at"]


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.SerializerMethodField(help_text=_("The signing secret: returned only here and by rotate-secret."))

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]

    @extend_schema_field(serializers.CharField())
    def get_secret(self, endpoint):
        return self.context.get("secret", "")


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text=_("The new signing secret; shown only once."))


class BriefEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = ["id", "url"]


class DeliverySerializer(serializers.ModelSerializer):
    endpoint = BriefEndpointSerializer(read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "endpoint", "event", "event_id", "payload", "status", "attempts", "last_status_code",
                  "last_error", "next_attempt_at", "created_at", "delivered_at"]
        read_only_fields = fields
