"""REST API v1 of the voice of the customer, so that product teams pull what customers ask for and
survey tools push NPS/CSAT answers.

    feature-requests/            ranked by the ARR asking (filters: status, segment, tier, account, q)
    feature-request-evidence/    who asked, with a quote; CSMs add it on the accounts they own
    survey-responses/            NPS/CSAT answers: create, by-external-id upsert, bulk upsert
    nps/                         NPS (or CSAT) per period, per segment or tier, and in total
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.upsert import ExternalIdUpsertMixin, upsert_actions
from workspaces.api.viewsets import WorkspaceScopedMixin, WorkspaceViewSet

from .. import selectors, services
from ..filtersets import FeatureRequestFilterSet, SurveyResponseFilterSet
from ..forms import NpsQueryForm
from ..models import FeatureRequest, FeatureRequestEvidence, RequestStatus, SurveyResponse
from .serializers import (
    FeatureRequestEvidenceSerializer,
    FeatureRequestSerializer,
    NpsReportSerializer,
    SurveyResponseSerializer,
)


@extend_schema(description=_(
    "Feature requests, each with the distinct accounts asking, their summed ARR and the evidence count. "
    "Filtered by segment or touch tier, only those accounts count. Default order: ARR asking, highest "
    "first. CSMs file requests; managers change status and delete."
))
class FeatureRequestViewSet(WorkspaceViewSet):
    queryset = FeatureRequest.objects.all()
    serializer_class = FeatureRequestSerializer
    filterset_class = FeatureRequestFilterSet
    policy_actions = {"create": "voice.file_request", "update": "voice.manage_requests",
                      "partial_update": "voice.manage_requests", "destroy": "voice.manage_requests"}
    ordering_fields = ["asking_arr", "account_count", "evidence_count", "last_heard", "title", "status",
                       "created_at", "id"]
    ordering = ["-asking_arr", "-account_count", "title"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FeatureRequest.objects.none()
        filters = self.request.query_params if self.action == "list" else None
        # The stats follow the segment and tier filters; the filter backend then applies the same FilterSet.
        return selectors.request_ranking(workspace=self.request.workspace, filters=filters, request=self.request)

    def _reread(self, obj):
        return selectors.request_detail(workspace=self.request.workspace, pk=obj.pk)

    @transaction.atomic
    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        status = data.pop("status", RequestStatus.NEW)
        obj = services.file_request(workspace=self.request.workspace, actor=self.request.actor, **data)
        if status != RequestStatus.NEW:
            services.update_request(request=obj, actor=self.request.actor, status=status)
        serializer.instance = self._reread(obj)

    def perform_update(self, serializer):
        obj = services.update_request(request=serializer.instance, actor=self.request.actor,
                                      **serializer.validated_data)
        serializer.instance = self._reread(obj)

    def perform_destroy(self, instance):
        services.delete_request(request=instance, actor=self.request.actor)


@extend_schema(description=_(
    "Evidence: an account asking for a feature request (quote, contact, date, source). CSMs add it on the "
    "accounts they own, managers on any; the same people remove it."
))
class FeatureRequestEvidenceViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                    mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = FeatureRequestEvidence.objects.select_related("request", "account", "contact", "created_by__user")
    serializer_class = FeatureRequestEvidenceSerializer
    filterset_fields = ["request", "account", "source"]
    policy_actions = {"create": "voice.add_evidence", "destroy": "voice.remove_evidence"}
    ordering_fields = ["date", "id"]
    ordering = ["-date"]

    def perform_create(self, serializer):
        serializer.instance = services.add_evidence(actor=self.request.actor, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.remove_evidence(evidence=instance, actor=self.request.actor)


@extend_schema(description=_(
    "NPS (0-10) and CSAT (1-5) answers of the workspace's contacts, e.g. pushed by a survey tool. The account "
    "is the contact's. Managers and their tokens write; upsert by the survey tool's external ID."
))
class SurveyResponseViewSet(ExternalIdUpsertMixin, WorkspaceScopedMixin, mixins.ListModelMixin,
                            mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                            viewsets.GenericViewSet):
    queryset = SurveyResponse.objects.select_related("contact", "account")
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilterSet
    policy_actions = {action: "voice.record_responses" for action in (
        "create", "destroy", "by_external_id.put", "bulk_upsert")}
    ordering_fields = ["responded_on", "score", "id"]
    ordering = ["-responded_on"]
    upsert_service = services.upsert_response
    bulk_upsert_service = services.bulk_upsert_responses
    by_external_id, bulk_upsert = upsert_actions(
        SurveyResponseSerializer,
        read=_("Read the survey response with this external ID"),
        write=_("Create or update the survey response with this external ID"),
        bulk=_("Create or update up to %(max)d survey responses by external ID, all or nothing"),
    )

    def perform_create(self, serializer):
        obj, _created = services.upsert_response(workspace=self.request.workspace, actor=self.request.actor,
                                                 **{"external_id": "", **serializer.validated_data})
        serializer.instance = obj

    def perform_destroy(self, instance):
        services.delete_response(response=instance, actor=self.request.actor)


@extend_schema(description=_(
    "`GET nps/?kind=&period=&start=&end=&segment=&tier=&group_by=`: NPS (% promoters 9-10 − % detractors "
    "0-6) or CSAT per month or quarter, in total, and per segment or touch tier, with the counts. Every "
    "member reads it."
))
class NpsViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    schema = SingleObjectListSchema()
    serializer_class = NpsReportSerializer
    queryset = SurveyResponse.objects.all()  # read through voice.selectors with the caller's workspace
    filter_backends = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["nps", "csat"], description=_("Default: nps.")),
            OpenApiParameter("period", OpenApiTypes.STR, enum=["month", "quarter"], description=_("Default: month.")),
            OpenApiParameter("start", OpenApiTypes.DATE, description=_("First day (default: 12 whole months).")),
            OpenApiParameter("end", OpenApiTypes.DATE, description=_("Last day, included (default: today).")),
            OpenApiParameter("segment", int, description=_("Only the accounts of this segment.")),
            OpenApiParameter("tier", OpenApiTypes.STR, enum=["high", "low", "tech"],
                             description=_("Only the accounts of this touch tier.")),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=["segment", "tier"],
                             description=_("Default: segment.")),
        ],
        responses=NpsReportSerializer, operation_id="nps_report",
    )
    def list(self, request):
        form = NpsQueryForm(request.query_params, workspace=request.workspace)
        if not form.is_valid():
            raise ValidationError({name: [error["message"] for error in errors]
                                   for name, errors in form.errors.get_json_data().items()})
        return Response(NpsReportSerializer(selectors.nps_report(workspace=request.workspace, query=form.cleaned_data)).data)

