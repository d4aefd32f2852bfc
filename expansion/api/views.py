"""REST API v1 for toss-ups: CRUD, upsert by the CRM's external ID, and the KPI per CSM.

Every write goes through `expansion.services`, which also decide who may do what (workspaces.policy).
"""


from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.serializers import BriefMembershipSerializer
from workspaces.api.upsert import ExternalIdUpsertMixin, upsert_actions
from workspaces.api.viewsets import WorkspaceViewSet
from workspaces.filtersets import sane_day

from .. import services
from ..filtersets import OpportunityFilterSet
from ..models import Opportunity
from ..periods import PeriodKind, period_bounds
from ..selectors import OPPORTUNITY_ORDERINGS, pipeline_kpis
from .serializers import OpportunitySerializer


class KpiRowSerializer(serializers.Serializer):
    member = BriefMembershipSerializer(allow_null=True, help_text=_("The CSM credited; null: nobody."))
    count = serializers.IntegerField(help_text=_("Toss-ups handed over in the period."))
    amount = serializers.DecimalField(max_digits=18, decimal_places=2,
                                      help_text=_("Their estimated MRR: the pipeline generated."))
    won_count = serializers.IntegerField()
    won_amount = serializers.DecimalField(max_digits=18, decimal_places=2, help_text=_("Won MRR of the won ones."))
    lost_count = serializers.IntegerField()
    open_count = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text=_("Won ÷ (won + lost); null when none is decided."))


class KpiSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("The first day after the period."))
    rows = KpiRowSerializer(many=True)
    total = KpiRowSerializer()


class KpiQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PeriodKind.choices, required=False, default=PeriodKind.MONTH)
    day = serializers.DateField(required=False, validators=[sane_day],
                                help_text=_("A day of the month or quarter; today when left out."))
    start = serializers.DateField(required=False, validators=[sane_day], help_text=_("First day (custom range)."))
    end = serializers.DateField(required=False, validators=[sane_day], help_text=_("Last day (custom range)."))

    def validate(self, attrs):
        if attrs["period"] == PeriodKind.CUSTOM:
            if not attrs.get("start") or not attrs.get("end"):
                raise serializers.ValidationError({"start": [_("A custom range needs start and end.")]})
            if attrs["end"] < attrs["start"]:
                raise serializers.ValidationError({"end": [_("The end is before the start.")]})
        return attrs


@extend_schema(description=_(
    "Toss-ups (expansion pipeline handed to account executives). Filters are those of the toss-up list page; "
    "`ordering` sorts."
))
class OpportunityViewSet(ExternalIdUpsertMixin, WorkspaceViewSet):
    queryset = Opportunity.objects.select_related("account", "raised_by__user", "handed_to__user", "created_by__user")
    serializer_class = OpportunitySerializer
    policy_actions = {"create": "opportunities.create", "update": "opportunities.change",
                      "partial_update": "opportunities.change", "destroy": "opportunities.delete",
                      "by_external_id.put": "opportunities.change", "bulk_upsert": "opportunities.change"}
    filterset_class = OpportunityFilterSet
    ordering_fields = sorted({key.lstrip("-") for key in OPPORTUNITY_ORDERINGS} - {"account", "raised_by"}
                             | {"created_at", "id"})
    ordering = ["-handed_over_on"]
    upsert_service = services.upsert_opportunity
    bulk_upsert_service = services.bulk_upsert_opportunities
    by_external_id, bulk_upsert = upsert_actions(
        OpportunitySerializer,
        read=_("Read the toss-up with this external ID"),
        write=_("Create or update the toss-up with this external ID"),
        bulk=_("Create or update up to %(max)d toss-ups by external ID, all or nothing"),
    )

    def perform_create(self, serializer):
        opportunity = services.create_opportunity(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=opportunity.pk)

    def perform_update(self, serializer):
        services.update_opportunity(opportunity=serializer.instance, actor=self.request.actor,
                                    **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_opportunity(opportunity=instance, actor=self.request.actor)

    @extend_schema(
        summary=_("Pipeline generated per CSM in a period, then what of it was won"),
        parameters=[KpiQuerySerializer],
        responses={200: KpiSerializer},
    )
    @action(detail=False, methods=["get"], url_path="kpi", filter_backends=[])
    def kpi(self, request):
        query = KpiQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        data = query.validated_data
        start, end = period_bounds(data["period"], data.get("day") or request.workspace.today(),
                                   start=data.get("start"), end=data.get("end"))
        kpis = pipeline_kpis(workspace=request.workspace, start=start, end=end)
        return Response(KpiSerializer(kpis).data)
