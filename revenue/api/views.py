"""REST API v1: revenue from contract lines, the same figures as the pages. Managers and admins
("revenue.view").

- `GET revenue/metrics/?start=&end=&preset=&by=`: the window metrics [start, end) next to the previous
  window of equal length; with `by` (segment, tier, csm, cohort) the same metrics per group;
- `GET revenue/movements/?start=&end=&kind=&step=`: the monthly steps and the accounts that moved;
- `GET revenue/churn-reasons/?start=&end=`: MRR and accounts lost by churn per reason.

Without start and end the window is the last quarter (or a `preset`). A bad date is a 400 naming the
field; an end on or before the start is a 400 on `end`. Money is in the workspace currency, MRR;
ratios are 0-1 (null when the window starts without MRR).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.viewsets import WorkspaceAPIViewSet

from ..forms import PRESET_KEYS, BreakdownForm, MovementForm, WindowForm, form_errors, kind_labels
from ..selectors import (
    KINDS,
    breakdown,
    churn_by_reason,
    movement_rows,
    movements,
    previous_window,
    window_metrics,
)


def money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def ratio(help_text):
    return serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True, help_text=help_text)


class MetricsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Not included."))
    start_mrr = money(help_text=_("Sum of MRR on start of the accounts with MRR > 0 on start."))
    end_mrr = money(help_text=_("Sum of MRR on end of every account."))
    start_arr = money(help_text=_("12 × start MRR."))
    end_arr = money(help_text=_("12 × end MRR."))
    start_logos = serializers.IntegerField(help_text=_("Accounts with MRR on start."))
    end_logos = serializers.IntegerField(help_text=_("Accounts with MRR on end."))
    retained_mrr = money(help_text=_("MRR on end of the accounts with MRR on start."))
    churned_logos = serializers.IntegerField()
    churned_mrr = money(help_text=_("Start MRR of the accounts with MRR on start and none on end."))
    downsell_logos = serializers.IntegerField()
    downsell_mrr = money(help_text=_("The decrease of the accounts whose MRR fell but stayed above 0."))
    expanded_logos = serializers.IntegerField()
    expansion_mrr = money()
    new_logos = serializers.IntegerField(help_text=_("Accounts with MRR on end and none on start."))
    new_mrr = money()
    nrr = ratio(_("Retained MRR / start MRR."))
    logo_churn = ratio(_("Churned accounts / accounts with MRR on start."))
    mrr_churn = ratio(_("(Churned MRR + downsell MRR) / start MRR."))
    grr = ratio(_("1 − MRR churn including downsell (never above 1)."))


class GroupMetricsSerializer(MetricsSerializer):
    key = serializers.CharField(help_text=_("Segment id, tier code, member id or cohort quarter; empty: none."))
    label = serializers.CharField()
    start = None
    end = None


class MetricsReportSerializer(serializers.Serializer):
    current = MetricsSerializer()
    previous = MetricsSerializer(help_text=_("The window of equal length just before."))
    by = serializers.CharField(allow_null=True)
    groups = GroupMetricsSerializer(many=True, help_text=_("Per group when `by` is given, else empty."))


class StepSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    start_mrr = money()
    end_mrr = money()
    new = money()
    expansion = money()
    reactivation = money()
    contraction = money(help_text=_("A positive amount, subtracted."))
    churn = money(help_text=_("A positive amount, subtracted."))
    new_count = serializers.IntegerField()
    expansion_count = serializers.IntegerField()
    reactivation_count = serializers.IntegerField()
    contraction_count = serializers.IntegerField()
    churn_count = serializers.IntegerField()


class MovementSerializer(serializers.Serializer):
    start = serializers.DateField(help_text=_("The step's first boundary."))
    end = serializers.DateField()
    account_id = serializers.IntegerField()
    account_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(kind_labels().items()))
    amount = money()
    before = money()
    after = money()
    owner_name = serializers.CharField()
    churn_reason = serializers.CharField(help_text=_("The account's churn-reason code (current)."))
    churn_reason_name = serializers.CharField()
    churn_note = serializers.CharField()


class MovementsReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    steps = StepSerializer(many=True)
    total = StepSerializer(help_text=_("The sums of the steps over the window."))
    rows = MovementSerializer(many=True)


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Empty: no reason recorded."))
    name = serializers.CharField()
    mrr = money()
    logos = serializers.IntegerField()
    onboarding = serializers.BooleanField(help_text=_("Whether this reason counts as onboarding failure."))


class ChurnReasonsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    rows = ReasonSerializer(many=True)
    mrr = money()
    logos = serializers.IntegerField()
    onboarding_mrr = money()
    onboarding_logos = serializers.IntegerField()
    onboarding_mrr_share = ratio(_("Onboarding-failure churned MRR / churned MRR."))
    onboarding_logo_share = ratio(_("Onboarding-failure churned accounts / churned accounts."))


WINDOW_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description=_("First day of the window.")),
    OpenApiParameter("end", OpenApiTypes.DATE, description=_("Day after the window (not included).")),
    OpenApiParameter("preset", str, enum=list(PRESET_KEYS),
                     description=_("A named window instead of start and end (default: last_quarter).")),
]


def _valid(form_class, request):
    form = form_class(request.query_params, workspace=request.workspace)
    if not form.is_valid():
        raise ValidationError(form_errors(form))
    return form.cleaned_data


class _RevenueViewSet(WorkspaceAPIViewSet):
    schema = SingleObjectListSchema()  # `list` answers one report
    policy_actions = {"list": "revenue.view"}


@extend_schema(description=_("`GET revenue/metrics/`: NRR, GRR, logo and MRR churn for a window, with the "
                             "previous window, optionally per segment, tier, CSM or cohort."))
class MetricsViewSet(_RevenueViewSet):
    @extend_schema(parameters=[*WINDOW_PARAMETERS, OpenApiParameter(
        "by", str, enum=["segment", "tier", "csm", "cohort"], description=_("Break the metrics down."))],
        responses=MetricsReportSerializer, operation_id="revenue_metrics")
    def list(self, request):
        data = _valid(BreakdownForm, request)
        start, end, by = data["start"], data["end"], data["by"] or None
        payload = {"current": {"start": start, "end": end, **window_metrics(request.workspace, start, end)},
                   "previous": window_metrics(request.workspace, *previous_window(start, end)), "by": by,
                   "groups": [{**row, "key": str(row["key"])} for row in breakdown(request.workspace, start, end, by)]
                   if by else []}
        return Response(MetricsReportSerializer(payload).data)


@extend_schema(description=_("`GET revenue/movements/`: monthly MRR movements (new, expansion, reactivation, "
                             "contraction, churn) and the accounts behind them."))
class MovementsViewSet(_RevenueViewSet):
    @extend_schema(parameters=[
        *WINDOW_PARAMETERS,
        OpenApiParameter("kind", str, enum=list(KINDS), description=_("Only the accounts of this movement.")),
        OpenApiParameter("step", OpenApiTypes.DATE, description=_("Only the accounts of the step starting on this day.")),
    ], responses=MovementsReportSerializer, operation_id="revenue_movements")
    def list(self, request):
        data = _valid(MovementForm, request)
        moved = movements(request.workspace, data["start"], data["end"])
        rows = movement_rows(request.workspace, data["start"], data["end"], kind=data["kind"] or None,
                             step_start=data["step"])
        return Response(MovementsReportSerializer({**moved, "rows": rows}).data)


@extend_schema(description=_("`GET revenue/churn-reasons/`: MRR and accounts lost by churn per churn reason, "
                             "and the share whose reason is onboarding failure."))
class ChurnReasonsViewSet(_RevenueViewSet):
    @extend_schema(parameters=WINDOW_PARAMETERS, responses=ChurnReasonsSerializer,
                   operation_id="revenue_churn_reasons")
    def list(self, request):
        data = _valid(WindowForm, request)
        return Response(ChurnReasonsSerializer(churn_by_reason(request.workspace, data["start"], data["end"])).data)
