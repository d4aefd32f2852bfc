"""Lifecycle pages: the stage distribution against targets (with the stuck accounts), the usage
levels report (per-level churn, Lv2+ by tenure), the levels' definitions, and their CSV exports."""

from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from ui.spreadsheets import spreadsheet_response
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .computation import levels_on
from .forms import LevelsForm, WeeksForm
from .rules import describe_rules

PAGE_SIZE = 50


def _weeks(request):
    form = WeeksForm(request.GET)
    return form, (form.weeks_or_default() if form.is_valid() else selectors.DEFAULT_WEEKS)


def distribution_chart(report):
    labels = [d.strftime("%m/%d") for d in report["days"]]
    series = [{"name": row["stage"].name, "points": [p["share"] for p in row["points"]]} for row in report["rows"]]
    return {"labels": labels, "series": series}


class StageDistributionView(WorkspaceMixin, TemplateView):
    template_name = "lifecycle/stages.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form, weeks = _weeks(self.request)
        today = self.workspace.today()
        report = selectors.stage_distribution(workspace=self.workspace, today=today, weeks=weeks)
        stuck = selectors.stuck_accounts(workspace=self.workspace, today=today)
        context.update(form=form, report=report, chart=distribution_chart(report), weeks=weeks,
                       stuck_page=Paginator(stuck, PAGE_SIZE).get_page(self.request.GET.get("page")),
                       stuck_total=len(stuck), has_thresholds=any(r["stage"].stuck_after_days for r in report["rows"]),
                       can_manage=allows(self.actor, "accounts.manage_stages"), today=today)
        return context


class StageDistributionExportView(WorkspaceMixin, View):
    def get(self, request):
        _form, weeks = _weeks(request)
        report = selectors.stage_distribution(workspace=self.workspace, today=self.workspace.today(), weeks=weeks)
        headers = [_("Week ending"), _("Stage"), _("Accounts"), _("Active accounts"), _("Share (percent)"),
                   _("Target share (percent)")]
        rows = [[p["day"].isoformat(), row["stage"].name, p["count"], total, p["share"], row["target"]]
                for row in report["rows"] for p, total in zip(row["points"], report["totals"], strict=True)]
        return spreadsheet_response(headers, rows, filename="stage-distribution")


class StuckExportView(WorkspaceMixin, View):
    def get(self, request):
        stuck = selectors.stuck_accounts(workspace=self.workspace, today=self.workspace.today())
        headers = [_("Account"), _("Stage"), _("Owner"), _("In the stage since"), _("Days in the stage"),
                   _("Stuck after (days)")]
        rows = [[r["account"].name, r["stage"].name, r["owner"].display_name if r["owner"] else "",
                 r["entered"].isoformat(), r["days"], r["threshold"]] for r in stuck]
        return spreadsheet_response(headers, rows, filename="stuck-accounts")


class LevelReportView(WorkspaceMixin, TemplateView):
    template_name = "lifecycle/levels.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = self.workspace.today()
        churn = selectors.level_churn(workspace=self.workspace, today=today)
        tenure = selectors.lv2_by_tenure(workspace=self.workspace, today=today)
        counts = selectors.current_level_counts(workspace=self.workspace)
        levels = selectors.level_definitions(workspace=self.workspace)
        context.update(
            churn=churn, tenure=tenure, can_manage=allows(self.actor, "lifecycle.manage_levels"),
            levels=[{"level": level, "rules": describe_rules(level.rules), "count": counts.get(level.number, 0)}
                    for level in levels],
            total=sum(counts.values()),
            tenure_bars=[{"label": r["label"], "value": r["share"]} for r in tenure["rows"] if r["share"] is not None],
            churn_bars=[{"label": f"Lv{r['level']}", "value": r["rate"]} for r in churn["rows"]
                        if r["rate"] is not None])
        return context


class LevelEditView(WorkspaceMixin, View):
    required_action = "lifecycle.manage_levels"
    template_name = "lifecycle/levels_edit.html"

    def render(self, form, preview=None, status=200):
        return render(self.request, self.template_name, {"form": form, "preview": preview}, status=status)

    def get(self, request):
        return self.render(LevelsForm(levels=selectors.level_definitions(workspace=self.workspace)))

    def post(self, request):
        form = LevelsForm(request.POST, levels=selectors.level_definitions(workspace=self.workspace))
        if not form.is_valid():
            return self.render(form, status=400)
        levels = form.levels()
        try:
            clean = services.clean_levels(levels)
            if "preview" in request.POST:
                return self.render(form, preview=preview_counts(self.workspace, clean))
            services.save_levels(workspace=self.workspace, actor=self.actor, levels=levels)
        except SERVICE_ERRORS as exc:
            show_on_form(form, exc)
            return self.render(form, status=400)
        messages.success(request, _("Usage levels saved. The next nightly run assigns accounts with them."))
        return redirect("lifecycle:levels")


def preview_counts(workspace, clean_levels):
    """[(number, name, accounts at it today)] with the given (unsaved) definitions."""
    definitions = {level["number"]: level["rules"] for level in clean_levels}
    assigned = Counter(levels_on(workspace=workspace, day=workspace.today(), definitions=definitions).values())
    return [(level["number"], level["name"], assigned.get(level["number"], 0)) for level in clean_levels]


class LevelChurnExportView(WorkspaceMixin, View):
    def get(self, request):
        churn = selectors.level_churn(workspace=self.workspace, today=self.workspace.today())
        headers = [_("Level"), _("Observations"), _("Accounts"), _("Churned within 90 days"), _("Churn rate (percent)")]
        rows = [[r["name"], r["observations"], r["accounts"], r["churned"], r["rate"]] for r in churn["rows"]]
        return spreadsheet_response(headers, rows, filename="level-churn")


class TenureExportView(WorkspaceMixin, View):
    def get(self, request):
        tenure = selectors.lv2_by_tenure(workspace=self.workspace, today=self.workspace.today())
        headers = [_("Months since contract start"), _("Observations"), _("Accounts"), _("At Lv2 or above"),
                   _("Share at Lv2 or above (percent)")]
        rows = [[r["label"], r["observations"], r["accounts"], r["lv2"], r["share"]] for r in tenure["rows"]]
        return spreadsheet_response(headers, rows, filename="lv2-by-tenure")
