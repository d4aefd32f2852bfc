"""REST API v1 of the lifecycle capability: the stage distribution, the stuck accounts, the usage
levels (read by everyone, replaced by managers) and the levels report (docs/lifecycle.md)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.viewsets import WorkspaceAPIViewSet
from workspaces.errors import DomainError

from .. import selectors, services
from ..forms import WeeksForm, form_errors
from .serializers import (
    LevelReportSerializer,
    StageDistributionSerializer,
    StuckSerializer,
    UsageLevelSerializer,
    UsageLevelsSerializer,
)


@extend_schema(description=_("`GET lifecycle/stage-distribution/`: the share of active accounts per lifecycle "
                             "stage at weekly points (the last one today) against each stage's target."))
class StageDistributionViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()

    @extend_schema(parameters=[OpenApiParameter("weeks", int, description=_("Weekly points, 2-104 (default 12)."))],
                   responses=StageDistributionSerializer, operation_id="lifecycle_stage_distribution")
    def list(self, request):
        form = WeeksForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form_errors(form))
        report = selectors.stage_distribution(workspace=request.workspace, today=request.workspace.today(),
                                              weeks=form.weeks_or_default())
        return Response(StageDistributionSerializer(report).data)


@extend_schema(description=_("`GET lifecycle/stuck/`: active accounts in a stage for its stuck threshold or "
                             "longer, longest first."))
class StuckViewSet(WorkspaceAPIViewSet):
    @extend_schema(parameters=[OpenApiParameter("stage", int, description=_("Only this stage's accounts."))],
                   responses=StuckSerializer(many=True), operation_id="lifecycle_stuck")
    def list(self, request):
        stage = request.query_params.get("stage")
        if stage not in (None, "") and not str(stage).isdigit():
            raise ValidationError({"stage": [_("A stage id (a whole number) is expected.")]})
        rows = selectors.stuck_accounts(workspace=request.workspace, today=request.workspace.today(),
                                        stage_id=int(stage) if stage else None)
        return Response(StuckSerializer(rows, many=True).data)


@extend_schema(description=_("`GET lifecycle/levels/`: the usage levels' definitions. `POST` replaces the "
                             "given levels' names and rules (managers)."))
class UsageLevelViewSet(WorkspaceAPIViewSet):
    policy_actions = {"create": "lifecycle.manage_levels"}

    @extend_schema(responses=UsageLevelSerializer(many=True), operation_id="lifecycle_levels")
    def list(self, request):
        levels = selectors.level_definitions(workspace=request.workspace)
        return Response(UsageLevelSerializer(levels, many=True).data)

    @extend_schema(request=UsageLevelsSerializer, responses={200: UsageLevelSerializer(many=True)},
                   operation_id="lifecycle_levels_replace")
    def create(self, request):
        body = UsageLevelsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        levels = [dict(level) for level in body.validated_data["levels"]]
        try:
            saved = services.save_levels(workspace=request.workspace, actor=request.actor, levels=levels)
        except DomainError as exc:
            raise ValidationError({exc.field or "levels": [exc.message]}) from exc
        return Response(UsageLevelSerializer(saved, many=True).data)


@extend_schema(description=_("`GET lifecycle/level-report/`: churn within 90 days per level and the share at "
                             "Lv2 or above by month of tenure, with the counts they rest on."))
class LevelReportViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()

    @extend_schema(responses=LevelReportSerializer, operation_id="lifecycle_level_report")
    def list(self, request):
        today = request.workspace.today()
        churn = selectors.level_churn(workspace=request.workspace, today=today)
        tenure = selectors.lv2_by_tenure(workspace=request.workspace, today=today)
        counts = selectors.current_level_counts(workspace=request.workspace)
        payload = {"window": churn["window"], "min_accounts": churn["min_accounts"], "churn": churn["rows"],
                   "tenure": tenure["rows"], "counts": {str(k): v for k, v in counts.items()}}
        return Response(LevelReportSerializer(payload).data)
