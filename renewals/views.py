"""The renewals page (next 12 months by month, the bubble chart, the table of upcoming renewals),
its CSV download and the page that records one line's outcome. Every member reads; the account's CSM
or a manager records (renewals.record)."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Value, When
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts import selectors as account_selectors
from accounts.models import Contract
from ui.spreadsheets import spreadsheet_response
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import services
from .filtersets import RenewalFilterSet
from .forecast import AT_RISK, BANDS, band_of, overview, window
from .forms import OutcomeForm
from .models import RenewalOutcome
from .selectors import upcoming_renewals

PAGE_SIZE = 50
PAST_DUE_DAYS = 365  # how far back a renewal without an outcome is still listed as past due
SORTS = {
    "due": ["renews_on_day", "id"], "-due": ["-renews_on_day", "-id"],
    "mrr": ["mrr", "id"], "-mrr": ["-mrr", "-id"],
    "account": ["account__name", "id"], "-account": ["-account__name", "-id"],
    "health": [F("account__health_score").asc(nulls_first=True), "id"],
    "-health": [F("account__health_score").desc(nulls_last=True), "-id"],
}
SORTABLE = {"due": "due", "mrr": "-mrr", "account": "account", "health": "health"}


def filtered_lines(view, request):
    """(filterset, the upcoming lines it selects, past due first): the page's and the CSV's rows."""
    today = view.workspace.today()
    start, end = window(today)
    lines = upcoming_renewals(workspace=view.workspace, start=start, end=end,
                              include_past_due_from=today - dt.timedelta(days=PAST_DUE_DAYS))
    lines = lines.annotate(past_due=Case(When(renews_on_day__lt=today, then=Value(0)), default=Value(1),
                                         output_field=IntegerField()))
    filterset = RenewalFilterSet(request.GET or None, queryset=lines, request=request)
    form = filterset.form
    form.fields["owner"].label_from_instance = lambda m: m.display_name
    for name in ("owner", "health_band", "touch_tier"):
        form.fields[name].empty_label = _("Any")
    form.fields["at_risk"].widget.choices = [("unknown", _("Any")), ("true", _("At risk")), ("false", _("Expected"))]
    if filterset.is_bound and not filterset.is_valid():
        return filterset, lines.none()
    return filterset, filterset.qs


def sorted_lines(lines, sort):
    return lines.order_by("past_due", *SORTS.get(sort, SORTS["due"]))


class RenewalsView(WorkspaceMixin, View):
    template_name = "renewals/overview.html"

    def get(self, request):
        today = self.workspace.today()
        sort = request.GET.get("sort", "due")
        sort = sort if sort in SORTS else "due"
        filterset, lines = filtered_lines(self, request)
        summary = overview(workspace=self.workspace, today=today, lines=lines)
        page = Paginator(sorted_lines(lines, sort), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"line": line, "band": band_of(line.account), "at_risk": band_of(line.account) in AT_RISK,
                 "days": (line.renews_on_day - today).days, "overdue": (today - line.renews_on_day).days,
                 "past_due": line.renews_on_day < today,
                 "may_record": allows(self.actor, "renewals.record", line)}
                for line in page.object_list]
        columns = {}
        for key, first in SORTABLE.items():
            if sort == key:
                columns[key] = {"next": "-" + key, "arrow": "▲"}
            elif sort == "-" + key:
                columns[key] = {"next": key, "arrow": "▼"}
            else:
                columns[key] = {"next": first, "arrow": ""}
        query = request.GET.copy()
        for key in ("page", "sort"):
            query.pop(key, None)
        is_filtered = any(request.GET.get(k) for k in filterset.form.fields)
        return render(request, self.template_name, {
            "summary": summary, "bands": BANDS, "page_obj": page, "paginator": page.paginator,
            "is_paginated": page.has_other_pages(), "rows": rows, "filter_form": filterset.form,
            "columns": columns, "sort": sort, "export_query": query.urlencode(), "is_filtered": is_filtered,
            "total": page.paginator.count, "today": today,
            "recent": RenewalOutcome.objects.for_workspace(self.workspace).select_related("account", "line")
            .order_by("-recorded_at", "-id")[:10],
        })


def export_columns():
    return [
        ("line_id", _("Line ID")), ("external_id", _("External ID")), ("account_id", _("Account ID")),
        ("account", _("Account")), ("owner", _("Owner")), ("product", _("Product")), ("quantity", _("Quantity")),
        ("unit", _("Unit")), ("renews_on", _("Renews on")), ("days_to_renewal", _("Days to renewal")),
        ("mrr", _("MRR")), ("arr", _("ARR")), ("health_score", _("Health score")), ("health_band", _("Health band")),
        ("at_risk", _("At risk")), ("past_due", _("Past due, no outcome")),
    ]


def export_row(line, today):
    account = line.account
    band = band_of(account)
    return {
        "line_id": line.pk, "external_id": line.external_id, "account_id": account.pk, "account": account.name,
        "owner": account.owner.display_name if account.owner_id else "", "product": line.product,
        "quantity": line.quantity, "unit": line.unit, "renews_on": line.renews_on_day,
        "days_to_renewal": (line.renews_on_day - today).days, "mrr": line.mrr, "arr": line.mrr * 12,
        "health_score": None if account.health_score is None else round(account.health_score),
        "health_band": band, "at_risk": band in AT_RISK, "past_due": line.renews_on_day < today,
    }


class RenewalsExportView(WorkspaceMixin, View):
    def get(self, request):
        filterset, lines = filtered_lines(self, request)
        if filterset.is_bound and filterset.errors:
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
        today = self.workspace.today()
        columns = export_columns()
        rows = [export_row(line, today) for line in sorted_lines(lines, request.GET.get("sort", "due"))]
        return spreadsheet_response([header for _key, header in columns],
                                    [[row[key] for key, _header in columns] for row in rows],
                                    filename=f"renewals-{today.isoformat()}")


class RecordOutcomeView(WorkspaceMixin, View):
    """One line's renewal: what it was, and the form that records what happened."""

    model = Contract
    policy_actions = {"post": "renewals.record"}
    template_name = "renewals/record.html"

    def get_queryset(self):
        return super().get_queryset().select_related("account", "account__owner__user")

    def reasons(self):
        return account_selectors.churn_reason_choices(self.workspace)

    def get(self, request, pk):
        line = self.get_object()
        form = OutcomeForm(initial={"new_mrr": line.mrr}, reasons=self.reasons())
        return self.show(line, form)

    def post(self, request, pk):
        line = self.get_object()
        form = OutcomeForm(request.POST, reasons=self.reasons())
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_outcome(actor=self.actor, line=line, outcome=data["outcome"],
                                        new_mrr=data["new_mrr"], quantity=data["quantity"], note=data["note"],
                                        churn_reason=data["churn_reason"], churn_note=data["churn_note"])
            except SERVICE_ERRORS as error:
                show_on_form(form, error)
            else:
                messages.success(request, _("Outcome recorded."))
                return redirect("renewals:overview")
        return self.show(line, form, status=400)

    def show(self, line, form, status=200):
        today = self.workspace.today()
        recorded = (RenewalOutcome.objects.for_workspace(self.workspace).filter(line=line)
                    .select_related("successor", "recorded_by__user").order_by("-due_on"))
        return render(self.request, self.template_name, {
            "line": line, "form": form, "renews_on": line.renews_on, "today": today,
            "days": (line.renews_on - today).days if line.renews_on else None,
            "recorded": recorded, "may_record": allows(self.actor, "renewals.record", line),
        }, status=status)
