"""Toss-up pages: the list (filters, sort, CSV export), log/edit, status change, and the KPI per CSM.
Views parse input; reads go through expansion.selectors, writes through expansion.services, which
decide who may do what (workspaces.policy).
"""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from accounts.models import Account
from ui.spreadsheets import spreadsheet_response
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import services
from .filtersets import OpportunityFilterSet
from .forms import KpiPeriodForm, OpportunityForm, StatusForm
from .models import Opportunity, OpportunityStatus
from .periods import PeriodKind, period_bounds, previous_period
from .selectors import (
    DEFAULT_ORDERING,
    OPPORTUNITY_ORDERINGS,
    opportunities_of,
    opportunity_list,
    pipeline_kpis,
)

SORTABLE = ("handed_over_on", "account", "kind", "estimated_mrr", "raised_by", "status", "won_mrr")
FILTER_FIELDS = ("q", "status", "kind", "raised_by", "handed_to", "account", "period", "handed_over_from",
                 "handed_over_to", "segment", "tier")


class OpportunityMixin(WorkspaceMixin):
    model = Opportunity

    def get_queryset(self):
        return opportunities_of(workspace=self.workspace)

    def get_object(self, queryset=None):
        if not hasattr(self, "_opportunity"):
            self._opportunity = super().get_object(queryset)
        return self._opportunity


def filtered(view):
    """The FilterSet of the list's query string (without paging and sorting), its rows, and the sort."""
    sort = view.request.GET.get("sort", DEFAULT_ORDERING)
    sort = sort if sort in OPPORTUNITY_ORDERINGS else DEFAULT_ORDERING
    data = view.request.GET.copy()
    for key in ("page", "sort"):
        data.pop(key, None)
    rows = opportunity_list(workspace=view.workspace, ordering=sort)
    filterset = OpportunityFilterSet(data, queryset=rows, request=view.request)
    form = filterset.form
    for name in ("status", "kind", "raised_by", "handed_to", "account", "period", "segment", "tier"):
        form.fields[name].empty_label = _("All")
        if hasattr(form.fields[name], "choices") and not hasattr(form.fields[name], "queryset"):
            form.fields[name].widget.choices = list(form.fields[name].choices)
    for name in ("raised_by", "handed_to"):
        form.fields[name].label_from_instance = lambda m: m.display_name
    for name in ("handed_over_from", "handed_over_to"):
        form.fields[name].widget.input_type = "date"
    return filterset, (filterset.qs if filterset.is_valid() else rows.none()), sort


def _with_labels(rows, membership):
    rows = list(rows)
    kinds, statuses = dict(Opportunity._meta.get_field("kind").flatchoices), dict(OpportunityStatus.choices)
    for row in rows:
        row.kind_label, row.status_label = kinds.get(row.kind, row.kind), statuses.get(row.status, row.status)
        row.can_change = allows(membership, "opportunities.change", row)
    return rows


def _can_log(view):
    """May this member log a toss-up at all (on an account of their own, at least)?"""
    return allows(view.actor, "opportunities.create", Opportunity(
        workspace=view.workspace, account=Account(workspace=view.workspace, owner=view.membership)))


# --- List and export ---------------------------------------------------------------------------------
class OpportunityListView(OpportunityMixin, ListView):
    """Every member reads the workspace's toss-ups; filters are the API's (OpportunityFilterSet)."""

    template_name = "expansion/opportunity_list.html"
    context_object_name = "opportunities"
    paginate_by = 50

    def get_queryset(self):
        self.filterset, rows, self.sort = filtered(self)
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        columns = {}
        for key in SORTABLE:
            if self.sort == key:
                columns[key] = {"next": "-" + key, "arrow": "▲"}
            elif self.sort == "-" + key:
                columns[key] = {"next": key, "arrow": "▼"}
            else:
                columns[key] = {"next": key, "arrow": ""}
        query = self.request.GET.copy()
        for key in ("page", "sort"):
            query.pop(key, None)
        context.update(
            opportunities=_with_labels(context["opportunities"], self.membership),
            filter_form=self.filterset.form, sort=self.sort, columns=columns,
            is_filtered=any(self.request.GET.get(k) for k in FILTER_FIELDS),
            total=context["paginator"].count if context.get("paginator") else len(context["opportunities"]),
            can_create=_can_log(self), export_query=query.urlencode(),
        )
        return context


