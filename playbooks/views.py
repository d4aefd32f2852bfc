"""Playbook pages: the list, the designer (with a preview of who would enrol today), a playbook's
rules in words with its versions and runs, manual enrolment and ending a run."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Account
from workspaces.errors import DomainError
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import services
from .definition import TRIGGER_PARAMS, validate_definition
from .describe import describe_definition, describe_trigger, describe_why, reference_names
from .forms import EndRunForm, EnrolForm, PlaybookForm, StepForm, StepFormSet, steps_from
from .models import HoldReason, Playbook, PlaybookRun, PlaybookVersion, RunStatus

RUNS_PER_PAGE = 25
SEARCH_RESULTS = 20


def versions_of(workspace):
    return PlaybookVersion.objects.for_workspace(workspace)


def with_latest_version(workspace, playbooks):
    """Playbooks annotated with their newest version's number and definition (one query)."""
    newest = versions_of(workspace).filter(playbook=OuterRef("pk")).order_by("-number")
    return playbooks.annotate(
        version_number=Subquery(newest.values("number")[:1]),
        latest_definition=Subquery(newest.values("definition")[:1]),
    )


class PlaybookListView(WorkspaceMixin, TemplateView):
    template_name = "playbooks/playbook_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        playbooks = with_latest_version(self.workspace, self.scoped(Playbook)).annotate(
            active_runs=Count("runs", filter=Q(runs__status=RunStatus.ACTIVE)))
        names = reference_names(self.workspace)
        rows = list(playbooks.order_by("-enabled", "name", "pk"))
        for playbook in rows:
            playbook.trigger_words = describe_trigger((playbook.latest_definition or {}).get("trigger", {}),
                                                      names=names)
        context.update(playbooks=rows, can_manage=allows(self.actor, "playbooks.manage"))
        return context


def editor_context(workspace):
    """What the designer's script needs: which trigger parameters each kind takes, and its words."""
    return {"params": {kind: list(params) for kind, params in TRIGGER_PARAMS.items()},
            "held_labels": {**{key: str(label) for key, label in HoldReason.choices},
                            "active": _("Already running")},
            "text": {"checking": _("Counting…"), "would_enrol": _("accounts would enrol today"),
                     "held": _("held back"), "failed": _("The preview failed."), "none": _("No account.")}}


class PlaybookFormView(WorkspaceMixin, View):
    model = Playbook
    required_action = "playbooks.manage"
    template_name = "playbooks/playbook_form.html"

    def render(self, form, formset, playbook, status=200):
        return render(self.request, self.template_name, {
            "form": form, "formset": formset, "playbook": playbook, "editor": editor_context(self.workspace),
        }, status=status)

    def get(self, request, pk=None):
        playbook = self.get_object_or_none()
        version = services.latest_version(playbook) if playbook else None
        definition = version.definition if version else validate_definition({
            "trigger": {"kind": "manual"}, "steps": [{"kind": "task", "title": _("Call {account}")}]})
        form = PlaybookForm(initial=PlaybookForm.initial_for(playbook, definition), workspace=self.workspace)
        formset = StepFormSet(initial=[StepForm.initial_for(step) for step in definition.get("steps", [])],
                              prefix="steps",
                              form_kwargs={"workspace": self.workspace})
        return self.render(form, formset, playbook)

    def post(self, request, pk=None):
        playbook = self.get_object_or_none()
        form = PlaybookForm(request.POST, workspace=self.workspace)
        formset = StepFormSet(request.POST, prefix="steps",
                              form_kwargs={"workspace": self.workspace})
        if form.is_valid() and formset.is_valid():
            try:
                playbook = services.save_playbook(
                    workspace=self.workspace, actor=self.actor, playbook=playbook,
                    definition=form.definition(steps_from(formset)), note=form.cleaned_data["note"],
                    **form.fields_for_service())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Playbook saved."))
                return redirect("playbooks:detail", pk=playbook.pk)
        return self.render(form, formset, playbook, status=400)


class PlaybookPreviewView(WorkspaceMixin, View):
    """POST the designer's form (or JSON {"definition": …}) → the engine's preview: how many accounts
    would enrol today, how many are held back and why, and a sample; 400 naming what is wrong."""

    required_action = "playbooks.manage"

    def definition_from_request(self, request):
        if request.content_type == "application/json":
            try:
                payload = json.loads(request.body or b"{}")
            except json.JSONDecodeError:
                raise DomainError(_("The request body is not valid JSON."), field="definition") from None
            return payload.get("definition") if isinstance(payload, dict) else None
        form = PlaybookForm(request.POST, workspace=self.workspace)
        formset = StepFormSet(request.POST, prefix="steps",
                              form_kwargs={"workspace": self.workspace})
        if not (form.is_valid() and formset.is_valid()):
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            for index, step_errors in enumerate(formset.errors):
                for name, errs in step_errors.items():
                    errors[f"steps[{index + 1}].{name}"] = [str(e) for e in errs]
            errors.update({"steps": [str(e) for e in formset.non_form_errors()]} if formset.non_form_errors() else {})
            raise FormErrors(errors)
        return form.definition(steps_from(formset))

    def playbook_from_request(self, request):
        """The playbook being edited, if the designer says so (its runs count in the preview)."""
        if request.content_type == "application/json":
            try:
                wanted = json.loads(request.body or b"{}").get("playbook")
            except (json.JSONDecodeError, AttributeError):
                wanted = None
        else:
            wanted = request.POST.get("playbook")
        if wanted in (None, ""):
            return None
        found = self.scoped(Playbook).filter(pk=wanted).first() if str(wanted).isdigit() else None
        if found is None:
            raise DomainError(_("Not found in this workspace."), field="playbook")
        return found

    def post(self, request):
        try:
            definition = self.definition_from_request(request)
            result = services.preview(workspace=self.workspace, actor=self.actor, definition=definition,
                                      playbook=self.playbook_from_request(request))
        except FormErrors as exc:
            return JsonResponse(exc.errors, status=400)
        except DomainError as exc:
            return JsonResponse({exc.field or "definition": [exc.message]}, status=400)
        return JsonResponse(result)


