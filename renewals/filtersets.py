"""The one FilterSet of upcoming renewals: the renewals page, its CSV and `GET /api/v1/renewals/`.

It filters contract lines annotated by renewals.selectors.renewal_lines (`renews_on_day`,
`has_outcome`). Member choices are this workspace's only: naming another's is "not a valid choice".
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, HealthBand, TouchTier
from workspaces.filtersets import sane_day, workspace_members

from .models import Outcome


def workspace_accounts(request):
    return Account.objects.for_workspace(request.workspace) if request else Account.objects.none()


AT_RISK_BANDS = (HealthBand.RED, HealthBand.NA, "")


def at_risk_q(prefix="account__"):
    """At risk: the account's health band is red, or it has no health (no score, or "not enough data")."""
    return (Q(**{f"{prefix}health_band__in": AT_RISK_BANDS}) | Q(**{f"{prefix}health_score__isnull": True}))


class RenewalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    owner = django_filters.ModelChoiceFilter(field_name="account__owner", queryset=workspace_members,
                                             label=_("Owner"))
    health_band = django_filters.ChoiceFilter(field_name="account__health_band", choices=HealthBand.choices,
                                              label=_("Health band"))
    touch_tier = django_filters.ChoiceFilter(field_name="account__touch_tier", choices=TouchTier.choices,
                                             label=_("Touch tier"))
    at_risk = django_filters.BooleanFilter(method="filter_at_risk", label=_("At risk"))
    due_from = django_filters.DateFilter(field_name="renews_on_day", lookup_expr="gte", label=_("Renews from"),
                                         validators=[sane_day])
    due_to = django_filters.DateFilter(field_name="renews_on_day", lookup_expr="lte", label=_("Renews until"),
                                       validators=[sane_day])
    product = django_filters.CharFilter(field_name="product", lookup_expr="iexact", label=_("Product"))

    class Meta:
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(account__name__icontains=value) | Q(product__icontains=value)
                               | Q(external_id__iexact=value))

    def filter_at_risk(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(at_risk_q()) if value else queryset.exclude(at_risk_q())


class OutcomeFilterSet(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=_("Outcome"))
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Renews from"),
                                         validators=[sane_day])
    due_to = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Renews until"),
                                       validators=[sane_day])

    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    line = django_filters.NumberFilter(field_name="line_id", label=_("Contract line"))

    class Meta:
        fields = []
