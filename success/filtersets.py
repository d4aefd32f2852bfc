"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workspaces.filtersets import sane_day

from .models import KptKind, KptNote, PeriodKind, PlanStatus, SuccessPlan


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label=_("Status"))
    owner = django_filters.NumberFilter(field_name="account__owner_id", label=_("CSM"))
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account"))

    class Meta:
        model = SuccessPlan
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(account__name__icontains=value) | Q(summary__icontains=value))


class KptNoteFilterSet(django_filters.FilterSet):
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices, label=_("Period"))
    period_start = django_filters.DateFilter(label=_("Period start"), validators=[sane_day])
    kind = django_filters.ChoiceFilter(choices=KptKind.choices, label=_("Kind"))
    segment = django_filters.NumberFilter(field_name="segment_id", label=_("Segment"))
    playbook = django_filters.NumberFilter(field_name="playbook_id", label=_("Playbook"))

    class Meta:
        model = KptNote
        fields = []
