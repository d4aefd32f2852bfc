"""The audit log's one FilterSet: the page, its CSV/XLSX export and `GET /api/v1/audit-events/`.

Dates are days in the workspace's time zone (the team's days, as the page shows times), both ends
included. A member of another workspace named in `actor` is "not a valid choice", like an unknown id.
"""

import datetime as dt

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, Membership


def workspace_members(request):
    if not request:
        return Membership.objects.none()
    return Membership.objects.for_workspace(request.workspace).select_related("user")


def sane_day(value):
    # Far dates would overflow when turned into moments in the workspace's time zone.
    if not dt.date(1970, 1, 1) <= value <= dt.date(2999, 12, 31):
        raise ValidationError(_("Choose a date between 1970 and 2999."), code="out_of_range")


MAX_UTC_OFFSET = dt.timedelta(hours=14)  # the widest real time zones: UTC-12:00 to UTC+14:00


def sane_moment(value):
    # Offsets past any real time zone's are refused before the database sees them (PostgreSQL
    # refuses some, SQLite would compare them wrongly); far years would overflow in UTC.
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError(_("Use a UTC offset between -14:00 and +14:00."), code="offset_out_of_range")
    sane_day(value.date())


class ActorKind:
    MEMBER, TOKEN, SYSTEM = "member", "token", "system"
    choices = [(MEMBER, _("A member")), (TOKEN, _("A member's API token")), (SYSTEM, _("The platform (rules, nightly)"))]


class TimeOrdering(django_filters.OrderingFilter):
    """`ordering=at` (oldest first) or `-at` (newest first, the default); ties broken by id."""

    def filter(self, queryset, value):
        if not value:
            return queryset
        newest_first = value[0].startswith("-")
        return queryset.order_by("-at" if newest_first else "at", "-id" if newest_first else "id")


class AuditEventFilterSet(django_filters.FilterSet):
    actor_kind = django_filters.ChoiceFilter(choices=ActorKind.choices, method="filter_actor_kind", label=_("Who"))
    actor = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Member"))
    action = django_filters.CharFilter(label=_("Action"))
    object_type = django_filters.CharFilter(label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object ID"))
    q = django_filters.CharFilter(method="search", label=_("Search"))
    date_from = django_filters.DateFilter(method="filter_date_from", label=_("From"), validators=[sane_day])
    date_to = django_filters.DateFilter(method="filter_date_to", label=_("To"), validators=[sane_day])
    ordering = TimeOrdering(fields=[("at", "at")], label=_("Order"))

    class Meta:
        model = AuditEvent
        fields = []

    def filter_actor_kind(self, queryset, name, value):
        if value == ActorKind.SYSTEM:
            return queryset.exclude(system_actor="")
        if value == ActorKind.TOKEN:
            return queryset.filter(system_actor="", token__isnull=False)
        if value == ActorKind.MEMBER:
            return queryset.filter(system_actor="", token__isnull=True)
        return queryset

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(object_repr__icontains=value) | Q(object_id=value))

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(at__gte=self.request.workspace.day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(at__lt=self.request.workspace.day_start(value + dt.timedelta(days=1)))
