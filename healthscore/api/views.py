"""REST API v1 for health scores: settings, scorecards, snapshots, sentiment, alerts, back-test.

Managers change settings and scorecards and read the back-test; CSMs rate sentiment and record
alert outcomes on their own accounts (the services enforce it); everyone reads scores.
"""


from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import Account
from workspaces.api.schema import SingleObjectListSchema
from workspaces.api.viewsets import (
    WorkspaceAPIMixin,
    WorkspaceReadOnlyViewSet,
    WorkspaceScopedMixin,
    WorkspaceViewSet,
)

from .. import services
from ..backtest import backtest_payload, default_period, report, what_if
from ..calibration import calibrate
from ..filtersets import HealthAlertFilterSet, HealthSnapshotFilterSet, SentimentRatingFilterSet
from ..learning import proposal_payload, suggest_weights
from ..models import HealthAlert, HealthSettings, HealthSnapshot, Scorecard, SentimentRating
from ..selectors import account_health, default_scorecard, latest_version
from .serializers import (
    AcceptWeightsSerializer,
    AccountHealthSerializer,
    AlertOutcomeSerializer,
    BacktestQuerySerializer,
    BacktestResultSerializer,
    CalibrationSerializer,
    HealthAlertSerializer,
    HealthSettingsSerializer,
    HealthSnapshotSerializer,
    ScorecardSerializer,
    ScorecardVersionSerializer,
    SentimentRatingSerializer,
    SuggestedWeightsSerializer,
    SuggestWeightsSerializer,
    WhatIfResultSerializer,
    WhatIfSerializer,
)


@extend_schema(description=_("The workspace's health settings (one row). Managers change them."))
class HealthSettingsViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = HealthSettings.objects.all()
    serializer_class = HealthSettingsSerializer
    policy_actions = {"update": "health.manage", "partial_update": "health.manage"}
    pagination_class = None

    def perform_update(self, serializer):
        serializer.instance = services.update_settings(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)


@extend_schema(description=_(
    "Health scorecards: which rules apply to which accounts. Managers write; each change of the rules "
    "is a new version."
))
class ScorecardViewSet(WorkspaceViewSet):
    queryset = Scorecard.objects.prefetch_related("versions__created_by__user")
    serializer_class = ScorecardSerializer
    # The calibration reads every account's scores of six days: managers only, as on the scorecard page.
    policy_actions = {action: "health.manage"
                      for action in ("create", "update", "partial_update", "destroy", "calibration")}
    ordering_fields = ["priority", "name"]

    def perform_create(self, serializer):
        card, _version = services.save_scorecard(
            workspace=self.request.workspace, actor=self.request.actor, **serializer.validated_data)
        serializer.instance = card

    def perform_update(self, serializer):
        card, _version = services.save_scorecard(
            workspace=self.request.workspace, actor=self.request.actor, scorecard=serializer.instance,
            **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=card.pk)

    def perform_destroy(self, instance):
        services.delete_scorecard(scorecard=instance, actor=self.request.actor)

    @extend_schema(responses=ScorecardVersionSerializer(many=True))
    @action(detail=True)
    def versions(self, request, pk=None):
        card = self.get_object()
        return Response(ScorecardVersionSerializer(card.versions.order_by("-number"), many=True).data)

    @extend_schema(responses=CalibrationSerializer, description=_(
        "Usage thresholds proposed for the scorecard's latest version from the workspace's own distribution "
        "(the scorecard page's \"propose usage thresholds\"): read only, nothing is saved. Managers only."))
    @action(detail=True)
    def calibration(self, request, pk=None):
        card = self.get_object()
        version = latest_version(card)
        result = calibrate(workspace=request.workspace, definition=version.definition)
        measures = [{"key": row["key"], "label": row["label"], "direction": row["direction"],
                     **{f"p{p}": row["percentiles"].get(p) for p in (25, 50, 75)}, "n": row["n"],
                     "current": row["current"], "proposed": row["proposed"]} for row in result["rows"]]
        return Response(CalibrationSerializer({
            "scorecard": card.pk, "version": version.number, "days": result["days"], "changed": result["changed"],
            "measures": measures, "definition": result["definition"]}).data)