class OpportunityExportView(OpportunityMixin, View):
    """The filtered list as CSV, one row per toss-up (amounts as plain numbers)."""

    def get(self, request):
        _filterset, rows, _sort = filtered(self)
        kinds, statuses = dict(Opportunity._meta.get_field("kind").flatchoices), dict(OpportunityStatus.choices)
        headers = [_("ID"), _("External ID"), _("Account"), _("Account external ID"), _("Kind"), _("Estimated MRR"),
                   _("Raised by"), _("Account executive"), _("Status"), _("Handed over on"), _("Closed on"),
                   _("Won MRR"), _("Lost reason"), _("Note")]
        body = [[
            row.pk, row.external_id, row.account.name, row.account.external_id, str(kinds.get(row.kind, row.kind)),
            row.estimated_mrr, row.raised_by.display_name if row.raised_by_id else "", row.account_executive,
            str(statuses.get(row.status, row.status)), row.handed_over_on.isoformat(),
            row.closed_on.isoformat() if row.closed_on else "", "" if row.won_mrr is None else row.won_mrr,
            row.lost_reason, row.note,
        ] for row in rows.iterator(chunk_size=2000)]
        return spreadsheet_response(headers, body, filename="toss-ups", title=_("Toss-ups"))


# --- Log / edit --------------------------------------------------------------------------------------
class OpportunityFormView(OpportunityMixin, View):
    template_name = "expansion/opportunity_form.html"

    def render_form(self, form, opportunity, status=200):
        return render(self.request, self.template_name, {"form": form, "opportunity": opportunity}, status=status)

    def form(self, *args, **kwargs):
        return OpportunityForm(*args, workspace=self.workspace, membership=self.membership, **kwargs)


class OpportunityCreateView(OpportunityFormView):
    """Log a toss-up; from an account's page (`?account=<id>`) the account is chosen already."""

    required_action = "opportunities.create"

    def policy_object(self):
        # May this member log a toss-up at all (on an account they own, at least)? The service checks
        # the account the form names.
        return Opportunity(workspace=self.workspace, account=Account(workspace=self.workspace, owner=self.membership))

    def initial(self):
        initial = {"raised_by": self.membership.pk, "handed_over_on": self.workspace.today()}
        account = self.request.GET.get("account", "")
        if account.isdigit() and Account.objects.for_workspace(self.workspace).filter(pk=int(account)).exists():
            initial["account"] = int(account)
        return initial

    def get(self, request):
        return self.render_form(self.form(initial=self.initial()), None)

    def post(self, request):
        form = self.form(request.POST, initial=self.initial())
        if form.is_valid():
            try:
                opportunity = services.create_opportunity(workspace=self.workspace, actor=self.actor,
                                                          **form.service_kwargs())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Toss-up logged."))
                return self.redirect_back("accounts:detail", opportunity.account_id)
        return self.render_form(form, None, status=400)


class OpportunityEditView(OpportunityFormView):
    required_action = "opportunities.change"

    def get(self, request, pk):
        opportunity = self.get_object()
        return self.render_form(self.form(instance=opportunity), opportunity)

    def post(self, request, pk):
        opportunity = self.get_object()
        original = Opportunity.objects.for_workspace(self.workspace).get(pk=opportunity.pk)
        form = self.form(request.POST, instance=opportunity)
        if form.is_valid():
            fields = {k: v for k, v in form.service_kwargs().items() if k != "account"}
            try:
                services.update_opportunity(opportunity=original, actor=self.actor, **fields)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Toss-up saved."))
                return self.redirect_back("expansion:list")
        return self.render_form(form, original, status=400)


