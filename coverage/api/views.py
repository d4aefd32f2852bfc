"""REST API v1 for the touch model, cadence policies, tier pins and coverage, on the scoped bases.

Everyone in the workspace reads; only managers write (the services say so: workspaces.policy).
Coverage endpoints read the stored daily snapshots through the same selectors as the pages.
"""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from workspaces.api.viewsets import (
    WorkspaceAPIMixin,
    WorkspaceScopedMixin,
    WorkspaceViewSet,
)
from workspaces.policy import allows
from workspaces.selectors import workspace_members

from .. import selectors, services
from ..filtersets import CoverageSnapshotFilterSet
from ..models import CadencePolicy, CoverageSnapshot, TierPin
from .serializers import (
    CadencePolicySerializer,
    CoverageRowSerializer,
    TierPinSerializer,
    TouchModelSerializer,
)

AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description=gettext_lazy("Day (YYYY-MM-DD); default: the latest computed day.")
)
GROUP_BY = OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(selectors.GROUPS))


def api_as_of(request):
    raw = request.query_params.get("as_of", "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError({"as_of": [_("Use a date such as 2026-03-31.")]}) from None
    return selectors.latest_day(workspace=request.workspace, on_or_before=request.workspace.today())


def api_filters(request):
    """The report filters of the query; a value naming nothing (a deleted segment, someone outside
    the workspace, an unknown tier) is a 400 naming the field, not the whole workspace."""
    filterset = CoverageSnapshotFilterSet(request.query_params, queryset=None, request=request)
    if not filterset.is_valid():
        raise ValidationError({name: list(errors) for name, errors in filterset.errors.items()})
    return request.query_params


@extend_schema(description=gettext_lazy(
    "Cadence policies: how often the accounts of a touch tier or segment need a touch, and which "
    "channels count. Everyone reads; managers write."
))
class CadencePolicyViewSet(WorkspaceViewSet):
    queryset = CadencePolicy.objects.select_related("segment").prefetch_related("rules")
    serializer_class = CadencePolicySerializer
    policy_actions = {action: "coverage.manage" for action in ("create", "update", "partial_update", "destroy")}

    def _save(self, serializer, policy=None):
        data = dict(serializer.validated_data)
        if policy is not None:
            current = {"name": policy.name, "tier": policy.tier, "segment": policy.segment,
                       "priority": policy.priority, "max_gap_days": policy.max_gap_days, "channels": policy.channels}
            data = {**current, **data}
        data.setdefault("tier", "")
        data.setdefault("priority", 100)
        if "rules" in data:
            data["rules"] = [dict(r) for r in data["rules"]]
        serializer.instance = services.save_cadence_policy(
            workspace=self.request.workspace, actor=self.request.actor, policy=policy, **data
        )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.delete_cadence_policy(policy=instance, actor=self.request.actor)


@extend_schema(description=gettext_lazy(
    "Accounts pinned to a touch tier whatever their ARR says. Everyone reads; managers pin and unpin."
))
class TierPinViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = TierPin.objects.select_related("account", "pinned_by__user")
    serializer_class = TierPinSerializer
    policy_actions = {"create": "coverage.manage", "destroy": "coverage.manage"}

    def perform_create(self, serializer):
        serializer.instance = services.pin_tier(actor=self.request.actor, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.unpin_tier(account=instance.account, actor=self.request.actor)


@extend_schema(description=gettext_lazy(
    "The workspace's tier thresholds and matrix bands: `GET|PATCH /api/v1/touch-model/current/`."
))
class TouchModelViewSet(WorkspaceAPIMixin, viewsets.GenericViewSet):
    serializer_class = TouchModelSerializer
    lookup_value_regex = "current"
    policy_actions = {"update": "coverage.manage", "partial_update": "coverage.manage"}

    def get_object(self):
        if self.kwargs.get("pk") != "current":
            raise NotFound()
        return selectors.touch_model_of(workspace=self.request.workspace)

    def retrieve(self, request, pk=None):
        data = self.get_serializer(self.get_object()).data
        data["tier_counts"] = selectors.tier_counts(workspace=request.workspace)
        return Response(data)

    def partial_update(self, request, pk=None):
        touch_model = self.get_object()
        serializer = self.get_serializer(touch_model, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: ([dict(b) for b in v] if k.endswith("_bands") else v) for k, v in serializer.validated_data.items()}
        touch_model = services.update_touch_model(workspace=request.workspace, actor=request.actor, **data)
        return Response(self.get_serializer(touch_model).data)

    def update(self, request, pk=None):
        return self.partial_update(request, pk)


@extend_schema(description=gettext_lazy(
    "Coverage rows of one day (`as_of`, default the latest computed day), plus the reports on them."
))
class CoverageViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Coverage rows of one day (`as_of`, default the latest computed day), plus the reports on them.

    A row is read in the list of its day: there is no `coverage/{id}/` (it always answered 404)."""

    queryset = CoverageSnapshot.objects.select_related("account", "owner__user")
    serializer_class = CoverageRowSerializer
    filterset_class = CoverageSnapshotFilterSet
    ordering_fields = ["arr", "overdue_days", "due_date", "days_since_last_touch"]
    ordering = ["account_id"]

    def get_queryset(self):
        day = api_as_of(self.request)
        return super().get_queryset().filter(day=day) if day else CoverageSnapshot.objects.none()

    @extend_schema(parameters=[AS_OF], responses=CoverageRowSerializer(many=True))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _group_by(self):
        group_by = self.request.query_params.get("group_by") or None
        if group_by not in (None, *selectors.GROUPS):
            raise ValidationError({"group_by": [_("Use one of: %(groups)s.") % {"groups": ", ".join(selectors.GROUPS)}]})
        return group_by

    @extend_schema(parameters=[AS_OF, GROUP_BY], responses=OpenApiTypes.OBJECT, description=gettext_lazy(
        "Coverage rate and ARR-weighted rate, overall and per group, with the change vs 7 days before."
    ))
    @action(detail=False, methods=["get"])
    def report(self, request):
        group_by = self._group_by()
        filters = api_filters(request)
        day = api_as_of(request)
        if day is None:
            return Response({"day": None, "total": None, "groups": []})
        return Response(selectors.coverage_report(
            workspace=request.workspace, day=day, group_by=group_by, filters=filters, request=request
        ))

    @extend_schema(parameters=[AS_OF, GROUP_BY, OpenApiParameter("weeks", OpenApiTypes.INT)],
                   responses=OpenApiTypes.OBJECT, description=gettext_lazy(
                       "Weekly points (same weekday as `as_of`) of the rate, overall and per group, oldest first."
                   ))
    @action(detail=False, methods=["get"])
    def history(self, request):
        group_by = self._group_by()
        try:
            weeks = int(request.query_params.get("weeks", 12))
        except ValueError:
            raise ValidationError({"weeks": [_("Give a whole number of weeks.")]}) from None
        if not 1 <= weeks <= 104:
            raise ValidationError({"weeks": [_("Give between 1 and 104 weeks.")]})
        filters = api_filters(request)
        day = api_as_of(request)
        if day is None:
            return Response({"days": [], "series": []})
        trend = selectors.coverage_trend(workspace=request.workspace, day=day, weeks=weeks, group_by=group_by,
                                         filters=filters, request=request)
        return Response({"days": trend["days"], "series": trend["series"]})

    @extend_schema(parameters=[AS_OF], responses=OpenApiTypes.OBJECT, description=gettext_lazy(
        "The priority matrix: per cell accounts in scope, ARR, coverage and their change, of the accounts "
        "the report's filters select (e.g. `owner`: one CSM's book)."
    ))
    @action(detail=False, methods=["get"])
    def matrix(self, request):
        filters = api_filters(request)
        day = api_as_of(request)
        if day is None:
            return Response({"day": None, "rows": []})
        return Response(selectors.matrix(workspace=request.workspace, day=day, filters=filters, request=request))

    @extend_schema(parameters=[AS_OF, OpenApiParameter("owner", OpenApiTypes.INT)],
                   responses=CoverageRowSerializer(many=True),
                   description=gettext_lazy("The caller's due and overdue accounts (managers may pass `owner`)."))
    @action(detail=False, methods=["get"])
    def due(self, request):
        owner, owner_id = request.membership, request.query_params.get("owner", "")
        if owner_id and allows(request.actor, "coverage.see_any_due_list"):
            owner = workspace_members(workspace=request.workspace).filter(pk=owner_id).first() \
                if owner_id.isdigit() else None
            if owner is None:
                raise ValidationError({"owner": [_("Give the id of a member of this workspace.")]})
        day = api_as_of(request)
        rows = selectors.due_list(workspace=request.workspace, owner=owner, day=day) if day else []
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(CoverageRowSerializer(page, many=True).data)

