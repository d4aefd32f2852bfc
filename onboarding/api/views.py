"""REST API v1 for onboarding: handoffs (upsert by account id or external ID, one or in bulk, so a
CRM can push them), the accounts' milestones (read, set done days) and the report."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import Account
from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.viewsets import (
    WorkspaceAPIViewSet,
    WorkspaceReadOnlyViewSet,
    WorkspaceScopedMixin,
    WorkspaceViewSet,
)
from workspaces.errors import RowErrors

from .. import selectors, services
from ..models import Handoff, MilestoneTemplate, OnboardingSettings
from .serializers import (
    AccountMilestonesSerializer,
    HandoffBulkResultSerializer,
    HandoffBulkSerializer,
    HandoffSerializer,
    HandoffWriteSerializer,
    MilestoneBulkSerializer,
    MilestonesResultSerializer,
    MilestoneTemplateSerializer,
    OnboardingSettingsSerializer,
    ReportSerializer,
)


def _row_errors(exc):
    return Response({"detail": _("Rows failed; nothing was saved."), "errors": exc.errors},
                    status=status.HTTP_400_BAD_REQUEST)


@extend_schema(description=gettext_lazy(
    "Sales → CS handoffs, one per account. Everyone reads; the account's CSM or a manager writes. POST upserts "
    "by account (id) or account_external_id: fields left out keep their value."))
class HandoffViewSet(WorkspaceReadOnlyViewSet):
    queryset = Handoff.objects.select_related("account", "decision_maker", "key_person")
    serializer_class = HandoffSerializer
    policy_actions = {"create": "onboarding.edit_handoff", "bulk": "onboarding.edit_handoff"}
    filterset_fields = ["account"]
    ordering_fields = ["completed_at", "updated_at"]

    @extend_schema(request=HandoffWriteSerializer, responses={200: HandoffSerializer, 201: HandoffSerializer})
    def create(self, request):
        serializer = HandoffWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        account = data.pop("account")
        existed = Handoff.objects.for_workspace(request.workspace).filter(account=account).exists()
        handoff = services.save_handoff(workspace=request.workspace, actor=request.actor, account=account, **data)
        return Response(HandoffSerializer(handoff, context=self.get_serializer_context()).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(request=HandoffBulkSerializer, responses={
        200: HandoffBulkResultSerializer,
        400: OpenApiResponse(description=gettext_lazy("Rows failed; nothing was saved (errors by index and field)."))})
    @action(detail=False, methods=["post"], pagination_class=None)
    def bulk(self, request):
        """Upsert up to 1000 handoffs, all or nothing (a row of an account the caller may not edit: 403)."""
        serializer = HandoffBulkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            saved = services.save_handoffs(workspace=request.workspace, actor=request.actor,
                                           rows=[dict(row) for row in serializer.validated_data["rows"]])
        except RowErrors as exc:
            return _row_errors(exc)
        return Response({"results": HandoffSerializer(saved, many=True, context=self.get_serializer_context()).data})


@extend_schema(description=gettext_lazy(
    "Onboarding milestones of accounts: each with its target day (contract start + the plan's target day) and "
    "done day. POST sets done days (rows of account or account_external_id, milestone key, done_on or done_at), "
    "all or nothing."))
class MilestoneViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()  # `list` answers one account's plan
    policy_actions = {"create": "onboarding.record_milestone"}

    @extend_schema(parameters=[OpenApiParameter("account", OpenApiTypes.INT, required=True)],
                   responses=AccountMilestonesSerializer)
    def list(self, request):
        raw = request.query_params.get("account", "")
        if not raw.isdigit():
            raise ValidationError({"account": [_("Give the account's id.")]})
        account = Account.objects.for_workspace(request.workspace).filter(pk=int(raw)).first()
        if account is None:
            raise ValidationError({"account": [_("Not found in this workspace.")]})
        return Response({"account": account.pk, "milestones": selectors.account_milestones(
            workspace=request.workspace, account=account)})

    @extend_schema(request=MilestoneBulkSerializer, responses={
        200: MilestonesResultSerializer,
        400: OpenApiResponse(description=gettext_lazy("Rows failed; nothing was saved (errors by index and field)."))})
    def create(self, request):
        serializer = MilestoneBulkSerializer(data=request.data, context={"workspace": request.workspace,
                                                                         "membership": request.membership})
        serializer.is_valid(raise_exception=True)
        rows = [{"account": r["account"], "key": r["milestone"], "done_on": r["done_on"]}
                for r in serializer.validated_data["rows"]]
        try:
            services.record_milestones(workspace=request.workspace, actor=request.actor, rows=rows)
        except RowErrors as exc:
            return _row_errors(exc)
        accounts = {r["account"].pk: r["account"] for r in rows}
        return Response(MilestonesResultSerializer({"results": [{"account": pk, "milestones": selectors.account_milestones(
            workspace=request.workspace, account=account)} for pk, account in accounts.items()]}).data)


@extend_schema(description=gettext_lazy(
    "The onboarding report (managers): time to first value per cohort (month of contract start) and touch tier, "
    "the share onboarded within target, late milestones per CSM (docs/onboarding.md)."))
class OnboardingReportViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()  # `list` answers one report
    policy_actions = {"list": "onboarding.see_team"}

    @extend_schema(parameters=[OpenApiParameter("months", OpenApiTypes.INT, description=gettext_lazy(
        "Calendar months back, this one included (1-36, default 12)."))], responses=ReportSerializer)
    def list(self, request):
        raw = request.query_params.get("months", "12")
        if not raw.isdigit() or not 1 <= int(raw) <= 36:
            raise ValidationError({"months": [_("A whole number between 1 and 36.")]})
        report = selectors.onboarding_report(workspace=request.workspace, as_of=request.workspace.today(),
                                             months=int(raw))
        return Response(ReportSerializer(report).data)


@extend_schema(description=gettext_lazy(
    "The workspace's onboarding settings (one row): which handoff fields are required, and whether an "
    "incomplete handoff keeps the account in the first lifecycle stage. Everyone reads; managers change them."))
class OnboardingSettingsViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = OnboardingSettings.objects.all()
    serializer_class = OnboardingSettingsSerializer
    policy_actions = {"update": "onboarding.manage", "partial_update": "onboarding.manage"}
    pagination_class = None

    def perform_update(self, serializer):
        serializer.instance = services.save_settings(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)


@extend_schema(description=gettext_lazy(
    "The onboarding plan: milestones with their target day after the contract start. A row with a touch tier "
    "overrides the row of the same key without one, for accounts of that tier. Everyone reads; managers write."))
class MilestoneTemplateViewSet(WorkspaceViewSet):
    queryset = MilestoneTemplate.objects.all()
    serializer_class = MilestoneTemplateSerializer
    policy_actions = {action: "onboarding.manage" for action in ("create", "update", "partial_update", "destroy")}
    ordering_fields = ["position", "target_day", "key"]

    def perform_create(self, serializer):
        serializer.instance = services.save_template(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.save_template(
            workspace=self.request.workspace, actor=self.request.actor, template=serializer.instance,
            **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_template(template=instance, actor=self.request.actor)
