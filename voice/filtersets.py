"""The one FilterSet of feature requests (the ranked page, its CSV and `GET /api/v1/feature-requests/`)
and the one of survey responses (the API list and the NPS page's list).

Segment and tier narrow both which requests are listed (those with evidence from such accounts)
and what they are ranked by (the ARR and count of those accounts only): see selectors.request_ranking.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, TouchTier
from segments.selectors import members_since, segments_of
from workspaces.filtersets import sane_day

from .models import FeatureRequest, RequestStatus, SurveyKind, SurveyResponse


def workspace_segments(request):
    return segments_of(workspace=getattr(request, "workspace", None))


def workspace_accounts(request):
    workspace = getattr(request, "workspace", None)
    return Account.objects.for_workspace(workspace) if workspace else Account.objects.none()


def account_q(cleaned, *, prefix=""):
    """The condition on accounts that segment and tier put (`prefix` "account__" from evidence)."""
    condition = Q()
    if cleaned.get("segment") is not None:
        segment = cleaned["segment"]
        ids = list(members_since(workspace=segment.workspace, segment_id=segment.pk))
        condition &= Q(**{f"{prefix}pk__in": ids})
    if cleaned.get("tier"):
        condition &= Q(**{f"{prefix}touch_tier": cleaned["tier"]})
    return condition


class FeatureRequestFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=RequestStatus.choices, label=_("Status"))
    segment = django_filters.ModelChoiceFilter(queryset=workspace_segments, method="filter_segment",
                                               label=_("Segment"))
    tier = django_filters.ChoiceFilter(choices=TouchTier.choices, method="filter_tier", label=_("Touch tier"))
    account = django_filters.ModelChoiceFilter(field_name="evidence__account", queryset=workspace_accounts,
                                               distinct=True, label=_("Account"))

    class Meta:
        model = FeatureRequest
        fields = ["q", "status", "segment", "tier", "account"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value)
                               | Q(external_id__iexact=value))

    def filter_segment(self, queryset, name, value: int):
        return self._asked_by(queryset)

    def filter_tier(self, queryset, name, value: str):
        return self._asked_by(queryset)

    def _asked_by(self, queryset):
        # Both filters are one condition on the same evidence row (an account in the segment AND the
        # tier), applied once whichever of them runs last.
        if getattr(self, "_asked_by_done", False):
            return queryset
        self._asked_by_done = True
        condition = account_q(self.form.cleaned_data, prefix="evidence__account__")
        return queryset.filter(condition).distinct() if condition else queryset


class SurveyResponseFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices, label=_("Survey"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    responded_from = django_filters.DateFilter(field_name="responded_on", lookup_expr="gte",
                                               label=_("Responded from"), validators=[sane_day])
    responded_to = django_filters.DateFilter(field_name="responded_on", lookup_expr="lte",
                                             label=_("Responded to"), validators=[sane_day])
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label=_("Score at least"))
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", label=_("Score at most"))
    external_id = django_filters.CharFilter(field_name="external_id", label=_("External ID"))

    class Meta:
        model = SurveyResponse
        fields = ["kind", "account", "responded_from", "responded_to", "score_min", "score_max", "external_id"]
