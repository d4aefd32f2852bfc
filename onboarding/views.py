"""Onboarding pages: an account's handoff (form, completeness) and milestones (from its panel), the
incomplete handoffs and late milestones lists, the report with its CSV exports, the settings and
milestone plan, and the CSV upload. Views parse input and check roles; selectors read, services write."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from accounts.models import Account
from ui.spreadsheets import spreadsheet_response
from workspaces.models import Membership
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .forms import (
    FIELD_LABELS,
    HandoffForm,
    MilestoneDoneForm,
    ReportForm,
    SettingsForm,
    TemplateForm,
    UploadForm,
)
from .models import HANDOFF_FIELDS, Handoff, MilestoneTemplate


class HandoffView(WorkspaceMixin, View):
    """The sales → CS handoff of one account: the form, and what is still missing for it to be complete."""

    model = Account
    policy_actions = {"post": "onboarding.edit_handoff"}
    template_name = "onboarding/handoff.html"

    def context(self, account, form, handoff):
        required = selectors.required_fields(self.workspace)
        missing = handoff.missing(required) if handoff else list(required)
        return {"account": account, "form": form, "handoff": handoff, "required": required,
                "missing": [FIELD_LABELS[name] for name in missing],
                "can_edit": allows(self.actor, "onboarding.edit_handoff", account),
                "gates": selectors.settings_of(self.workspace).handoff_gates_stage}

    def get(self, request, pk):
        account = self.get_object()
        handoff = selectors.handoff_of(workspace=self.workspace, account=account)
        form = HandoffForm(instance=handoff, account=account, required=selectors.required_fields(self.workspace))
        return render(request, self.template_name, self.context(account, form, handoff))

    def post(self, request, pk):
        account = self.get_object()
        handoff = selectors.handoff_of(workspace=self.workspace, account=account)
        form = HandoffForm(request.POST, instance=handoff or Handoff(workspace=self.workspace, account=account),
                           account=account, required=selectors.required_fields(self.workspace))
        if form.is_valid():
            try:
                saved = services.save_handoff(workspace=self.workspace, actor=self.actor, account=account,
                                              **{name: form.cleaned_data.get(name) for name in HANDOFF_FIELDS})
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                if saved.completed_at:
                    messages.success(request, _("Handoff saved: complete."))
                else:
                    messages.warning(request, _("Handoff saved, still incomplete."))
                return redirect("onboarding:handoff", account.pk)
        return render(request, self.template_name, self.context(account, form, handoff), status=400)


class MilestoneDoneView(WorkspaceMixin, View):
    """Set or clear the done day of one milestone of an account (the account page's panel)."""

    model = Account
    policy_actions = {"post": "onboarding.record_milestone"}

    def post(self, request, pk):
        account = self.get_object()
        form = MilestoneDoneForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(f"{form.fields[f].label or f}: {' '.join(e)}"
                                             for f, e in form.errors.items()))
        else:
            try:
                services.record_milestone(workspace=self.workspace, actor=self.actor, account=account,
                                          key=form.cleaned_data["key"], done_on=form.cleaned_data["done_on"])
            except SERVICE_ERRORS as exc:
                messages.error(request, getattr(exc, "message", None) or " ".join(getattr(exc, "messages", [])))
            else:
                messages.success(request, _("Milestone saved."))
        return redirect("accounts:detail", account.pk)


def _owner_choice(view):
    """The owner filter: a manager picks anyone (default: everyone); others see their own accounts."""
    owner_id = view.request.GET.get("owner")
    if allows(view.actor, "onboarding.see_team"):
        if owner_id and owner_id.isdigit():
            return Membership.objects.for_workspace(view.workspace).filter(pk=int(owner_id)).first()
        return None
    return view.membership


class IncompleteHandoffsView(WorkspaceMixin, View):
    """Active accounts whose sales handoff is missing or incomplete, with their CSM and the days since
    the contract started."""

    template_name = "onboarding/incomplete.html"

    def get(self, request):
        owner = _owner_choice(self)
        accounts = selectors.incomplete_handoffs(workspace=self.workspace, owner=owner)
        page = Paginator(accounts, 50).get_page(request.GET.get("page"))
        today = self.workspace.today()
        rows = [{"account": a, "days": selectors.days_since(a.contract_start, today)} for a in page]
        return render(request, self.template_name, {
            "rows": rows, "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(),
            "owner": owner, "members": _members(self), "team": allows(self.actor, "onboarding.see_team")})


def _members(view):
    return Membership.objects.for_workspace(view.workspace).filter(is_active=True).select_related("user")


class LateMilestonesView(WorkspaceMixin, View):
    """Accounts in their first year with milestones past their target day and not done."""

    template_name = "onboarding/late.html"

    def get(self, request):
        owner = _owner_choice(self)
        rows = selectors.late_list(workspace=self.workspace, as_of=self.workspace.today(), owner=owner)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return render(request, self.template_name, {
            "rows": page, "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(),
            "owner": owner, "members": _members(self), "team": allows(self.actor, "onboarding.see_team")})


def _report(view):
    form = ReportForm(view.request.GET or None)
    months = 12
    if form.is_bound and form.is_valid():
        months = form.cleaned_data.get("months") or 12
    return form, selectors.onboarding_report(workspace=view.workspace, as_of=view.workspace.today(), months=months)