@extend_schema(description=_(
    "Stored health scores: one account's score on one day, computed nightly (read-only)."
))
class HealthSnapshotViewSet(WorkspaceReadOnlyViewSet):
    queryset = HealthSnapshot.objects.select_related("version")
    serializer_class = HealthSnapshotSerializer
    filterset_class = HealthSnapshotFilterSet
    ordering_fields = ["day", "total"]
    ordering = ["-day"]


@extend_schema(description=_(
    "Qualitative health: ratings of an account against the shared rubric, kept apart from the "
    "computed score."
))
class SentimentRatingViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = SentimentRating.objects.select_related("account", "rated_by__user")
    serializer_class = SentimentRatingSerializer
    policy_actions = {"create": "health.rate_sentiment"}  # on the account named in the body: the service checks
    filterset_class = SentimentRatingFilterSet
    ordering_fields = ["rated_at"]
    ordering = ["-rated_at"]

    def perform_create(self, serializer):
        serializer.instance = services.rate_sentiment(actor=self.request.actor, **serializer.validated_data)


@extend_schema(description=_(
    "Health alerts: the caller's own, or everyone's for managers. `outcome` records what was done."
))
class HealthAlertViewSet(WorkspaceReadOnlyViewSet):
    queryset = HealthAlert.objects.select_related("account", "owner__user")
    serializer_class = HealthAlertSerializer
    policy_actions = {"outcome": "health.record_outcome"}
    member_rows = ("owner", "health.see_any_alerts")  # as on the alerts page: one's own, or a manager
    filterset_class = HealthAlertFilterSet
    ordering_fields = ["opened_on", "priority", "drop"]
    ordering = ["-opened_on", "-priority"]

    @extend_schema(request=AlertOutcomeSerializer, responses=HealthAlertSerializer)
    @action(detail=True, methods=["post"], serializer_class=AlertOutcomeSerializer)
    def outcome(self, request, pk=None):
        alert = self.get_object()
        serializer = AlertOutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.record_alert_outcome(alert=alert, actor=request.actor,
                                      outcome=serializer.validated_data["outcome"],
                                      reason=serializer.validated_data.get("outcome_reason", ""))
        return Response(HealthAlertSerializer(alert).data)


@extend_schema(description=_(
    "`GET health/accounts/{id}/`: the account's score, explanation, what moved and 90-day trend."
))
class AccountHealthViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    queryset = Account.objects.all()
    serializer_class = AccountHealthSerializer
    filter_backends = []

    def retrieve(self, request, pk=None):
        account = self.get_object()  # DRF's lookup: an id that is no number is a 404 too
        health = account_health(account=account)
        current = health["current"]
        sentiment = health["sentiment"]
        return Response({
            "account": account.pk,
            "score": account.health_score, "band": account.health_band, "change_30d": account.health_change_30d,
            "day": current.day if current else None,
            "version": current.version.number if current else None,
            "explanation": [{k: line[k] for k in ("key", "label", "group", "text", "points", "weight_pct")}
                            for line in (health["explanation"] or {}).get("lines", [])],
            "weakest": ((health["explanation"] or {}).get("weakest") or {}).get("key"),
            "moved_since": health["week_ago"].day if health["week_ago"] else None,
            "moved": health["moved"],
            "trend": health["chart"],
            "sentiment": {"rating": sentiment["rating"].rating, "reasons": sentiment["rating"].reasons,
                          "age_days": sentiment["age_days"], "stale": sentiment["stale"]} if sentiment else None,
        })


