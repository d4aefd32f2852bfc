"""One FilterSet per model, used by the list page, the API viewset and the selectors alike.

Choices of related objects (owner, stage, tag) are narrowed to the request's workspace, so that
naming another workspace's object is a validation error, never a leak.
"""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workspaces.filtersets import sane_moment
from workspaces.models import Membership

from .models import (
    Account,
    AccountStatus,
    Channel,
    Contact,
    ContactRole,
    Contract,
    HealthBand,
    LifecycleStage,
    Tag,
    Touchpoint,
    TouchTier,
)


def workspace_members(request):
    # The options' labels are the users' names: load them with the members, not one query each.
    if not request:
        return Membership.objects.none()
    return Membership.objects.for_workspace(request.workspace).select_related("user")


def workspace_stages(request):
    return LifecycleStage.objects.for_workspace(request.workspace) if request else LifecycleStage.objects.none()


def workspace_tags(request):
    return Tag.objects.for_workspace(request.workspace) if request else Tag.objects.none()


def workspace_accounts(request):
    return Account.objects.for_workspace(request.workspace) if request else Account.objects.none()


class AccountFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    owner = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Owner"))
    unowned = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("No owner"))
    stage = django_filters.ModelChoiceFilter(queryset=workspace_stages, label=_("Stage"))
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices, label=_("Status"))
    touch_tier = django_filters.ChoiceFilter(choices=TouchTier.choices, label=_("Touch tier"))
    health_band = django_filters.ChoiceFilter(choices=HealthBand.choices, label=_("Health band"))
    tag = django_filters.ModelChoiceFilter(field_name="tags", queryset=workspace_tags, label=_("Tag"))
    arr_min = django_filters.NumberFilter(field_name="arr", lookup_expr="gte", label=_("ARR from"))
    arr_max = django_filters.NumberFilter(field_name="arr", lookup_expr="lte", label=_("ARR to"))
    renewal_before = django_filters.DateFilter(field_name="renewal_date", lookup_expr="lte", label=_("Renews by"))
    external_id = django_filters.CharFilter(label=_("External ID"))

    class Meta:
        model = Account
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id=value))


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    role = django_filters.ChoiceFilter(choices=ContactRole.choices, label=_("Role"))
    is_key_person = django_filters.BooleanFilter(label=_("Key person"))
    has_left = django_filters.BooleanFilter(field_name="left_on", lookup_expr="isnull", exclude=True,
                                            label=_("Has left"))
    email = django_filters.CharFilter(lookup_expr="iexact", label=_("Email"))
    external_id = django_filters.CharFilter(label=_("External ID"))

    class Meta:
        model = Contact
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(title__icontains=value))


class TouchpointFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="summary", lookup_expr="icontains", label=_("Search"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    author = django_filters.ModelChoiceFilter(queryset=workspace_members, label=_("Author"))
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, label=_("Channel"))
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte",
                                                     label=_("From"), validators=[sane_moment])
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt",
                                                      label=_("Until"), validators=[sane_moment])

    class Meta:
        model = Touchpoint
        fields = []


class ContractFilterSet(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    product = django_filters.CharFilter(lookup_expr="icontains", label=_("Product"))
    external_id = django_filters.CharFilter(label=_("External ID"))
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Active on"))

    class Meta:
        model = Contract
        fields = []

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(Q(start_date__lte=value), Q(end_date__isnull=True) | Q(end_date__gt=value))
