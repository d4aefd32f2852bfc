"""Coverage pages: the report and its drill-down, the CSM due list, the priority matrix, and the
touch-model settings (thresholds, bands, cadence policies, pins). Views parse input and check
roles; selectors read, services write.
"""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Account, Channel
from ui.spreadsheets import spreadsheet_response
from workspaces.errors import DomainError
from workspaces.owners import choose_owner
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows
from workspaces.selectors import workspace_members

from . import selectors, services
from .filtersets import CoverageSnapshotFilterSet
from .forms import CadencePolicyForm, CadenceRuleFormSet, PinForm, TouchModelForm
from .models import CadencePolicy


def invalid_filters_text(filterset):
    """"Segment: Select a valid choice…" per invalid filter, one a line."""
    return "\n".join(f"{filterset.form.fields[name].label}: {' '.join(errors)}"
                     for name, errors in filterset.errors.items())


def parse_as_of(request, workspace):
    """The day a report shows: ?as_of=YYYY-MM-DD, else the newest computed day (not after today)."""
    raw = request.GET.get("as_of", "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            messages.error(request, _("%(value)s is not a date (YYYY-MM-DD); showing the latest day.") % {"value": raw})
    return selectors.latest_day(workspace=workspace, on_or_before=workspace.today())



# --- Coverage -------------------------------------------------------------------------------------
def coverage_filters(request):
    """(filterset, filters): the report filters of the request, `filters` None when none is given.

    A value that names nothing (a deleted segment, someone outside the workspace, an unknown
    tier, "maybe" for a yes/no) is an error on the form — the page shows it and no figures —
    never a silent "the whole workspace". `filterset.errors` is then non-empty.
    """
    filterset = CoverageSnapshotFilterSet(request.GET or None, queryset=None, request=request)
    if not filterset.is_bound:
        return filterset, None
    filterset.is_valid()
    return filterset, request.GET


class FilteredPageMixin:
    """Pages whose filters were invalid answer 400 with the form and its errors."""

    def render_to_response(self, context, **kwargs):
        form = context.get("filter_form")
        if form is not None and form.errors:
            kwargs.setdefault("status", 400)
        return super().render_to_response(context, **kwargs)


class CoverageReportView(FilteredPageMixin, WorkspaceMixin, TemplateView):
    template_name = "coverage/coverage_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        day = parse_as_of(self.request, self.workspace)
        context.update(day=day, can_recompute=allows(self.actor, "pipeline.recompute"))
        if day is None:
            return context
        filterset, filters = coverage_filters(self.request)
        context.update(filter_form=filterset.form, query=self.request.GET.urlencode())
        if filterset.errors:
            return context
        # The per-CSM report's total is the whole report: one read serves both.
        by_csm = selectors.coverage_report(workspace=self.workspace, day=day, group_by="csm", filters=filters,
                                           request=self.request)
        context.update(
            report=by_csm,
            by_csm=by_csm["groups"],
            by_tier=selectors.coverage_report(workspace=self.workspace, day=day, group_by="tier", filters=filters,
                                              request=self.request)["groups"],
            # An account counts once in each segment it is in: these rows may add up to more than
            # the total, and accounts in no segment are in none of them.
            by_segment=selectors.coverage_report(workspace=self.workspace, day=day, group_by="segment",
                                                 filters=filters, request=self.request)["groups"],
            trend=selectors.coverage_trend(workspace=self.workspace, day=day, filters=filters, request=self.request),
            breaking=selectors.breaking_accounts(workspace=self.workspace, day=day, filters=filters,
                                                 request=self.request)[:10],
        )
        return context


CSV_COLUMNS = ["account", "account_id", "external_id", "owner", "tier", "cell", "arr", "last_touch_on",
               "days_since_last_touch", "due_date", "overdue_days", "broken_rule", "policy"]


class CoverageAccountsView(FilteredPageMixin, WorkspaceMixin, TemplateView):
    """The accounts that break coverage on a day (drill-down), as a page or as CSV."""

    template_name = "coverage/coverage_accounts.html"

    def get(self, request, *args, **kwargs):
        day = parse_as_of(request, self.workspace)
        filterset, filters = coverage_filters(request)
        rows = (selectors.breaking_accounts(workspace=self.workspace, day=day, filters=filters, request=request)
                if day and not filterset.errors else None)
        if request.GET.get("format") == "csv":
            if filterset.errors:
                return HttpResponseBadRequest(invalid_filters_text(filterset), content_type="text/plain; charset=utf-8")
            return self.csv(rows, day)
        page = Paginator(rows if rows is not None else [], 50).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        return self.render_to_response(self.get_context_data(
            day=day, page_obj=page, rows=page.object_list, filter_form=filterset.form, query=params.urlencode(),
        ))

    def csv(self, rows, day):
        # Account names and summaries are typed by people: the shared writer guards formulas.
        table = (
            [r.account.name, r.account_id, r.account.external_id, r.owner.display_name if r.owner else "", r.tier,
             r.cell, r.arr, r.last_touch_on, r.days_since_last_touch, r.due_date, r.overdue_days, r.broken_rule,
             r.policy_name]
            for r in (rows.iterator(chunk_size=2000) if rows is not None else [])
        )
        return spreadsheet_response(CSV_COLUMNS, table, filename=f"coverage-gaps-{day or 'none'}")


class DueListView(WorkspaceMixin, TemplateView):
    """A CSM's morning list: my accounts overdue or falling due within two weeks.

    A manager sees the whole team's by default, and may pick "Unassigned" or one member
    (workspaces.owners); everyone else sees their own.
    """

    template_name = "coverage/due_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        day = parse_as_of(self.request, self.workspace)
        may_see_any = allows(self.actor, "coverage.see_any_due_list")
        choice = choose_owner(self.request.GET.get("owner"), membership=self.membership, may_see_any=may_see_any)
        rows = list(selectors.due_list(workspace=self.workspace, owner=choice.owner, day=day)) if day else []
        context.update(day=day, owner=choice.member, owner_choice=choice, rows=rows,
                       members=workspace_members(workspace=self.workspace) if may_see_any else None,
                       overdue=sum(1 for r in rows if not r.covered))
        return context


class MatrixView(FilteredPageMixin, WorkspaceMixin, TemplateView):
    template_name = "coverage/matrix.html"
    policy_actions = {"post": "coverage.manage"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        day = parse_as_of(self.request, self.workspace)
        filterset, filters = coverage_filters(self.request)
        context.update(day=day, can_mark=allows(self.actor, "coverage.manage"), filter_form=filterset.form,
                       query=self.request.GET.urlencode())
        if day and not filterset.errors:
            context["matrix"] = selectors.matrix(workspace=self.workspace, day=day, filters=filters,
                                                 request=self.request)
        return context

    def post(self, request):
        cell = request.POST.get("cell", "")
        try:
            services.set_must_not_lose(workspace=self.workspace, actor=self.actor, cell=cell,
                                       must_not_lose=request.POST.get("must_not_lose") == "1")
        except SERVICE_ERRORS as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        return redirect(reverse("coverage:matrix") + (f"?as_of={request.POST['as_of']}" if request.POST.get("as_of") else ""))


# --- Touch model settings -------------------------------------------------------------------------
class TouchModelView(WorkspaceMixin, View):
    """Tiers & cadence: thresholds, matrix bands, policies and pins. Everyone reads; managers edit."""

    template_name = "coverage/touch_model.html"
    policy_actions = {"post": "coverage.manage"}

    def render(self, form, status=200):
        return render(self.request, self.template_name, {
            "form": form, "can_edit": allows(self.actor, "coverage.manage"),
            "policies": selectors.cadence_policies(workspace=self.workspace),
            "pins": selectors.tier_pins(workspace=self.workspace),
            "tier_counts": selectors.tier_counts(workspace=self.workspace),
            "suggested_rules": services.SUGGESTED_RULES,
            "matrix_users_label": selectors.touch_model_of(workspace=self.workspace).get_matrix_users_display(),
        }, status=status)

    def get(self, request):
        touch_model = selectors.touch_model_of(workspace=self.workspace)
        return self.render(TouchModelForm(initial={
            "high_min_arr": touch_model.high_min_arr, "low_min_arr": touch_model.low_min_arr,
            "seat_bands": services.format_bands(touch_model.seat_bands),
            "tenure_bands": services.format_bands(touch_model.tenure_bands),
            "matrix_users": touch_model.matrix_users,
        }))

    def post(self, request):
        form = TouchModelForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_touch_model(
                    workspace=self.workspace, actor=self.actor,
                    high_min_arr=data["high_min_arr"], low_min_arr=data["low_min_arr"],
                    seat_bands=services.parse_bands(data["seat_bands"], "seat_bands"),
                    tenure_bands=services.parse_bands(data["tenure_bands"], "tenure_bands"),
                    **({"matrix_users": data["matrix_users"]} if data.get("matrix_users") else {}),
                )
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Saved. Tiers and the matrix change with the next recomputation."))
                return redirect("coverage:touch_model")
        return self.render(form, status=400)


class CadencePolicyFormView(WorkspaceMixin, View):
    model = CadencePolicy
    required_action = "coverage.manage"
    template_name = "coverage/policy_form.html"

    def render(self, form, formset, policy, status=200):
        return render(self.request, self.template_name, {
            "form": form, "formset": formset, "policy": policy, "suggested_rules": services.SUGGESTED_RULES,
        }, status=status)

    def get(self, request, pk=None):
        policy = self.get_object_or_none()
        tier = policy.tier if policy else ""
        initial = {"name": policy.name, "segment": policy.segment, "priority": policy.priority,
                   "max_gap_days": policy.max_gap_days, "channels": policy.channels} if policy else {
            "channels": services.ONE_TO_ONE_CHANNELS, "max_gap_days": 60, "priority": 100}
        rules = [{"name": r.name, "channels": r.channels, "contact_role": r.contact_role,
                  "max_gap_days": r.max_gap_days} for r in policy.rules.all()] if policy else []
        if not rules and request.GET.get("suggest") == "1":
            rules = [dict(r) for r in services.SUGGESTED_RULES]
        form = CadencePolicyForm(initial=initial, workspace=self.workspace, tier=tier)
        return self.render(form, CadenceRuleFormSet(initial=rules, prefix="rules"), policy)

    def post(self, request, pk=None):
        policy = self.get_object_or_none()
        tier = policy.tier if policy else ""
        form = CadencePolicyForm(request.POST, workspace=self.workspace, tier=tier)
        formset = CadenceRuleFormSet(request.POST, prefix="rules")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            rules = [f.cleaned_data for f in formset.forms
                     if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("name")]
            for rule in rules:
                rule.pop("DELETE", None)
            try:
                services.save_cadence_policy(
                    workspace=self.workspace, actor=self.actor, policy=policy, name=data["name"], tier=tier,
                    segment=data.get("segment"), priority=100 if tier else (data.get("priority") or 0),
                    max_gap_days=data["max_gap_days"], channels=data["channels"], rules=rules,
                )
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Cadence policy saved. Coverage follows at the next recomputation."))
                return redirect("coverage:touch_model")
        return self.render(form, formset, policy, status=400)


class CadencePolicyDeleteView(WorkspaceMixin, View):
    model = CadencePolicy
    required_action = "coverage.manage"

    def post(self, request, pk):
        policy = self.get_object()
        try:
            services.delete_cadence_policy(policy=policy, actor=self.actor)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Cadence policy deleted."))
        return redirect("coverage:touch_model")


class TierPinView(WorkspaceMixin, View):
    model = Account
    pk_url_kwarg = "account_pk"
    """Pin (or, with unpin=1, release) an account's tier, from the coverage panel on its page."""

    required_action = "coverage.manage"

    def post(self, request, account_pk):
        account = self.get_object()
        back = reverse("accounts:detail", args=[account.pk]) + "#coverage"
        if request.POST.get("unpin") == "1":
            services.unpin_tier(account=account, actor=self.actor)
            messages.success(request, _("Tier pin removed."))
            return redirect(back)
        form = PinForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a tier and give a reason to pin it."))
            return redirect(back)
        try:
            services.pin_tier(account=account, actor=self.actor, **form.cleaned_data)
        except SERVICE_ERRORS as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("Tier pinned."))
        return redirect(back)


def log_link(account_id, channel):
    """The account page's quick log form, with the channel that would cover the gap preselected."""
    if channel not in Channel.values:
        channel = Channel.PHONE
    return reverse("accounts:detail", args=[account_id]) + f"?channel={channel}#quicklog-title"
