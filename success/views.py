"""Success pages: the plans by state, an account's plan (objectives, workflow, history), its printable
report card, the level definitions, and KPT notes per period."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Account
from ui.spreadsheets import spreadsheet_response
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .filtersets import PlanFilterSet
from .forms import CommentForm, KptNoteForm, LevelForm, ObjectiveForm, PlanForm
from .models import KptNote, Objective, PeriodKind, PlanStatus

PAGE_SIZE = 50


class PlanListView(WorkspaceMixin, TemplateView):
    """Every plan, submitted ones (waiting for a manager) first; filterable like the API."""

    template_name = "success/plan_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = self.request.GET.get("sort") or "status"
        sort = sort if sort in selectors.PLAN_ORDERINGS else "status"
        filterset = PlanFilterSet(self.request.GET, queryset=None, request=self.request)
        plans = selectors.plan_list(workspace=self.workspace, filters=self.request.GET, request=self.request,
                                    ordering=sort)
        context.update(filter=filterset, sort=sort, statuses=PlanStatus.choices,
                       page_obj=Paginator(plans, PAGE_SIZE).get_page(self.request.GET.get("page")),
                       filtered=any(self.request.GET.get(k) for k in ("q", "status", "owner")))
        return context


class PlanExportView(WorkspaceMixin, View):
    def get(self, request):
        plans = selectors.plan_list(workspace=self.workspace, filters=request.GET, request=request,
                                    ordering=request.GET.get("sort") or "status")
        headers = [_("Account"), _("CSM"), _("Status"), _("Objectives"), _("Achieved"), _("Gap"), _("Submitted"),
                   _("Updated")]
        return spreadsheet_response(headers, (
            [p.account.name, p.account.owner.display_name if p.account.owner else "", p.get_status_display(),
             p.objective_count, p.achieved_count, p.gap, p.submitted_at, p.updated_at] for p in plans
        ), filename="success-plans")


class AccountPlanMixin(WorkspaceMixin):
    """Pages under an account: the URL's pk is the account's."""

    model = Account

    def policy_object(self):
        return self.get_object()

    def plan_or_404(self, account):
        plan = selectors.plan_of(workspace=self.workspace, account=account)
        if plan is None:
            raise Http404(_("This account has no success plan yet."))
        return plan


class PlanDetailView(AccountPlanMixin, TemplateView):
    template_name = "success/plan_detail.html"

    def get_context_data(self, objective_form=None, comment_form=None, plan_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.get_object()
        plan = selectors.plan_of(workspace=self.workspace, account=account)
        can_edit = allows(self.actor, "success.edit_plan", account)
        context.update(account=account, plan=plan, can_edit=can_edit,
                       can_approve=allows(self.actor, "success.approve_plan"),
                       levels=selectors.levels(workspace=self.workspace), panels=settings.SUCCESS_PLAN_PANELS,
                       objective_form=objective_form or ObjectiveForm(), comment_form=comment_form or CommentForm())
        if plan is not None:
            objectives = list(plan.objectives.all())
            context.update(objectives=objectives, figures=selectors.plan_figures(plan),
                           history=selectors.plan_history(plan=plan),
                           plan_form=plan_form or PlanForm(initial={"summary": plan.summary}),
                           editable=can_edit,
                           objective_forms=[(o, ObjectiveForm(initial={
                               "text": o.text, "kpi": o.kpi, "target_date": o.target_date,
                               "objective_level": o.objective_level, "achievement_level": o.achievement_level},
                               prefix=f"o{o.pk}")) for o in objectives])
        return context

    def render_errors(self, **forms):
        return render(self.request, self.template_name, self.get_context_data(**forms), status=400)


class PlanActionView(AccountPlanMixin, View):
    """POST actions on an account's plan: create, summary, add objective, submit, approve, request
    changes, comment. Each names its policy action; the service checks it again with the object."""

    policy_actions = {"post": "success.edit_plan"}
    action = None

    def post(self, request, pk):
        account = self.get_object()
        view = PlanDetailView()
        view.setup(request, pk=pk)
        view.workspace, view.membership = self.workspace, self.membership
        try:
            if self.action == "create":
                services.create_plan(workspace=self.workspace, actor=self.actor, account=account)
                messages.success(request, _("Success plan created."))
            elif self.action == "summary":
                form = PlanForm(request.POST)
                if not form.is_valid():
                    return view.render_errors(plan_form=form)
                services.update_plan(plan=self.plan_or_404(account), actor=self.actor,
                                     summary=form.cleaned_data["summary"])
                messages.success(request, _("Plan saved."))
            elif self.action == "objective":
                form = ObjectiveForm(request.POST)
                if not form.is_valid():
                    return view.render_errors(objective_form=form)
                try:
                    services.save_objective(plan=self.plan_or_404(account), actor=self.actor, **form.cleaned_data)
                except SERVICE_ERRORS as exc:
                    show_on_form(form, exc)
                    return view.render_errors(objective_form=form)
                messages.success(request, _("Objective saved."))
            else:
                form = CommentForm(request.POST)
                form.is_valid()
                comment = form.cleaned_data.get("comment", "")
                plan = self.plan_or_404(account)
                try:
                    if self.action == "submit":
                        services.submit_plan(plan=plan, actor=self.actor, comment=comment)
                        messages.success(request, _("Plan submitted for approval."))
                    elif self.action == "approve":
                        services.approve_plan(plan=plan, actor=self.actor, comment=comment)
                        messages.success(request, _("Plan approved."))
                    elif self.action == "request_changes":
                        services.request_changes(plan=plan, actor=self.actor, comment=comment)
                        messages.success(request, _("Changes requested."))
                    else:
                        services.comment_plan(plan=plan, actor=self.actor, comment=comment)
                        messages.success(request, _("Comment added."))
                except SERVICE_ERRORS as exc:
                    show_on_form(form, exc)
                    return view.render_errors(comment_form=form)
        except SERVICE_ERRORS as exc:
            messages.error(request, getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("success:plan", pk=account.pk)
        return redirect("success:plan", pk=account.pk)


class ApprovalActionView(PlanActionView):
    policy_actions = {"post": "success.approve_plan"}


class ObjectiveView(WorkspaceMixin, View):
    """Change (POST) or delete (POST …/delete/) one objective."""

    model = Objective
    policy_actions = {"post": "success.edit_plan"}
    removing = False

    def get_queryset(self):
        return super().get_queryset().select_related("plan__account")

    def policy_object(self):
        return self.get_object().plan.account

    def post(self, request, pk):
        objective = self.get_object()
        account = objective.plan.account
        if self.removing:
            try:
                services.delete_objective(objective=objective, actor=self.actor)
            except SERVICE_ERRORS as exc:
                messages.error(request, getattr(exc, "message", str(exc)))
            else:
                messages.success(request, _("Objective removed."))
            return redirect("success:plan", pk=account.pk)
        form = ObjectiveForm(request.POST, prefix=f"o{objective.pk}")
        if form.is_valid():
            try:
                services.save_objective(plan=objective.plan, actor=self.actor, objective=objective,
                                        **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Objective saved."))
                return redirect("success:plan", pk=account.pk)
        messages.error(request, "; ".join(f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}"
                                          for f, e in form.errors.items()))
        return redirect("success:plan", pk=account.pk)


def _day(value, default):
    try:
        day = parse_date(value or "")
    except ValueError:
        day = None
    return day if day and dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31) else default


class ReportCardView(AccountPlanMixin, TemplateView):
    """The report card (成績表) of an account for a period: printable, the browser makes the PDF."""

    template_name = "success/report_card.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.get_object()
        today = self.workspace.today()
        start, end = selectors.default_period(workspace=self.workspace, account=account, today=today)
        start = _day(self.request.GET.get("start"), start)
        end = _day(self.request.GET.get("end"), end)
        if start > end:
            start, end = end, start
        if (end - start).days > 366:
            start = end - dt.timedelta(days=366)
        card = selectors.report_card(workspace=self.workspace, account=account, start=start, end=end, today=today)
        context.update(account=account, card=card, chart=selectors.usage_chart(card["series"]), today=today,
                       levels=selectors.levels(workspace=self.workspace), panels=settings.SUCCESS_PLAN_PANELS,
                       plan=card["plan"])
        return context


class LevelsView(WorkspaceMixin, TemplateView):
    """The workspace's level definitions (1-4); managers rewrite them."""

    template_name = "success/levels.html"
    policy_actions = {"post": "success.manage_levels"}

    def get_context_data(self, forms=None, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = selectors.levels(workspace=self.workspace)
        if forms is None:
            forms = [(n, LevelForm(prefix=f"l{n}", initial={"name": rows[n].name, "description": rows[n].description}
                                   if n in rows else {})) for n in (1, 2, 3, 4)]
        context.update(forms=forms, can_manage=allows(self.actor, "success.manage_levels"))
        return context

    def post(self, request):
        forms = [(n, LevelForm(request.POST, prefix=f"l{n}")) for n in (1, 2, 3, 4)]
        if all(form.is_valid() for _n, form in forms):
            for n, form in forms:
                services.save_level(workspace=self.workspace, actor=self.actor, level=n, **form.cleaned_data)
            messages.success(request, _("Level definitions saved."))
            return redirect("success:levels")
        return render(request, self.template_name, self.get_context_data(forms=forms), status=400)


class KptView(WorkspaceMixin, TemplateView):
    """This period's KPT notes beside the previous period's, and the form to add one."""

    template_name = "success/kpt.html"
    policy_actions = {"post": "success.write_kpt"}

    def period(self):
        kind = self.request.GET.get("period") or PeriodKind.MONTH
        kind = kind if kind in PeriodKind.values else PeriodKind.MONTH
        return kind, _day(self.request.GET.get("day"), self.workspace.today())

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        kind, day = self.period()
        comparison = selectors.kpt_comparison(workspace=self.workspace, period_kind=kind, day=day)
        context.update(cmp=comparison, period_kinds=PeriodKind.choices, period=kind,
                       form=form or KptNoteForm(workspace=self.workspace, initial={
                           "period_kind": kind, "period_start": comparison["start"]}))
        return context

    def post(self, request):
        form = KptNoteForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                note = services.save_note(workspace=self.workspace, actor=self.actor, **form.service_fields())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Note added."))
                return redirect(f"{request.path}?period={note.period_kind}&day={note.period_start.isoformat()}")
        return render(request, self.template_name, self.get_context_data(form=form), status=400)


class KptEditView(WorkspaceMixin, View):
    model = KptNote
    policy_actions = {"get": "success.change_kpt", "post": "success.change_kpt"}
    template_name = "success/kpt_form.html"

    def get(self, request, pk):
        note = self.get_object()
        form = KptNoteForm(workspace=self.workspace, initial={
            "period_kind": note.period_kind, "period_start": note.period_start, "kind": note.kind, "text": note.text,
            "segment": note.segment_id, "playbook": note.playbook_id})
        return render(request, self.template_name, {"form": form, "note": note})

    def post(self, request, pk):
        note = self.get_object()
        if request.POST.get("delete"):
            services.delete_note(note=note, actor=self.actor)
            messages.success(request, _("Note deleted."))
            return redirect(f"{redirect('success:kpt').url}?period={note.period_kind}&day={note.period_start}")
        form = KptNoteForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                note = services.save_note(workspace=self.workspace, actor=self.actor, note=note,
                                          **form.service_fields())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Note saved."))
                return redirect(f"{redirect('success:kpt').url}?period={note.period_kind}&day={note.period_start}")
        return render(request, self.template_name, {"form": form, "note": note}, status=400)
