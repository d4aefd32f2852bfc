"""REST API v1: the playbook report ("did it work?"), the same figures as the page. Every member reads it.

`GET playbook-report/?start=&end=&playbook=`: the period [start, end) (default the last 90 days, today
included) and optionally one playbook. A bad value is a 400 naming the field.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.viewsets import WorkspaceScopedMixin

from ..models import PlaybookRun
from ..reports import MIN_N, ReportQueryForm, default_period, playbook_report


class RunCountsSerializer(serializers.Serializer):
    started = serializers.IntegerField()
    finished = serializers.IntegerField(help_text=_("Completed, exited or cancelled (today's status)."))
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    exited = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class TaskCountsSerializer(serializers.Serializer):
    due = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    done = serializers.IntegerField()
    open_overdue = serializers.IntegerField()
    open_not_due = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    rated = serializers.IntegerField(help_text=_("Done plus open overdue: what the on-time rate rests on."))
    on_time_rate = serializers.FloatField(allow_null=True, help_text=_("On time / rated, 0-1."))


class MemberTaskCountsSerializer(TaskCountsSerializer):
    member_id = serializers.IntegerField(allow_null=True, help_text=_("Null: tasks nobody is assigned."))
    name = serializers.CharField()


class OutcomeSerializer(serializers.Serializer):
    horizon = serializers.IntegerField(help_text=_("Days after day 0."))
    n = serializers.IntegerField(help_text=_("Accounts whose day 0 + horizon is today or earlier."))
    not_yet = serializers.IntegerField()
    health_n = serializers.IntegerField()
    health_missing = serializers.IntegerField()
    health_change = serializers.FloatField(allow_null=True)
    coverage_n = serializers.IntegerField()
    covered = serializers.IntegerField()
    covered_share = serializers.FloatField(allow_null=True)
    churned = serializers.IntegerField()
    churned_share = serializers.FloatField(allow_null=True)
    renewed = serializers.IntegerField()
    renewed_share = serializers.FloatField(allow_null=True)


class PlaybookFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    runs = RunCountsSerializer()
    tasks = TaskCountsSerializer()
    comparison_size = serializers.IntegerField()
    enrolled = OutcomeSerializer(many=True)
    comparison = OutcomeSerializer(many=True)


class PlaybookReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Not included."))
    today = serializers.DateField()
    playbook = serializers.IntegerField(allow_null=True)
    min_n = serializers.IntegerField(help_text=_("No share or average is given on fewer accounts."))
    playbooks = PlaybookFiguresSerializer(many=True)
    csm = MemberTaskCountsSerializer(many=True)
    csm_total = TaskCountsSerializer()


def report_payload(report):
    return {
        "start": report["start"], "end": report["end"], "today": report["today"],
        "playbook": report["playbook"].pk if report["playbook"] is not None else None,
        "min_n": MIN_N,
        "playbooks": [{
            "id": item["playbook"].pk, "name": item["playbook"].name, "runs": item["runs"], "tasks": item["tasks"],
            "comparison_size": item["outcomes"]["comparison_size"],
            "enrolled": item["outcomes"]["enrolled"], "comparison": item["outcomes"]["comparison"],
        } for item in report["playbooks"]],
        "csm": report["csm"],
        "csm_total": report["csm_total"],
    }


@extend_schema(description=_(
    "`GET playbook-report/?start=&end=&playbook=`: runs, tasks on time and the outcomes of enrolled accounts "
    "next to the comparison group, per playbook; playbook tasks per CSM. Every member reads it."
))
class PlaybookReportViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    schema = SingleObjectListSchema()  # `list` answers one report
    serializer_class = PlaybookReportSerializer
    # The report reads through playbooks.reports with the caller's workspace; this scoped queryset
    # only makes sure nothing reaches rows the generic way unscoped.
    queryset = PlaybookRun.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description=_("First day (default: 90 days before end).")),
            OpenApiParameter("end", OpenApiTypes.DATE, description=_("Day after the last (default: tomorrow).")),
            OpenApiParameter("playbook", int, description=_("One playbook's id (default: all).")),
        ],
        responses=PlaybookReportSerializer, operation_id="playbook_report",
    )
    def list(self, request):
        form = ReportQueryForm(request.query_params, workspace=request.workspace)
        if not form.is_valid():
            raise ValidationError({name: [error["message"] for error in errors]
                                   for name, errors in form.errors.get_json_data().items()})
        start, end = default_period(workspace=request.workspace, start=form.cleaned_data.get("start"),
                                    end=form.cleaned_data.get("end"))
        report = playbook_report(workspace=request.workspace, start=start, end=end,
                                 playbook=form.cleaned_data.get("playbook"))
        return Response(PlaybookReportSerializer(report_payload(report)).data)
