"""Webhook pages, for the workspace's admins: endpoints, their secret, pings and the delivery log."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form

from . import selectors, services
from .events import EVENTS
from .filtersets import EndpointDeliveryFilterSet
from .forms import EndpointForm
from .models import Delivery, Endpoint


class EndpointListView(WorkspaceMixin, TemplateView):
    template_name = "webhooks/endpoint_list.html"
    required_action = "webhooks.manage"

    def get_context_data(self, *, form=None, created=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(endpoints=selectors.endpoint_list(workspace=self.workspace), form=form or EndpointForm(),
                       created=created, events=EVENTS)
        return context

    def post(self, request):
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = services.register_endpoint(workspace=self.workspace, actor=self.actor,
                                                              **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                # Rendered, not redirected: the secret must never sit in a URL or the session.
                return self.render_to_response(self.get_context_data(created=(endpoint, secret)))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class EndpointDetailView(WorkspaceMixin, TemplateView):
    model = Endpoint
    template_name = "webhooks/endpoint_detail.html"
    required_action = "webhooks.manage"

    def get_context_data(self, *, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(detail_context(self.request, self.workspace, self.get_object(), form=form))
        return context

    def post(self, request, pk):
        endpoint = self.get_object()
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                services.update_endpoint(endpoint=endpoint, actor=self.actor, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Webhook saved."))
                return redirect("webhooks:detail", pk=endpoint.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


def detail_context(request, workspace, endpoint, *, form=None, new_secret=None):
    filters = EndpointDeliveryFilterSet(request.GET, queryset=selectors.delivery_log(workspace=workspace, endpoint=endpoint),
                                request=request)
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    return {
        "endpoint": endpoint, "new_secret": new_secret, "filter": filters, "events": EVENTS,
        "form": form or EndpointForm(initial=EndpointForm.initial_for(endpoint)),
        "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(),
    }


class EndpointActionView(WorkspaceMixin, View):
    model = Endpoint
    required_action = "webhooks.manage"


class RotateSecretView(EndpointActionView):
    def post(self, request, pk):
        endpoint = self.get_object()
        secret = services.rotate_secret(endpoint=endpoint, actor=self.actor)
        # Rendered, not redirected: the secret must never sit in a URL or the session.
        return render(request, EndpointDetailView.template_name,
                      detail_context(request, self.workspace, endpoint, new_secret=secret))


class EnableView(EndpointActionView):
    def post(self, request, pk):
        endpoint = self.get_object()
        enable = request.POST.get("enabled", "1") != "0"
        services.update_endpoint(endpoint=endpoint, actor=self.actor, enabled=enable)
        messages.success(request, _("Webhook enabled.") if enable else _("Webhook disabled."))
        return redirect("webhooks:detail", pk=endpoint.pk)


class PingView(EndpointActionView):
    def post(self, request, pk):
        endpoint = self.get_object()
        delivery = services.send_ping(endpoint=endpoint, actor=self.actor)
        delivery.refresh_from_db()
        if delivery.status == "delivered":
            messages.success(request, _("Ping delivered (HTTP %(code)s).") % {"code": delivery.last_status_code})
        elif delivery.status == "gave_up":
            messages.error(request, _("Ping failed; see the delivery log."))
        else:
            messages.info(request, _("Ping queued; its result appears in the delivery log."))
        return redirect("webhooks:detail", pk=endpoint.pk)


class DeleteView(EndpointActionView):
    def post(self, request, pk):
        endpoint = self.get_object()
        services.delete_endpoint(endpoint=endpoint, actor=self.actor)
        messages.success(request, _("Webhook deleted."))
        return redirect("webhooks:list")


class RetryDeliveryView(WorkspaceMixin, View):
    model = Delivery
    required_action = "webhooks.manage"

    def post(self, request, pk):
        delivery = self.get_object()
        try:
            services.retry_delivery(delivery=delivery, actor=self.actor)
        except SERVICE_ERRORS as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            delivery.refresh_from_db()
            messages.info(request, _("Retried: %(status)s.") % {"status": delivery.get_status_display()})
        return redirect("webhooks:detail", pk=delivery.endpoint_id)
