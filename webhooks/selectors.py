"""Reads of webhooks: a workspace's endpoints and an endpoint's delivery log."""

from .filtersets import DeliveryFilterSet
from .models import Delivery, Endpoint


def endpoint_list(*, workspace):
    return Endpoint.objects.for_workspace(workspace).select_related("created_by__user")


def delivery_log(*, workspace, endpoint=None, filters=None, request=None):
    deliveries = Delivery.objects.for_workspace(workspace).select_related("endpoint").order_by("-created_at", "-id")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    if filters is not None:
        deliveries = DeliveryFilterSet(filters, queryset=deliveries, request=request).qs
    return deliveries
