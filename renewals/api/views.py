"""REST API v1 of renewals: the upcoming renewals (the page's filters) and the recorded outcomes.
Every member reads; the account's CSM or a manager records an outcome (renewals.record)."""

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.models import Contract
from workspaces.api.viewsets import WorkspaceScopedMixin

from .. import services
from ..filtersets import OutcomeFilterSet, RenewalFilterSet
from ..forecast import window
from ..models import RenewalOutcome
from ..selectors import renewal_lines
from .serializers import RenewalOutcomeSerializer, UpcomingRenewalSerializer

PAST_DUE_DAYS = 365


@extend_schema(description=_(
    "Contract lines coming up for renewal. Without `due_from`/`due_to`: the next 365 days, and the past "
    "renewals of the last 365 days with no outcome recorded. Filters as on the renewals page."
))
class RenewalViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Contract.objects.select_related("account")
    serializer_class = UpcomingRenewalSerializer
    filterset_class = RenewalFilterSet
    ordering_fields = ["renews_on_day", "mrr", "id"]
    ordering = ["renews_on_day", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        workspace = self.request.workspace
        lines = renewal_lines(workspace=workspace).select_related("account")
        if not (self.request.query_params.get("due_from") or self.request.query_params.get("due_to")):
            today = workspace.today()
            start, end = window(today)
            lines = lines.filter(Q(renews_on_day__gte=start, renews_on_day__lt=end)
                                 | Q(renews_on_day__gte=today - dt.timedelta(days=PAST_DUE_DAYS),
                                     renews_on_day__lt=start, has_outcome=False))
        return lines

    def get_serializer_context(self):
        context = super().get_serializer_context()
        workspace = getattr(self.request, "workspace", None)
        context["today"] = workspace.today() if workspace is not None else dt.date.today()
        return context


@extend_schema(description=_(
    "Renewal outcomes: what happened when a contract line came up for renewal. POST records one: renewed "
    "(flat, with expansion, with contraction) ends the line on its renewal day and starts its successor; "
    "churned ends it, and churns the account when no other line runs on."
))
class RenewalOutcomeViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = RenewalOutcome.objects.select_related("account", "line", "successor", "recorded_by__user")
    serializer_class = RenewalOutcomeSerializer
    policy_actions = {"create": "renewals.record"}  # on the line named in the body: the service checks
    filterset_class = OutcomeFilterSet
    ordering_fields = ["due_on", "recorded_at", "id"]
    ordering = ["-due_on", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.record_outcome(
            actor=request.actor, line=data["line"], outcome=data["outcome"], new_mrr=data.get("new_mrr"),
            quantity=data.get("quantity"), note=data.get("note", ""), churn_reason=data.get("churn_reason", ""),
            churn_note=data.get("churn_note", ""))
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)
