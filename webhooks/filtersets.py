"""The delivery log's filters, shared by the endpoint's page and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .events import EVENTS, PING
from .models import Delivery, DeliveryStatus, Endpoint


def event_choices():
    return [*((key, label) for key, label in EVENTS.items()), (PING, _("Test ping"))]


def workspace_endpoints(request):
    workspace = getattr(request, "workspace", None)
    return Endpoint.objects.for_workspace(workspace) if workspace is not None else Endpoint.objects.none()


class EndpointDeliveryFilterSet(django_filters.FilterSet):
    """The log of one endpoint (its page)."""

    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    event = django_filters.ChoiceFilter(choices=event_choices, label=_("Event"))

    class Meta:
        model = Delivery
        fields = []


class DeliveryFilterSet(EndpointDeliveryFilterSet):
    """The log of every endpoint of the workspace (the API)."""

    endpoint = django_filters.ModelChoiceFilter(queryset=workspace_endpoints, label=_("Endpoint"))

    class Meta:
        model = Delivery
        fields = []