class OpportunityStatusView(OpportunityMixin, View):
    """Move a toss-up on: qualified, won (with its won MRR) or lost (with the reason)."""

    required_action = "opportunities.change"
    template_name = "expansion/opportunity_status.html"

    def render_form(self, form, opportunity, status=200):
        return render(self.request, self.template_name, {"form": form, "opportunity": opportunity}, status=status)

    def get(self, request, pk):
        opportunity = self.get_object()
        return self.render_form(StatusForm(opportunity=opportunity), opportunity)

    def post(self, request, pk):
        opportunity = self.get_object()
        form = StatusForm(request.POST, opportunity=opportunity)
        if form.is_valid():
            try:
                services.change_status(opportunity=opportunity, actor=self.actor, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Status saved."))
                return self.redirect_back("expansion:list")
        opportunity = Opportunity.objects.for_workspace(self.workspace).select_related("account").get(pk=pk)
        return self.render_form(form, opportunity, status=400)


# --- KPI -----------------------------------------------------------------------------------------------
class PipelineKpiView(WorkspaceMixin, View):
    """Pipeline generated per CSM in a month, a quarter or a custom range (with the period before), then
    what of it was won. The FilterSet's kind, segment and tier narrow what counts."""

    template_name = "expansion/kpi.html"

    def get(self, request):
        today = self.workspace.today()
        form = KpiPeriodForm(request.GET or None)
        kind, day, start, end = PeriodKind.MONTH, today, None, None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            kind, day = data.get("period") or PeriodKind.MONTH, data.get("day") or today
            start, end = data.get("start"), data.get("end")
        if kind == PeriodKind.CUSTOM and not (start and end and end >= start):
            kind = PeriodKind.MONTH
        start, end = period_bounds(kind, day, start=start, end=end)
        filterset = OpportunityFilterSet({k: v for k, v in request.GET.items() if k in ("kind", "segment", "tier")},
                                         queryset=opportunities_of(workspace=self.workspace), request=request)
        for name in ("kind", "segment", "tier"):
            filterset.form.fields[name].empty_label = _("All")
            if not hasattr(filterset.form.fields[name], "queryset"):
                filterset.form.fields[name].widget.choices = list(filterset.form.fields[name].choices)
        narrowed = filterset.qs if filterset.is_valid() else opportunities_of(workspace=self.workspace).none()
        kpis = pipeline_kpis(workspace=self.workspace, start=start, end=end, opportunities=narrowed)
        before_start, before_end = previous_period(kind, start, end)
        before = pipeline_kpis(workspace=self.workspace, start=before_start, end=before_end, opportunities=narrowed)
        list_url = reverse("expansion:list")
        last_day = end.toordinal() - 1
        for row in kpis["rows"]:
            who = row["member"].pk if row["member"] else "none"
            period = f"handed_over_from={start.isoformat()}&handed_over_to={type(start).fromordinal(last_day)}"
            row["link"] = f"{list_url}?raised_by={who}&{period}"
            row["won_link"] = f"{row['link']}&status=won"
        bars = [{"label": row["member"].display_name if row["member"] else _("Nobody"), "value": float(row["amount"])}
                for row in kpis["rows"] if row["amount"]]
        won_bars = [{"label": row["member"].display_name if row["member"] else _("Nobody"),
                     "value": float(row["won_amount"])} for row in kpis["rows"] if row["amount"]]
        return render(request, self.template_name, {
            "form": form, "kpis": kpis, "before": before["total"], "bars": bars, "won_bars": won_bars,
            "chart_max": max([b["value"] for b in bars] or [0]), "filter_form": filterset.form,
            "last_day": type(start).fromordinal(last_day), "period_kind": kind,
        })
