"""One FilterSet per model of the health capability, shared by pages, API and selectors."""

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.filtersets import workspace_accounts, workspace_members
from accounts.models import HealthBand

from .models import AlertKind, AlertOutcome, AlertStatus, HealthAlert, HealthSnapshot, SentimentRating


class HealthAlertFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    owner = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Owner"))
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label=_("Status"))
    outcome = django_filters.ChoiceFilter(choices=[c for c in AlertOutcome.choices if c[0]], label=_("Outcome"))
    pushed = django_filters.BooleanFilter(label=_("Pushed"))
    week = django_filters.DateFilter(label=_("Week (Monday)"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Mine"))

    class Meta:
        model = HealthAlert
        fields = []

    def filter_mine(self, queryset, name, value):
        membership = getattr(self.request, "membership", None)
        if value and membership is not None:
            return queryset.filter(owner=membership)
        return queryset


class HealthSnapshotFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    day = django_filters.DateFilter(label=_("Day"))
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("From"))
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("To"))
    band = django_filters.ChoiceFilter(choices=HealthBand.choices, label=_("Band"))

    class Meta:
        model = HealthSnapshot
        fields = []


class SentimentRatingFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    rated_by = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Rated by"))

    class Meta:
        model = SentimentRating
        fields = []
