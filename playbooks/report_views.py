"""The playbook report page and its downloads. Every member of the workspace reads them.

The figures come from playbooks.reports; this module only reads the question from the query string,
lays out the chart and writes the tables.
"""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from ui.spreadsheets import spreadsheet_response
from workspaces.pages import WorkspaceMixin

from .reports import (
    HORIZONS,
    MIN_N,
    SNAPSHOT_LOOKBACK_DAYS,
    ReportQueryForm,
    csm_columns,
    csm_rows,
    default_period,
    playbook_columns,
    playbook_report,
    playbook_rows,
)

CHART_WIDTH, CHART_HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 190, 36, 10, 16, 36


def health_chart(outcomes):
    """Bars of the average health change, enrolled beside comparison, at each horizon: the geometry
    of a server-drawn SVG (templates/playbooks/report_chart.html). A group on fewer than MIN_N
    accounts has no bar, and says so. None when no bar can be drawn."""
    bars = []
    for horizon_index, horizon in enumerate(HORIZONS):
        for group_index, group in enumerate(("enrolled", "comparison")):
            outcome = outcomes[group][horizon_index]
            bars.append({"horizon": horizon, "group": group, "value": outcome["health_change"],
                         "n": outcome["health_n"], "slot": horizon_index * 2 + group_index})
    values = [bar["value"] for bar in bars if bar["value"] is not None]
    if not values:
        return None
    low, high = min([0.0, *values]), max([0.0, *values])
    if low == high:
        high = low + 1
    plot_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(value):
        return PAD_TOP + plot_h * (high - value) / (high - low)

    # Four slots, with a gap between the horizons.
    slot = plot_w / 5
    zero = y(0)
    for bar in bars:
        bar["x"] = PAD_LEFT + (bar["slot"] + (1 if bar["slot"] >= 2 else 0)) * slot + slot * 0.15
        bar["width"] = slot * 0.7
        bar["center"] = bar["x"] + bar["width"] / 2
        if bar["value"] is None:  # no bar: say why (too few accounts, or none yet)
            bar.update(top=zero - 12, height=0, label_y=zero - 4,
                       text=_("n too small") if bar["n"] else _("no data yet"))
            continue
        bar["text"] = f"{bar['value']:+.1f}"
        top, bottom = sorted([y(bar["value"]), zero])
        bar.update(top=top, height=max(bottom - top, 1), label_y=top - 4 if bar["value"] >= 0 else bottom + 11)
    groups = [{"horizon": h, "center": PAD_LEFT + (i * 3 + 1) * slot} for i, h in enumerate(HORIZONS)]
    description = "; ".join(
        _("%(group)s +%(days)s days: %(value)s (n=%(n)s)") % {
            "group": _("Enrolled") if bar["group"] == "enrolled" else _("Comparison"), "days": bar["horizon"],
            "value": bar["text"], "n": bar["n"]}
        for bar in bars)
    return {"bars": bars, "groups": groups, "zero": zero, "left": PAD_LEFT, "right": CHART_WIDTH - PAD_RIGHT,
            "width": CHART_WIDTH, "height": CHART_HEIGHT, "axis_y": CHART_HEIGHT - 8, "low": low, "high": high,
            "low_y": y(low) + 3, "high_y": y(high) + 3, "zero_label": low < 0 < high, "zero_y": zero + 3,
            "description": description}


def outcome_pairs(outcomes):
    """The outcome table's columns: per horizon, enrolled then comparison (absent: no comparison group)."""
    absent = outcomes["comparison_size"] == 0
    return [{"horizon": enrolled["horizon"], "groups": [enrolled, {**comparison, "absent": absent}]}
            for enrolled, comparison in zip(outcomes["enrolled"], outcomes["comparison"], strict=True)]


def _report_or_errors(view, request):
    form = ReportQueryForm(request.GET or None, workspace=view.workspace)
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if request.GET else {}
    start, end = default_period(workspace=view.workspace, start=data.get("start"), end=data.get("end"))
    return form, playbook_report(workspace=view.workspace, start=start, end=end, playbook=data.get("playbook"))


class PlaybookReportView(WorkspaceMixin, View):
    template_name = "playbooks/report.html"

    def get(self, request):
        form, report = _report_or_errors(self, request)
        if report is not None:
            for item in report["playbooks"]:
                item["chart"] = health_chart(item["outcomes"])
                item["pairs"] = outcome_pairs(item["outcomes"])
            if not request.GET:  # the form shows the period the report is about
                form = ReportQueryForm(initial={"start": report["start"], "end": report["end"]},
                                       workspace=self.workspace)
        return render(request, self.template_name, {
            "form": form, "report": report, "min_n": MIN_N, "lookback": SNAPSHOT_LOOKBACK_DAYS,
            "export_url": _with_query(reverse("playbook_report:export"), request),
            "export_csm_url": _with_query(reverse("playbook_report:export_csm"), request),
        })


def _with_query(url, request):
    """The download of the table the page shows: the same question."""
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


class _ReportExport(WorkspaceMixin, View):
    """A download of one of the report's tables, for the same question as the page."""

    def get(self, request):
        form, report = _report_or_errors(self, request)
        if report is None:
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
        columns, rows = self.table(report)
        stamp = f"{report['start'].isoformat()}-{report['end'].isoformat()}"
        return spreadsheet_response([header for _key, header in columns],
                                    [[row[key] for key, _header in columns] for row in rows],
                                    filename=f"{self.filename}-{stamp}")


class PlaybookReportExportView(_ReportExport):
    filename = "playbook-report"

    def table(self, report):
        return playbook_columns(), playbook_rows(report)


class CsmReportExportView(_ReportExport):
    filename = "playbook-report-csm"

    def table(self, report):
        return csm_columns(), csm_rows(report)
