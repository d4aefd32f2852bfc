"""REST API v1 for success plans (with their workflow and history), objectives, level definitions and
KPT notes.

Everyone in the workspace reads. The account's CSM or a manager writes a plan and its objectives and
submits it; only managers approve or request changes and write the level definitions; any member
writes KPT notes, their author or a manager changes them.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceViewSet
from workspaces.policy import authorize

from .. import services
from ..filtersets import KptNoteFilterSet, PlanFilterSet
from ..models import KptNote, LevelDefinition, Objective, SuccessPlan
from .serializers import (
    KptNoteSerializer,
    LevelDefinitionSerializer,
    ObjectiveSerializer,
    PlanCommentSerializer,
    PlanEventSerializer,
    SuccessPlanSerializer,
)

NO_DELETE = ["get", "post", "put", "patch", "head", "options"]


@extend_schema(description=gettext_lazy(
    "Success plans: one per account, its objectives, gap and workflow state (draft, submitted, approved, "
    "changes_requested). Submitted plans are listed first."))
class SuccessPlanViewSet(WorkspaceViewSet):
    queryset = SuccessPlan.objects.select_related("account").prefetch_related(
        Prefetch("objectives", queryset=Objective.all_workspaces.order_by("position", "id")))
    serializer_class = SuccessPlanSerializer
    filterset_class = PlanFilterSet
    ordering_fields = ["status", "updated_at", "submitted_at"]
    http_method_names = NO_DELETE
    policy_actions = {"create": "success.edit_plan", "update": "success.edit_plan",
                      "partial_update": "success.edit_plan", "submit": "success.edit_plan",
                      "comment": "success.edit_plan", "approve": "success.approve_plan",
                      "request_changes": "success.approve_plan"}

    def get_queryset(self):
        from ..selectors import STATUS_ORDER

        queryset = super().get_queryset()
        if self.request.query_params.get("ordering"):
            return queryset
        return queryset.annotate(status_order=STATUS_ORDER).order_by("status_order", "-submitted_at", "account__name")

    @extend_schema(responses={201: SuccessPlanSerializer, 200: SuccessPlanSerializer}, description=gettext_lazy(
        "Create the account's success plan (a draft). An account has one plan: when it has one already, that plan "
        "is answered (200) and left as it is, so that an integration may send the same request twice."))
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = serializer.validated_data["account"]
        authorize(request.actor, "success.edit_plan", account)
        existing = SuccessPlan.objects.for_workspace(request.workspace).filter(account=account).first()
        if existing is not None:
            return Response(self.get_serializer(self.get_queryset().get(pk=existing.pk)).data)
        plan = services.create_plan(workspace=request.workspace, actor=request.actor, account=account,
                                    summary=serializer.validated_data.get("summary", ""))
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=201)

    def perform_update(self, serializer):
        from rest_framework.exceptions import ValidationError

        account = serializer.validated_data.get("account")
        if account is not None and account.pk != serializer.instance.account_id:
            raise ValidationError({"account": [gettext_lazy("A plan cannot move to another account.")]})
        serializer.instance = services.update_plan(plan=serializer.instance, actor=self.request.actor,
                                                   summary=serializer.validated_data.get("summary",
                                                                                         serializer.instance.summary))

    def _workflow(self, request, service, **extra):
        plan = self.get_object()
        body = PlanCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = service(plan=plan, actor=request.actor, comment=body.validated_data.get("comment", ""), **extra)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(SuccessPlanSerializer(plan, context=self.get_serializer_context()).data)

    @extend_schema(request=PlanCommentSerializer, responses=SuccessPlanSerializer, description=gettext_lazy(
        "Submit a draft (or a plan with changes requested) for a manager's approval."))
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._workflow(request, services.submit_plan)

    @extend_schema(request=PlanCommentSerializer, responses=SuccessPlanSerializer, description=gettext_lazy(
        "Approve a submitted plan (managers)."))
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._workflow(request, services.approve_plan)

    @extend_schema(request=PlanCommentSerializer, responses=SuccessPlanSerializer, description=gettext_lazy(
        "Send a submitted plan back with a comment saying what should change (managers; the comment is required)."))
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        return self._workflow(request, services.request_changes)

    @extend_schema(request=PlanCommentSerializer, responses=PlanEventSerializer, description=gettext_lazy(
        "Add a comment to the plan's history."))
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        plan = self.get_object()
        body = PlanCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = services.comment_plan(plan=plan, actor=request.actor, comment=body.validated_data.get("comment", ""))
        return Response(PlanEventSerializer(event).data)

    @extend_schema(responses=PlanEventSerializer(many=True), description=gettext_lazy(
        "The plan's history: every change of the plan, its objectives and its workflow, newest first, with the "
        "status and gap after each."))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        plan = self.get_object()
        events = plan.events.order_by("-occurred_at", "-id")
        page = self.paginate_queryset(events)
        if page is not None:
            return self.get_paginated_response(PlanEventSerializer(page, many=True).data)
        return Response(PlanEventSerializer(events, many=True).data)


@extend_schema(description=gettext_lazy(
    "Objectives of success plans: text, KPI, target date, objective and achievement levels (1-4). Editing an "
    "approved or submitted plan's objective returns the plan to draft."))
class ObjectiveViewSet(WorkspaceViewSet):
    queryset = Objective.objects.select_related("plan__account")
    serializer_class = ObjectiveSerializer
    ordering_fields = ["position", "target_date", "updated_at"]
    policy_actions = {action: "success.edit_plan" for action in ("create", "update", "partial_update", "destroy")}

    def get_queryset(self):
        queryset = super().get_queryset()
        plan = self.request.query_params.get("plan")
        if plan and plan.isdigit():
            queryset = queryset.filter(plan_id=int(plan))
        return queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.save_objective(plan=data.pop("plan"), actor=self.request.actor, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("plan", None)
        if serializer.partial:
            data = {k: v for k, v in data.items() if k in self.request.data}
        serializer.instance = services.save_objective(plan=serializer.instance.plan, actor=self.request.actor,
                                                      objective=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.delete_objective(objective=instance, actor=self.request.actor)


@extend_schema(description=gettext_lazy(
    "The workspace's level definitions (1-4), one scale for objective and achievement levels. Managers rewrite "
    "their names and descriptions."))
class LevelDefinitionViewSet(WorkspaceViewSet):
    queryset = LevelDefinition.objects.all()
    serializer_class = LevelDefinitionSerializer
    http_method_names = ["get", "put", "patch", "head", "options"]
    policy_actions = {"update": "success.manage_levels", "partial_update": "success.manage_levels"}
    pagination_class = None

    def perform_update(self, serializer):
        row = serializer.instance
        serializer.instance = services.save_level(
            workspace=self.request.workspace, actor=self.request.actor, level=row.level,
            name=serializer.validated_data.get("name", row.name),
            description=serializer.validated_data.get("description", row.description))


@extend_schema(description=gettext_lazy(
    "KPT notes (Keep, Problem, Try) of a week or a month, optionally about a playbook or a segment. Any member "
    "writes; the author or a manager changes or deletes."))
class KptNoteViewSet(WorkspaceViewSet):
    queryset = KptNote.objects.all()
    serializer_class = KptNoteSerializer
    filterset_class = KptNoteFilterSet
    ordering_fields = ["period_start", "kind", "created_at"]
    policy_actions = {"create": "success.write_kpt", "update": "success.change_kpt",
                      "partial_update": "success.change_kpt", "destroy": "success.change_kpt"}

    def perform_create(self, serializer):
        serializer.instance = services.save_note(workspace=self.request.workspace, actor=self.request.actor,
                                                 **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.save_note(workspace=self.request.workspace, actor=self.request.actor,
                                                 note=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.delete_note(note=instance, actor=self.request.actor)
