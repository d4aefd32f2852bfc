from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from ..models import Membership, Workspace


@extend_schema_serializer(description=_(
    "How a member appears inside other objects (an account's owner, a touchpoint's author)."
))
class BriefMembershipSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name"]


class MembershipSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "is_active", "created_at"]
        read_only_fields = fields


class WorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "time_zone", "currency"]
        read_only_fields = fields


class PermissionsSerializer(serializers.Serializer):
    can_edit = serializers.BooleanField()
    can_log_touchpoints = serializers.BooleanField()
    is_manager = serializers.BooleanField()
    is_admin = serializers.BooleanField()


@extend_schema_serializer(description=_(
    "Who the caller is and which workspace every call of theirs acts in."
))
class MeSerializer(serializers.Serializer):
    membership = MembershipSerializer(source="*")
    username = serializers.CharField(source="user.username")
    workspace = WorkspaceSerializer()
    permissions = PermissionsSerializer(source="*")
    authenticated_by = serializers.SerializerMethodField()

    def get_authenticated_by(self, membership) -> str:
        return "token" if self.context.get("token") is not None else "session"
