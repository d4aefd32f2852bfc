"""REST API v1 for playbook designs and their runs.

Everyone in the workspace reads; managers design (playbooks.manage); the account's CSM or a manager
enrols accounts (playbooks.enrol, POST /playbook-runs/) and ends runs (the run follows its account).
"""

import django_filters
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceScopedMixin, WorkspaceViewSet

from .. import services
from ..filtersets import workspace_accounts, workspace_playbooks
from ..models import Playbook, PlaybookRun, PlaybookVersion, RunStatus, TriggerKind
from .serializers import (
    EndRunRequestSerializer,
    EnrolRequestSerializer,
    EnrolResultSerializer,
    PlaybookPreviewRequestSerializer,
    PlaybookPreviewResultSerializer,
    PlaybookRunSerializer,
    PlaybookSerializer,
    PlaybookVersionSerializer,
)


class PlaybookFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    enabled = django_filters.BooleanFilter(label=_("Enabled"))
    trigger_kind = django_filters.ChoiceFilter(choices=TriggerKind.choices, label=_("Trigger"))

    class Meta:
        model = Playbook
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value)) if value else queryset


class PlaybookRunFilterSet(django_filters.FilterSet):
    playbook = django_filters.ModelChoiceFilter(queryset=workspace_playbooks, label=_("Playbook"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label=_("Status"))

    class Meta:
        model = PlaybookRun
        fields = []


@extend_schema(description=_(
    "Playbooks: a trigger, enrolment rules, steps and an exit, versioned. Everyone reads; managers write. "
    "A changed definition becomes a new version; runs already going keep theirs."
))
class PlaybookViewSet(WorkspaceViewSet):
    queryset = Playbook.objects.all()
    serializer_class = PlaybookSerializer
    policy_actions = {action: "playbooks.manage" for action in (
        "create", "update", "partial_update", "destroy", "preview")}
    filterset_class = PlaybookFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        newest = PlaybookVersion.objects.for_workspace(self.request.workspace).filter(
            playbook=OuterRef("pk")).order_by("-number")
        return queryset.annotate(
            version_number=Subquery(newest.values("number")[:1]),
            latest_definition=Subquery(newest.values("definition")[:1]),
            active_runs=Count("runs", filter=Q(runs__status=RunStatus.ACTIVE)),
        ).order_by("name", "pk")  # explicit: a grouped query drops the model's default ordering

    def _save(self, serializer, playbook=None):
        data = dict(serializer.validated_data)
        definition, note = data.pop("definition", None), data.pop("note", "")
        saved = services.save_playbook(workspace=self.request.workspace, actor=self.request.actor,
                                       playbook=playbook, definition=definition, note=note, **data)
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.delete_playbook(playbook=instance, actor=self.request.actor)

    @extend_schema(responses=PlaybookVersionSerializer(many=True), description=_(
        "Every version of the playbook, newest first."))
    @action(detail=True)
    def versions(self, request, pk=None):
        playbook = self.get_object()
        versions = PlaybookVersion.objects.for_workspace(request.workspace).filter(playbook=playbook) \
            .select_related("created_by__user").order_by("-number")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(PlaybookVersionSerializer(page, many=True).data)

    @extend_schema(request=PlaybookPreviewRequestSerializer, responses=PlaybookPreviewResultSerializer, description=_(
        "How many accounts the (unsaved) definition would enrol today, how many are held back and why, "
        "and a sample: without saving anything."))
    @action(detail=False, methods=["post"])
    def preview(self, request):
        serializer = PlaybookPreviewRequestSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return Response(services.preview(workspace=request.workspace, actor=request.actor,
                                         definition=serializer.validated_data["definition"],
                                         playbook=serializer.validated_data.get("playbook")))


@extend_schema(description=_(
    "Playbook runs: one account going through one playbook. POST enrols accounts by hand (the account's "
    "CSM or a manager); `end` stops a run."
))
class PlaybookRunViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    queryset = PlaybookRun.objects.select_related("playbook", "account", "version")
    serializer_class = PlaybookRunSerializer
    # Enrolling is about the accounts in the body (the service checks each); ending, about the run's account.
    policy_actions = {"create": "playbooks.enrol", "end": "accounts.change_child"}
    filterset_class = PlaybookRunFilterSet
    ordering_fields = ["started_on", "ended_on"]
    ordering = ["-started_on", "-id"]

    @extend_schema(request=EnrolRequestSerializer, responses={201: EnrolResultSerializer}, description=_(
        "Enrol accounts in a playbook by hand. The enrolment rules still apply: an account already running "
        "it, in its cooldown or past its limit is skipped, with the reason."))
    def create(self, request):
        serializer = EnrolRequestSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        result = services.enrol(playbook=serializer.validated_data["playbook"], actor=request.actor,
                                accounts=serializer.validated_data["accounts"])
        return Response(EnrolResultSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndRunRequestSerializer, responses=PlaybookRunSerializer, description=_(
        "End an active run by hand; its open tasks are cancelled or kept as its playbook says."))
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        run = self.get_object()
        serializer = EndRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.end_run(run=run, actor=request.actor, why=serializer.validated_data.get("why", ""))
        return Response(PlaybookRunSerializer(self.get_queryset().get(pk=run.pk)).data)
