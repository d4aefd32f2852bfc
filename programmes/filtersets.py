"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workspaces.filtersets import sane_day

from .models import Attendance, AttendanceStatus, Programme, ProgrammeKind, ProgrammeSession


class ProgrammeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=ProgrammeKind.choices, label=_("Kind"))

    class Meta:
        model = Programme
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class ProgrammeSessionFilterSet(django_filters.FilterSet):
    programme = django_filters.NumberFilter(field_name="programme_id", label=_("Programme"))
    since = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte", label=_("From"),
                                      validators=[sane_day])
    until = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte", label=_("Until"),
                                      validators=[sane_day])

    class Meta:
        model = ProgrammeSession
        fields = []


class AttendanceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=AttendanceStatus.choices, label=_("Status"))
    session = django_filters.NumberFilter(field_name="session_id", label=_("Session"))
    programme = django_filters.NumberFilter(field_name="session__programme_id", label=_("Programme"))

    class Meta:
        model = Attendance
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(contact__name__icontains=value) | Q(contact__email__icontains=value)
                               | Q(contact__account__name__icontains=value))