class ReportView(WorkspaceMixin, View):
    """Time to first value per cohort and tier, the share onboarded within target, late milestones per
    CSM, and the trend over months."""

    required_action = "onboarding.see_team"
    template_name = "onboarding/report.html"

    def get(self, request):
        form, report = _report(self)
        for row in report["cohorts"]:
            row["label"] = row["month"].strftime("%Y-%m")
        chart = {"labels": [row["label"] for row in report["cohorts"]],
                 "ttv": [{"name": _("Median TTV (days)"), "points": [row["median"] for row in report["cohorts"]]},
                         {"name": _("Mean TTV (days)"), "points": [row["mean"] for row in report["cohorts"]]}],
                 "on_time": [{"name": _("Onboarded within target (percent)"),
                              "points": [row["on_time_share"] for row in report["cohorts"]]}]}
        return render(request, self.template_name, {"form": form, "report": report, "chart": chart,
                                                    "status": 400 if form.errors else 200},
                      status=400 if form.errors else 200)


def report_table(report, table):
    """(headers, rows) of one of the report's tables."""
    figures = ["accounts", "reached", "median", "mean", "due", "on_time", "on_time_share"]
    if table == "cohorts":
        return ["month", *figures], [[r["month"].strftime("%Y-%m"), *[r[f] for f in figures]]
                                      for r in report["cohorts"]]
    if table == "tiers":
        return ["tier", *figures], [[r["tier"] or "-", *[r[f] for f in figures]] for r in report["tiers"]]
    keys = ["accounts", "late_milestones", "late_accounts"]
    return ["csm", *keys], [[str(r["owner"]), *[r[k] for k in keys]] for r in report["csms"]]


class ReportExportView(WorkspaceMixin, View):
    required_action = "onboarding.see_team"

    def get(self, request, table):
        if table not in ("cohorts", "tiers", "csms"):
            return render(request, "404.html", status=404)
        _form, report = _report(self)
        headers, rows = report_table(report, table)
        return spreadsheet_response(headers, rows, filename=f"onboarding-{table}")


class SettingsView(WorkspaceMixin, View):
    """The handoff's required fields, the stage gate, and the milestone plan (per tier)."""

    policy_actions = {"post": "onboarding.manage"}
    template_name = "onboarding/settings.html"

    def context(self, form, template_form):
        return {"form": form, "template_form": template_form,
                "templates": selectors.templates(workspace=self.workspace),
                "can_manage": allows(self.actor, "onboarding.manage")}

    def get(self, request):
        settings = selectors.settings_of(self.workspace)
        form = SettingsForm(initial={"required_fields": settings.required_fields,
                                     "handoff_gates_stage": settings.handoff_gates_stage})
        return render(request, self.template_name, self.context(form, TemplateForm()))

    def post(self, request):
        if request.POST.get("what") == "template":
            template_form = TemplateForm(request.POST)
            if template_form.is_valid():
                try:
                    services.save_template(workspace=self.workspace, actor=self.actor, **template_form.cleaned_data)
                except SERVICE_ERRORS as exc:
                    show_on_form(template_form, exc)
                else:
                    messages.success(request, _("Milestone added."))
                    return redirect("onboarding:settings")
            settings = selectors.settings_of(self.workspace)
            form = SettingsForm(initial={"required_fields": settings.required_fields,
                                         "handoff_gates_stage": settings.handoff_gates_stage})
            return render(request, self.template_name, self.context(form, template_form), status=400)
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.save_settings(workspace=self.workspace, actor=self.actor, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Onboarding settings saved."))
                return redirect("onboarding:settings")
        return render(request, self.template_name, self.context(form, TemplateForm()), status=400)


class TemplateEditView(WorkspaceMixin, View):
    model = MilestoneTemplate
    required_action = "onboarding.manage"
    template_name = "onboarding/template_form.html"

    def get(self, request, pk):
        template = self.get_object()
        return render(request, self.template_name, {"form": TemplateForm(instance=template), "template": template})

    def post(self, request, pk):
        template = get_object_or_404(self.get_queryset(), pk=pk)
        form = TemplateForm(request.POST, instance=MilestoneTemplate(workspace=self.workspace))
        if form.is_valid():
            try:
                services.save_template(workspace=self.workspace, actor=self.actor, template=template,
                                       **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Milestone saved."))
                return redirect("onboarding:settings")
        return render(request, self.template_name, {"form": form, "template": template}, status=400)


class TemplateDeleteView(WorkspaceMixin, View):
    model = MilestoneTemplate
    required_action = "onboarding.manage"

    def post(self, request, pk):
        services.delete_template(template=self.get_object(), actor=self.actor)
        messages.success(request, _("Milestone deleted."))
        return redirect("onboarding:settings")


class UploadView(WorkspaceMixin, View):
    """A CSV/XLSX of handoffs or milestone done days: all rows saved, or none and every problem by row
    and column; a dry run checks without saving."""

    required_action = "onboarding.import"
    template_name = "onboarding/upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": UploadForm()})

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        problems = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            importer = services.import_handoffs if form.cleaned_data["kind"] == "handoffs" \
                else services.import_milestones
            try:
                result = importer(workspace=self.workspace, actor=self.actor, data=upload.read(),
                                  filename=upload.name, dry_run=form.cleaned_data["dry_run"])
            except services.UploadErrors as exc:
                problems = exc.errors
            except SERVICE_ERRORS as exc:
                problems = [{"row": None, "field": "file", "message": str(getattr(exc, "message", exc))}]
            else:
                if form.cleaned_data["dry_run"]:
                    messages.success(request, _("The file is valid: %(n)s rows would be saved.") % {"n": len(result)})
                    return render(request, self.template_name, {"form": form})
                messages.success(request, _("%(n)s rows saved.") % {"n": len(result)})
                return redirect("onboarding:incomplete")
        return render(request, self.template_name, {"form": form, "problems": problems[:200],
                                                    "more": max(0, len(problems) - 200)}, status=400)
