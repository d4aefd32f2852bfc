from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets

from ..models import ApiToken
from ..pages import READ_METHODS, UndeclaredAction
from ..policy import allows
from .ordering import StrictOrderingFilter
from .permissions import FollowsPolicy


def resolve_membership(request):
    """The membership an API request acts as: the token's, or the session's current one."""
    if isinstance(request.auth, ApiToken):
        membership = request.auth.membership
        membership.api_token = request.auth  # so that what the request changes is audited as the token's
        return membership
    return getattr(request._request, "membership", None)


class WorkspaceAPIMixin:
    """The base of every API view: `request.membership`, `request.workspace` and `request.actor`
    are set here, once the caller is authenticated and before any permission is checked.

    `policy_actions` declares the policy action of each viewset action that writes, e.g.
    `{"create": "accounts.create", "destroy": "accounts.delete"}` (None: any member may); reads
    (GET) need none unless declared. A key "<action>.<method>" declares one method of an action
    that both reads and writes (`"by_external_id.put"`). FollowsPolicy checks it before the handler runs, and the
    access matrix test (tests/test_access_matrix.py) expects of every role what it says.
    """

    permission_classes = [FollowsPolicy]
    policy_actions = {}

    @classmethod
    def declared_action(cls, action, method):
        """The policy action of the viewset `action` reached with `method` (None: any member may)."""
        for key in (f"{action}.{method.lower()}", action):
            if key in cls.policy_actions:
                return cls.policy_actions[key]
        if method.lower() in READ_METHODS:
            return None
        raise UndeclaredAction(
            f"{cls.__module__}.{cls.__qualname__} handles {method.upper()} ({action}) without declaring what it "
            f'does: add "{action}": "<action of workspaces.policy.RULES>" (or None if any member may) to its '
            f"policy_actions."
        )

    def perform_authentication(self, request):
        super().perform_authentication(request)
        membership = resolve_membership(request)
        request.membership = membership
        request.workspace = membership.workspace if membership is not None else None
        request.actor = membership

    def check_permissions(self, request):
        # Throttles before permissions (DRF checks them after): a caller turned away for having no or
        # a wrong credential still counts against its address's limit.
        super().check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        pass  # done in check_permissions, which every request passes first

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self.request, "workspace", None)
        context["membership"] = getattr(self.request, "membership", None)
        return context


class WorkspaceScopedMixin(WorkspaceAPIMixin):
    """The one place API querysets are scoped. Subclasses declare `queryset` as usual.

    `get_queryset()` narrows it to the caller's workspace, so a row of another workspace is a 404
    and never counts; `perform_create()` stamps new rows with the caller's workspace. What a member
    may change is checked by the services the viewsets call (workspaces.policy).

    `member_rows = (field, action)` narrows it further for rows that belong to a member: the caller
    sees the rows whose `field` is themselves, and everyone's only if the policy allows `action`
    (e.g. ("owner", "health.see_any_alerts")); another member's row is then a 404 too.
    """

    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    member_rows = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation inspects the view without a caller, hence without a workspace.
            return super().get_queryset().none()
        queryset = super().get_queryset().for_workspace(self.request.workspace)
        if self.member_rows:
            field, action = self.member_rows
            if not allows(self.request.actor, action):
                queryset = queryset.filter(**{field: self.request.membership})
        return queryset

    def perform_create(self, serializer):
        serializer.save(workspace=self.request.workspace)


class WorkspaceViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    pass


class WorkspaceReadOnlyViewSet(WorkspaceScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class WorkspaceAPIViewSet(WorkspaceAPIMixin, viewsets.ViewSet):
    """A viewset without a model queryset (reports, exports): it passes `request.workspace` to
    selectors and services that take the workspace as a required argument."""

    pass
