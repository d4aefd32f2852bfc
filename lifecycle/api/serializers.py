from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StagePointSerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text=_("Percent of the active accounts that day."))


class StageRowSerializer(serializers.Serializer):
    stage = serializers.IntegerField(source="stage.pk")
    name = serializers.CharField(source="stage.name")
    target = serializers.FloatField(allow_null=True, help_text=_("The stage's target share (percent); null: none."))
    stuck_after_days = serializers.IntegerField(source="stage.stuck_after_days", allow_null=True)
    points = StagePointSerializer(many=True)


class StageDistributionSerializer(serializers.Serializer):
    weeks = serializers.IntegerField()
    days = serializers.ListField(child=serializers.DateField())
    totals = serializers.ListField(child=serializers.IntegerField(), help_text=_("Active accounts per point."))
    no_stage = serializers.ListField(child=serializers.IntegerField())
    rows = StageRowSerializer(many=True)


class StuckSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    account_name = serializers.CharField(source="account.name")
    stage = serializers.IntegerField(source="stage.pk")
    stage_name = serializers.CharField(source="stage.name")
    owner = serializers.IntegerField(source="owner.pk", allow_null=True, default=None)
    entered = serializers.DateField()
    days = serializers.IntegerField()
    threshold = serializers.IntegerField()


class UsageLevelSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=4)
    name = serializers.CharField(max_length=60)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    rules = serializers.JSONField(required=False, help_text=_(
        "Thresholds over the last 30 days: min_days_active, min_active_users, min_users_per_seat, "
        "min_key_features. Lv1 has none."))


class UsageLevelsSerializer(serializers.Serializer):
    levels = UsageLevelSerializer(many=True)


class LevelChurnRowSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    name = serializers.CharField()
    observations = serializers.IntegerField()
    accounts = serializers.IntegerField()
    churned = serializers.IntegerField()
    enough = serializers.BooleanField()
    rate = serializers.FloatField(allow_null=True, help_text=_("Percent; null on fewer than min_accounts accounts."))


class TenureRowSerializer(serializers.Serializer):
    month = serializers.IntegerField()
    label = serializers.CharField()
    observations = serializers.IntegerField()
    accounts = serializers.IntegerField()
    lv2 = serializers.IntegerField()
    enough = serializers.BooleanField()
    share = serializers.FloatField(allow_null=True)


class LevelReportSerializer(serializers.Serializer):
    window = serializers.IntegerField()
    min_accounts = serializers.IntegerField()
    churn = LevelChurnRowSerializer(many=True)
    tenure = TenureRowSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=_("Active accounts per level now."))
