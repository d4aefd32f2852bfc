"""API shapes of the health capability. Writes go through `healthscore.services`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.api.serializers import BriefAccountSerializer
from accounts.models import Account
from workspaces.api.fields import IdField, WorkspaceRelatedField, no_null_characters
from workspaces.api.serializers import BriefMembershipSerializer

from ..backtest import HORIZON_DAYS, HORIZONS, MONTHLY, parse_step
from ..models import (
    AlertOutcome,
    HealthAlert,
    HealthSettings,
    HealthSnapshot,
    Scorecard,
    ScorecardVersion,
    SentimentRating,
)


class HealthSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthSettings
        fields = ["id", "key_features", "sentiment_stale_days", "alert_drop_points", "alert_weekly_budget"]
        extra_kwargs = {"key_features": {"validators": [no_null_characters]}}


class ScorecardVersionSerializer(serializers.ModelSerializer):
    created_by = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ScorecardVersion
        fields = ["id", "number", "definition", "note", "created_by", "created_at"]


class ScorecardSerializer(serializers.ModelSerializer):
    current_version = serializers.SerializerMethodField()
    definition = serializers.JSONField(write_only=True, required=False, validators=[no_null_characters],
                                       help_text=_("The full definition; a change makes a new version."))
    note = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=300)
    tiers = serializers.ListField(child=serializers.CharField(), required=False)
    segments = serializers.ListField(child=IdField(), required=False)

    class Meta:
        model = Scorecard
        fields = ["id", "name", "is_default", "priority", "tiers", "segments", "current_version", "definition",
                  "note", "created_at"]
        read_only_fields = ["is_default", "created_at"]

    def get_current_version(self, card) -> dict:
        versions = sorted(card.versions.all(), key=lambda v: v.number)
        return ScorecardVersionSerializer(versions[-1], context=self.context).data if versions else None


class HealthSnapshotSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True)
    scorecard = serializers.IntegerField(source="version.scorecard_id", read_only=True)

    class Meta:
        model = HealthSnapshot
        fields = ["id", "account", "day", "scorecard", "version", "total", "band", "available_weight", "groups",
                  "measures"]


class SentimentRatingSerializer(serializers.ModelSerializer):
    account = WorkspaceRelatedField(queryset=Account.objects.all(), brief_serializer=BriefAccountSerializer)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    rated_by = BriefMembershipSerializer(read_only=True, allow_null=True)
    rating = serializers.IntegerField()

    class Meta:
        model = SentimentRating
        fields = ["id", "account", "rating", "reasons", "note", "rated_by", "rated_at"]
        read_only_fields = ["rated_at"]


class HealthAlertSerializer(serializers.ModelSerializer):
    account = BriefAccountSerializer(read_only=True)
    owner = BriefMembershipSerializer(read_only=True, allow_null=True)

    class Meta:
        model = HealthAlert
        fields = ["id", "account", "owner", "kind", "reason", "status", "opened_on", "last_seen_on", "score",
                  "previous_score", "drop", "arr_at_risk", "priority", "pushed", "week", "outcome",
                  "outcome_reason", "outcome_at", "preceded_churn"]
        read_only_fields = fields


class AlertOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[(choice.value, choice.label) for choice in (AlertOutcome.ACTED_ON, AlertOutcome.DISMISSED)]
    )
    outcome_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class BacktestQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    horizon_days = serializers.ChoiceField(choices=[(h, str(h)) for h in HORIZONS], required=False,
                                           default=HORIZON_DAYS,
                                           help_text=_("Churn within this many days of an observation day."))
    step = serializers.CharField(required=False, default=MONTHLY, max_length=10, help_text=_(
        "Observation days: \"month\" (the first of each month) or a number of days from 1 to 365."))
    step_days = serializers.IntegerField(required=False, min_value=1, max_value=365, help_text=_(
        "Every this many days (the same as a number in `step`)."))

    def validate_step(self, value):
        try:
            return parse_step(value)
        except ValueError:
            raise serializers.ValidationError(
                _("Give \"month\" or a whole number of days from 1 to 365.")) from None

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": [_("The start is after the end.")]})
        if attrs.get("step_days") is not None:
            attrs["step"] = attrs["step_days"]
        attrs["horizon_days"] = int(attrs.get("horizon_days", HORIZON_DAYS))
        return attrs


class SuggestWeightsSerializer(BacktestQuerySerializer):
    scorecard = serializers.IntegerField(required=False, help_text=_("The scorecard (default: the default one)."))


class AcceptWeightsSerializer(serializers.Serializer):
    scorecard = serializers.IntegerField()
    definition = serializers.JSONField(validators=[no_null_characters])
    current_auc = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    suggested_auc = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    churns = serializers.IntegerField(required=False, min_value=0)


class WhatIfSerializer(BacktestQuerySerializer):
    definition = serializers.JSONField(validators=[no_null_characters])
    scorecard = serializers.IntegerField(required=False)


@extend_schema_serializer(description=_(
    "The account's score, explanation, what moved since last week and the 90-day trend (read only)."
))
class AccountHealthSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    band = serializers.CharField()
    change_30d = serializers.FloatField(allow_null=True)
    day = serializers.DateField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    explanation = serializers.ListField(child=serializers.DictField())
    weakest = serializers.CharField(allow_null=True)
    moved_since = serializers.DateField(allow_null=True)
    moved = serializers.ListField(child=serializers.DictField())
    trend = serializers.DictField(allow_null=True)
    sentiment = serializers.DictField(allow_null=True)


class BacktestResultSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    step = serializers.CharField()
    step_days = serializers.IntegerField(allow_null=True)
    horizon_days = serializers.IntegerField()
    observations = serializers.IntegerField()
    churned = serializers.IntegerField()
    churned_accounts = serializers.IntegerField()
    auc = serializers.FloatField(allow_null=True)
    bands = serializers.ListField(child=serializers.DictField())
    measures = serializers.ListField(child=serializers.DictField())
    days = serializers.ListField(child=serializers.DateField())
    recomputed_days = serializers.ListField(child=serializers.DateField())
    churned_while_green = serializers.ListField(child=serializers.DictField())
    distribution = serializers.ListField(child=serializers.DictField())


class WhatIfSideSerializer(serializers.Serializer):
    bands = serializers.DictField(child=serializers.IntegerField())
    distribution = serializers.ListField(child=serializers.DictField())
    backtest = BacktestResultSerializer()


class WhatIfResultSerializer(serializers.Serializer):
    current = WhatIfSideSerializer()
    what_if = WhatIfSideSerializer()
    changed_band = serializers.IntegerField()


class AucSerializer(serializers.Serializer):
    auc = serializers.FloatField(allow_null=True)
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True,
                               help_text=_("95 percent confidence interval (Hanley-McNeil)."))
    n = serializers.IntegerField()
    churned = serializers.IntegerField()


class SuggestedWeightsSerializer(serializers.Serializer):
    scorecard = serializers.IntegerField()
    version = serializers.IntegerField()
    refused = serializers.CharField(allow_null=True, help_text=_("Why no weights are suggested, or null."))
    churns = serializers.IntegerField()
    horizon_days = serializers.IntegerField()
    step = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    observations = serializers.IntegerField(required=False)
    train_days = serializers.ListField(child=serializers.DateField(), required=False)
    test_days = serializers.ListField(child=serializers.DateField(), required=False)
    train = serializers.DictField(required=False)
    test = serializers.DictField(required=False)
    current = AucSerializer(required=False)
    suggested = AucSerializer(required=False)
    measures = serializers.ListField(child=serializers.DictField(), required=False)
    groups = serializers.ListField(child=serializers.DictField(), required=False)
    definition = serializers.JSONField(required=False)


class CalibrationRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The measure's key in the scorecard."))
    label = serializers.CharField()
    direction = serializers.ChoiceField(choices=[("higher", _("Higher is better")), ("lower", _("Lower is better"))],
                                        help_text=_("Which way is better."))
    p25 = serializers.FloatField(allow_null=True)
    p50 = serializers.FloatField(allow_null=True)
    p75 = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(help_text=_("How many values the percentiles rest on."))
    current = serializers.JSONField(help_text=_("The rule in the scorecard's latest version."))
    proposed = serializers.JSONField(allow_null=True, help_text=_(
        "The proposed thresholds rule, or null when the values do not spread (p25 = p75) or there are none."))


@extend_schema_serializer(description=_(
    "Usage thresholds proposed from the workspace's own data: each usage measure's percentiles over every "
    "account scored on the first of each of the last six months, and the rule they give. Nothing is saved."
))
class CalibrationSerializer(serializers.Serializer):
    scorecard = serializers.IntegerField()
    version = serializers.IntegerField(help_text=_("The number of the version whose rules are calibrated."))
    days = serializers.ListField(child=serializers.DateField(), help_text=_("The days whose scores were pooled."))
    changed = serializers.BooleanField(help_text=_("Whether any rule is proposed."))
    measures = CalibrationRowSerializer(many=True)
    definition = serializers.JSONField(help_text=_(
        "The latest version's definition with the proposed rules: what to save as a new version to apply them."))
