"""The toss-ups' one FilterSet: the list page, its CSV export, the KPI page and `GET /api/v1/opportunities/`.

Choices of related rows (members, accounts, segments) are this workspace's only, so naming another
workspace's row is "not a valid choice", exactly like an id that does not exist. Periods are the
workspace's days; `handed_over_from` and `handed_over_to` are both included.
"""


import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Account, TouchTier
from segments.selectors import segment_members, segments_of
from workspaces.filtersets import sane_day, workspace_members

from .models import OPEN_STATUSES, Opportunity, OpportunityKind, OpportunityStatus
from .periods import add_months, month_start, quarter_start


class PeriodChoice:
    THIS_MONTH, LAST_MONTH, THIS_QUARTER, LAST_QUARTER, LAST_12 = (
        "this_month", "last_month", "this_quarter", "last_quarter", "last_12_months")
    choices = [(THIS_MONTH, _("This month")), (LAST_MONTH, _("Last month")), (THIS_QUARTER, _("This quarter")),
               (LAST_QUARTER, _("Last quarter")), (LAST_12, _("Last 12 months"))]


def period_range(value, today):
    """[start, end) of a named period around `today`."""
    if value == PeriodChoice.LAST_MONTH:
        return add_months(today, -1), month_start(today)
    if value == PeriodChoice.THIS_QUARTER:
        return quarter_start(today), add_months(quarter_start(today), 3)
    if value == PeriodChoice.LAST_QUARTER:
        return add_months(quarter_start(today), -3), quarter_start(today)
    if value == PeriodChoice.LAST_12:
        return add_months(today, -11), add_months(today, 1)
    return month_start(today), add_months(today, 1)


class StatusChoice:
    OPEN = "open"
    choices = [(OPEN, _("Open (handed over or qualified)")), *OpportunityStatus.choices]


def workspace_accounts(request):
    return Account.objects.for_workspace(request.workspace) if request else Account.objects.none()


def workspace_segments(request):
    return segments_of(workspace=request.workspace if request else None)


@extend_schema_field(OpenApiTypes.INT)
class SegmentChoiceFilter(django_filters.ModelChoiceFilter):
    """A segment id of the caller's workspace (documented as an integer in the API schema)."""


class OpportunityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=StatusChoice.choices, method="filter_status", label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=OpportunityKind.choices, label=_("Kind"))
    raised_by = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Raised by"),
                                                 null_label=_("Nobody"), null_value="none")
    handed_to = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Account executive"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    period = django_filters.ChoiceFilter(choices=PeriodChoice.choices, method="filter_period",
                                         label=_("Handed over in"))
    handed_over_from = django_filters.DateFilter(field_name="handed_over_on", lookup_expr="gte",
                                                 label=_("Handed over from"), validators=[sane_day])
    handed_over_to = django_filters.DateFilter(field_name="handed_over_on", lookup_expr="lte",
                                               label=_("Handed over to"), validators=[sane_day])
    segment = SegmentChoiceFilter(queryset=workspace_segments, method="in_segment", label=_("Segment"))
    tier = django_filters.ChoiceFilter(field_name="account__touch_tier", choices=TouchTier.choices,
                                       label=_("Touch tier"))
    external_id = django_filters.CharFilter(label=_("External ID"))

    class Meta:
        model = Opportunity
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(account__name__icontains=value) | Q(note__icontains=value) |
                               Q(handed_to_name__icontains=value) | Q(external_id=value) |
                               Q(account__external_id=value))

    def filter_status(self, queryset, name, value):
        if value == StatusChoice.OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_period(self, queryset, name, value):
        start, end = period_range(value, self.request.workspace.today())
        return queryset.filter(handed_over_on__gte=start, handed_over_on__lt=end)

    def in_segment(self, queryset, name, segment):
        if segment is None:
            return queryset
        segment.workspace = self.request.workspace
        return queryset.filter(account_id__in=segment_members(segment=segment).values("account_id"))
