"""The revenue pages: window metrics with the previous window, the waterfall, breakdowns, churn by
reason; the drill-down into the accounts of a movement; CSV downloads. Managers and admins
("revenue.view"): the figures are the team's book, CSM by CSM.

The figures come from revenue.selectors; this module reads the question, lays out and writes tables.
"""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from ui.spreadsheets import spreadsheet_response
from workspaces.pages import WorkspaceMixin

from . import charts
from .forms import BreakdownForm, MovementForm, WindowForm, kind_labels
from .selectors import (
    BREAKDOWNS,
    breakdown,
    churn_by_reason,
    movement_rows,
    movements,
    previous_window,
    window_metrics,
)

SORTS = ("label", "start_mrr", "end_mrr", "nrr", "grr", "logo_churn", "mrr_churn", "start_logos")


def breakdown_titles():
    return {"segment": _("By segment"), "tier": _("By touch tier"), "csm": _("By CSM"),
            "cohort": _("By cohort (quarter of the first MRR)")}


def _window_query(start, end, **extra):
    return urlencode({"start": start.isoformat(), "end": end.isoformat(),
                      **{k: v for k, v in extra.items() if v is not None}})


def sort_rows(rows, sort):
    key = sort.lstrip("-")
    if key not in SORTS:
        return rows, "-start_mrr"
    present = [row for row in rows if row[key] is not None]
    missing = [row for row in rows if row[key] is None]  # "—" last, whichever the direction
    present.sort(key=lambda row: str(row[key]) if key == "label" else row[key], reverse=sort.startswith("-"))
    return present + missing, sort


class RevenueView(WorkspaceMixin, View):
    required_action = "revenue.view"
    template_name = "revenue/overview.html"

    def get(self, request):
        form = WindowForm(request.GET, workspace=self.workspace)  # nothing asked: the last quarter
        context = {"form": form, "report": None,
                   "presets": [(key, label) for key, (label, _s, _e) in form.presets.items()]}
        if not form.is_valid():
            return render(request, self.template_name, context)
        data = form.cleaned_data
        start, end = data["start"], data["end"]
        currency = self.workspace.currency
        moved = movements(self.workspace, start, end)
        query = _window_query(start, end)
        drill = reverse("revenue:movements")

        def link(kind, step=None):
            return f"{drill}?{_window_query(start, end, kind=kind, step=step.isoformat() if step else None)}"

        current = window_metrics(self.workspace, start, end)
        previous = window_metrics(self.workspace, *previous_window(start, end))
        sort = request.GET.get("sort", "-start_mrr")
        tables = []
        for by in BREAKDOWNS:
            rows, used = sort_rows(breakdown(self.workspace, start, end, by), sort)
            tables.append({"by": by, "title": breakdown_titles()[by], "rows": rows, "sort": used,
                           "export_url": f"{reverse('revenue:export_breakdown')}?{query}&by={by}"})
        context.update({
            "report": {"start": start, "end": end, "current": current, "previous": previous,
                       "total": moved["total"],
                       "steps": [{**step, "cells": [{"kind": kind, "amount": step[kind], "href": link(kind, step["start"])}
                                                    for kind in kind_labels()]} for step in moved["steps"]]},
            "preset": data.get("preset", ""),
            "waterfall": charts.waterfall(moved["total"], currency=currency, link=link),
            "monthly": charts.monthly(moved["steps"], currency=currency, link=link),
            "tables": tables, "sort": sort, "query": query,
            "churn": _with_previous(churn_by_reason(self.workspace, start, end, moved=moved),
                                    churn_by_reason(self.workspace, *previous_window(start, end))),
            "kinds": kind_labels(),
            "export_movements_url": f"{reverse('revenue:export_movements')}?{query}",
        })
        return render(request, self.template_name, context)


