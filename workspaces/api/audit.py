"""`GET /api/v1/audit-events/`: the audit log, read-only, for managers and admins.

The same FilterSet as the page (workspaces.filtersets.AuditEventFilterSet): `actor_kind`, `actor`,
`action`, `object_type`, `object_id`, `q`, `date_from`, `date_to` and `ordering` (`-at`, the
default, or `at`). There is no write operation: the log is append-only.
"""

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ..filtersets import ActorKind, AuditEventFilterSet
from ..models import ApiToken, AuditEvent
from .serializers import BriefMembershipSerializer
from .viewsets import WorkspaceReadOnlyViewSet


class BriefTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name"]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    actor_kind = serializers.ChoiceField(choices=ActorKind.choices, read_only=True)
    actor = BriefMembershipSerializer(read_only=True, allow_null=True)
    token = BriefTokenSerializer(read_only=True, allow_null=True)
    actor_label = serializers.CharField(read_only=True)
    changes = serializers.JSONField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor_kind", "actor", "token", "system_actor", "actor_label", "action", "object_type",
                  "object_id", "object_repr", "changes"]
        read_only_fields = fields


@extend_schema(description=_(
    "Who changed what in the caller's workspace, newest first (managers and admins)."
))
class AuditEventViewSet(WorkspaceReadOnlyViewSet):
    queryset = AuditEvent.objects.select_related("actor__user", "token").order_by("-at", "-id")
    serializer_class = AuditEventSerializer
    policy_actions = {"list": "audit.view", "retrieve": "audit.view"}
    filter_backends = [DjangoFilterBackend]  # ordering is the FilterSet's, as on the page
    filterset_class = AuditEventFilterSet