class FormErrors(Exception):
    def __init__(self, errors):
        super().__init__("form errors")
        self.errors = errors


def enrollable_accounts(workspace, member):
    """The active accounts `member` may start a playbook on: all for a manager, their own for a CSM."""
    accounts = Account.objects.for_workspace(workspace).filter(status="active")
    if not allows(member, "playbooks.enrol", Account(workspace=workspace, owner=None)):
        accounts = accounts.filter(owner=member)
    return accounts.order_by("name", "pk")


class PlaybookDetailView(WorkspaceMixin, TemplateView):
    model = Playbook
    template_name = "playbooks/playbook_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        playbook = self.get_object()
        versions = list(versions_of(self.workspace).filter(playbook=playbook).select_related("created_by__user")
                        .order_by("-number"))
        shown = versions[0] if versions else None
        wanted = self.request.GET.get("version", "")
        if wanted.isdigit():
            shown = next((v for v in versions if v.number == int(wanted)), shown)
        runs = (self.scoped(PlaybookRun).filter(playbook=playbook).select_related("account", "version")
                .annotate(active_first=Case(When(status=RunStatus.ACTIVE, then=Value(0)), default=Value(1),
                                            output_field=IntegerField()))
                .order_by("active_first", "-started_on", "-pk"))
        page = Paginator(runs, RUNS_PER_PAGE).get_page(self.request.GET.get("page"))
        for run in page.object_list:
            run.why_words = describe_why(run)
        can_enrol = allows(self.actor, "playbooks.enrol", Account(workspace=self.workspace, owner=self.membership))
        query = self.request.GET.get("q", "").strip()
        found = []
        if can_enrol and query:
            found = list(enrollable_accounts(self.workspace, self.membership).filter(name__icontains=query)
                         [:SEARCH_RESULTS])
        counts = {row["status"]: row["n"] for row in self.scoped(PlaybookRun).filter(playbook=playbook)
                  .values("status").annotate(n=Count("pk")).order_by()}
        context.update(
            playbook=playbook, versions=versions, shown=shown,
            words=describe_definition(shown.definition, names=reference_names(self.workspace)) if shown else None,
            condition=json.dumps(shown.definition.get("condition"), ensure_ascii=False, indent=1)
            if shown and shown.definition.get("condition") else "",
            page_obj=page, counts=counts, can_manage=allows(self.actor, "playbooks.manage"), can_enrol=can_enrol,
            query=query, found=found, enrol_form=EnrolForm(workspace=self.workspace), end_form=EndRunForm(),
        )
        return context


class PlaybookEnrolView(WorkspaceMixin, View):
    model = Playbook
    required_action = "playbooks.enrol"

    def policy_object(self):
        # May this member start a playbook at all (on their own accounts, at least)? The service
        # checks each account the form names.
        return Account(workspace=self.workspace, owner=self.membership)

    def post(self, request, pk):
        playbook = self.get_object()
        form = EnrolForm(request.POST, workspace=self.workspace)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("playbooks:detail", pk=playbook.pk)
        try:
            result = services.enrol(playbook=playbook, actor=self.actor, accounts=list(form.cleaned_data["accounts"]))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("playbooks:detail", pk=playbook.pk)
        messages.success(request, _("%(n)s enrolled.") % {"n": len(result.get("enrolled", []))})
        for skipped in result.get("skipped", []):
            messages.warning(request, _("Not enrolled: %(account)s (%(why)s)") % {
                "account": skipped.get("name") or skipped.get("account"), "why": skipped.get("why")})
        return redirect("playbooks:detail", pk=playbook.pk)


class PlaybookEnableView(WorkspaceMixin, View):
    model = Playbook
    required_action = "playbooks.manage"

    def post(self, request, pk):
        playbook = self.get_object()
        enabled = request.POST.get("enabled") == "1"
        services.set_enabled(playbook=playbook, actor=self.actor, enabled=enabled)
        messages.success(request, _("Playbook enabled.") if enabled else _("Playbook disabled."))
        return redirect("playbooks:detail", pk=playbook.pk)


class PlaybookDeleteView(WorkspaceMixin, View):
    model = Playbook
    required_action = "playbooks.manage"

    def post(self, request, pk):
        playbook = self.get_object()
        try:
            services.delete_playbook(playbook=playbook, actor=self.actor)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("playbooks:detail", pk=playbook.pk)
        messages.success(request, _("Playbook deleted."))
        return redirect("playbooks:list")


class RunEndView(WorkspaceMixin, View):
    """End a run by hand: the account's CSM or a manager (the run follows its account)."""

    model = PlaybookRun
    required_action = "accounts.change_child"

    def post(self, request, pk):
        run = self.get_object()
        form = EndRunForm(request.POST)
        why = form.cleaned_data["why"] if form.is_valid() else ""
        try:
            services.end_run(run=run, actor=self.actor, why=why)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Run ended."))
        return self.redirect_back("playbooks:detail", run.playbook_id)
