"""One FilterSet per model, shared by the pages and the API (see accounts/filtersets.py)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.filtersets import workspace_members
from accounts.models import TouchTier

from .models import Segment, SegmentMembership


class SegmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Segment
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class SegmentMembershipFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="account__name", lookup_expr="icontains", label=_("Search"))
    owner = django_filters.ModelChoiceFilter(field_name="account__owner", queryset=workspace_members, label=_("Owner"))
    tier = django_filters.ChoiceFilter(field_name="account__touch_tier", choices=TouchTier.choices, label=_("Tier"))

    class Meta:
        model = SegmentMembership
        fields = []