@extend_schema(description=_(
    "`GET health/backtest/?start=&end=&horizon_days=30|60|90&step=month|N`, `POST health/backtest/what-if/`, "
    "`POST health/backtest/suggest-weights/` (a proposal, nothing saved) and `POST "
    "health/backtest/accept-weights/` (a new scorecard version) — managers."
))
class BacktestViewSet(WorkspaceAPIMixin, viewsets.GenericViewSet):
    policy_actions = {"list": "health.backtest", "what_if": "health.backtest",
                      "suggest_weights": "health.backtest", "accept_weights": "health.manage"}
    schema = SingleObjectListSchema()  # `list` answers one report
    serializer_class = BacktestQuerySerializer
    queryset = HealthSnapshot.objects.none()
    filter_backends = []
    pagination_class = None

    @extend_schema(parameters=[BacktestQuerySerializer], responses=BacktestResultSerializer,
                   operation_id="health_backtest_list")
    def list(self, request):
        query = BacktestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        start, end = default_period(workspace=request.workspace, start=data.get("start"), end=data.get("end"),
                                    horizon_days=data["horizon_days"])
        result = report(workspace=request.workspace, start=start, end=end, step=data["step"],
                        horizon_days=data["horizon_days"])
        return Response(backtest_payload(result))

    @extend_schema(request=WhatIfSerializer, responses=WhatIfResultSerializer)
    @action(detail=False, methods=["post"], url_path="what-if", serializer_class=WhatIfSerializer)
    def what_if(self, request):
        query = WhatIfSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        start, end = default_period(workspace=request.workspace, start=data.get("start"), end=data.get("end"),
                                    horizon_days=data["horizon_days"])
        preview = what_if(workspace=request.workspace, definition=data["definition"], start=start, end=end,
                          step=data["step"], horizon_days=data["horizon_days"])
        return Response({
            "current": {"bands": preview["current_bands"], "distribution": preview["current_distribution"],
                        "backtest": backtest_payload(preview["current_backtest"])},
            "what_if": {"bands": preview["new_bands"], "distribution": preview["new_distribution"],
                        "backtest": backtest_payload(preview["new_backtest"])},
            "changed_band": preview["changed_band"],
        }, status=status.HTTP_200_OK)

    def _scorecard(self, request, pk):
        if pk is None:
            return default_scorecard(workspace=request.workspace)
        card = Scorecard.objects.for_workspace(request.workspace).filter(pk=pk).first()
        if card is None:
            raise ValidationError({"scorecard": [_("Not found in this workspace.")]})
        return card

    @extend_schema(request=SuggestWeightsSerializer, responses=SuggestedWeightsSerializer)
    @action(detail=False, methods=["post"], url_path="suggest-weights", serializer_class=SuggestWeightsSerializer)
    def suggest_weights(self, request):
        query = SuggestWeightsSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        card = self._scorecard(request, data.get("scorecard"))
        version = latest_version(card)
        start, end = default_period(workspace=request.workspace, start=data.get("start"), end=data.get("end"),
                                    horizon_days=data["horizon_days"])
        proposal = suggest_weights(workspace=request.workspace, definition=version.definition, start=start, end=end,
                                   step=data["step"], horizon_days=data["horizon_days"])
        return Response({"scorecard": card.pk, "version": version.number, **proposal_payload(proposal)})

    @extend_schema(request=AcceptWeightsSerializer, responses={201: ScorecardVersionSerializer})
    @action(detail=False, methods=["post"], url_path="accept-weights", serializer_class=AcceptWeightsSerializer)
    def accept_weights(self, request):
        body = AcceptWeightsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        card = self._scorecard(request, data["scorecard"])
        version = services.accept_suggested_weights(
            workspace=request.workspace, actor=request.actor, scorecard=card, definition=data["definition"],
            summary={k: data.get(k) for k in ("current_auc", "suggested_auc", "churns")})
        return Response(ScorecardVersionSerializer(version).data, status=status.HTTP_201_CREATED)
