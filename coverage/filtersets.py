"""One FilterSet per model, shared by the pages and the API (see accounts/filtersets.py)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.filtersets import workspace_members
from accounts.models import TouchTier
from segments.selectors import segments_of

from .models import CoverageSnapshot


def workspace_segments(request):
    return segments_of(workspace=request.workspace if request else None)


@extend_schema_field(OpenApiTypes.INT)
class SegmentChoiceFilter(django_filters.ModelChoiceFilter):
    """A segment id of the caller's workspace (documented as an integer in the API schema)."""


class CoverageSnapshotFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # As every per-CSM picker: all (no value), the accounts nobody owns (`none`, as workspaces.owners
    # spells it), or one member.
    owner = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("CSM"), empty_label=_("All"),
                                             null_label=_("Unassigned"), null_value="none")
    unowned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("No owner"))
    tier = django_filters.ChoiceFilter(choices=TouchTier.choices, label=_("Tier"), empty_label=_("All"))
    # Named after the column it narrows by alone, so the rollup (which keeps it too) can serve it.
    segment = SegmentChoiceFilter(queryset=workspace_segments, field_name="segment_keys", method="in_segment",
                                  label=_("Segment"), empty_label=_("All"))
    cell = django_filters.CharFilter(label=_("Matrix cell"))
    covered = django_filters.BooleanFilter(label=_("Covered"))
    in_scope = django_filters.BooleanFilter(label=_("In scope"))

    class Meta:
        model = CoverageSnapshot
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(account__name__icontains=value) if value else queryset

    def in_segment(self, queryset, name, segment):
        # segment_keys is ",3,7,": the delimiters make this an exact id match on every database.
        return queryset.filter(segment_keys__contains=f",{segment.pk},") if segment else queryset