class MovementsView(WorkspaceMixin, View):
    """The accounts behind one bar: the movements of a kind (and month) in the window, with amounts,
    and for churn the reason and note."""

    required_action = "revenue.view"
    template_name = "revenue/movements.html"

    def get(self, request):
        form = MovementForm(request.GET, workspace=self.workspace)
        context = {"form": form, "rows": None}
        if form.is_valid():
            data = form.cleaned_data
            rows = movement_rows(self.workspace, data["start"], data["end"], kind=data["kind"] or None,
                                 step_start=data["step"])
            query = _window_query(data["start"], data["end"], kind=data["kind"] or None,
                                  step=data["step"].isoformat() if data["step"] else None)
            context.update({
                "form": form, "rows": rows, "data": data, "kind_label": kind_labels().get(data["kind"], ""),
                "total": sum((row["amount"] for row in rows), 0), "kinds": kind_labels(),
                "back_url": f"{reverse('revenue:overview')}?{_window_query(data['start'], data['end'])}",
                "export_url": f"{reverse('revenue:export_movements')}?{query}",
            })
        return render(request, self.template_name, context)


def _with_previous(churn, before):
    """Churn by reason with each reason's figures of the previous window beside (reasons of either)."""
    earlier = {row["code"]: row for row in before["rows"]}
    rows = [{**row, "previous_mrr": earlier.get(row["code"], {}).get("mrr", 0),
             "previous_logos": earlier.get(row["code"], {}).get("logos", 0)} for row in churn["rows"]]
    seen = {row["code"] for row in rows}
    rows += [{**row, "mrr": 0, "logos": 0, "previous_mrr": row["mrr"], "previous_logos": row["logos"]}
             for row in before["rows"] if row["code"] not in seen]
    return {**churn, "rows": rows, "previous": before}


def _bad_request(form):
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")


class MovementsExportView(WorkspaceMixin, View):
    required_action = "revenue.view"

    def get(self, request):
        form = MovementForm(request.GET, workspace=self.workspace)
        if not form.is_valid():
            return _bad_request(form)
        data = form.cleaned_data
        rows = movement_rows(self.workspace, data["start"], data["end"], kind=data["kind"] or None,
                             step_start=data["step"])
        labels = kind_labels()
        headers = [_("Month starting"), _("Until"), _("Account"), _("Account ID"), _("Movement"),
                   _("Amount (MRR)"), _("MRR before"), _("MRR after"), _("CSM"), _("Churn reason"), _("Churn note")]
        table = [[row["start"], row["end"], row["account_name"], row["account_id"], labels[row["kind"]],
                  row["amount"], row["before"], row["after"], row["owner_name"],
                  row["churn_reason_name"] if row["kind"] == "churn" else "",
                  row["churn_note"] if row["kind"] == "churn" else ""] for row in rows]
        return spreadsheet_response(headers, table,
                                    filename=f"revenue-movements-{data['start'].isoformat()}-{data['end'].isoformat()}")


class BreakdownExportView(WorkspaceMixin, View):
    required_action = "revenue.view"

    def get(self, request):
        form = BreakdownForm(request.GET, workspace=self.workspace)
        if not form.is_valid():
            return _bad_request(form)
        data = form.cleaned_data
        by = data["by"] or "segment"
        rows = breakdown(self.workspace, data["start"], data["end"], by)
        headers = [breakdown_titles()[by], _("Start MRR"), _("End MRR"), _("Accounts on start"),
                   _("Accounts on end"), _("Retained MRR"), _("NRR"), _("Logo churn"), _("Churned MRR"),
                   _("Downsell MRR"), _("MRR churn incl. downsell"), _("GRR"), _("Expansion MRR"), _("New MRR")]
        table = [[row["label"], row["start_mrr"], row["end_mrr"], row["start_logos"], row["end_logos"],
                  row["retained_mrr"], _ratio_cell(row["nrr"]), _ratio_cell(row["logo_churn"]), row["churned_mrr"],
                  row["downsell_mrr"], _ratio_cell(row["mrr_churn"]), _ratio_cell(row["grr"]),
                  row["expansion_mrr"], row["new_mrr"]] for row in rows]
        return spreadsheet_response(
            headers, table, filename=f"revenue-{by}-{data['start'].isoformat()}-{data['end'].isoformat()}")


def _ratio_cell(value):
    return None if value is None else round(value, 4)
