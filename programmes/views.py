"""Programme pages: the list, a programme with its sessions, a session with its attendees and the
attendance import, the effect report, and the attendance CSV."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from accounts.models import TouchTier
from ui.spreadsheets import spreadsheet_response
from workspaces.errors import DomainError, RowErrors
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .filtersets import AttendanceFilterSet, ProgrammeFilterSet
from .forms import AttendanceImportForm, ProgrammeForm, SessionForm
from .models import Programme, ProgrammeSession

PAGE_SIZE = 50


def _sort(request, allowed, default):
    value = request.GET.get("sort") or default
    return value if value in allowed else default


class ProgrammeListView(WorkspaceMixin, TemplateView):
    template_name = "programmes/programme_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = _sort(self.request, selectors.PROGRAMME_ORDERINGS, "name")
        filterset = ProgrammeFilterSet(self.request.GET, queryset=None, request=self.request)
        programmes = selectors.programme_list(workspace=self.workspace, filters=self.request.GET,
                                              request=self.request, ordering=sort)
        context.update(filter=filterset, sort=sort, can_manage=allows(self.actor, "programmes.manage"),
                       page_obj=Paginator(programmes, PAGE_SIZE).get_page(self.request.GET.get("page")),
                       filtered=bool(self.request.GET.get("q") or self.request.GET.get("kind")))
        return context


class ProgrammeFormView(WorkspaceMixin, View):
    model = Programme
    required_action = "programmes.manage"
    template_name = "programmes/programme_form.html"

    def render(self, form, programme, status=200):
        return render(self.request, self.template_name, {"form": form, "programme": programme}, status=status)

    def get(self, request, pk=None):
        programme = self.get_object_or_none()
        initial = {"name": programme.name, "kind": programme.kind, "description": programme.description} \
            if programme else {}
        return self.render(ProgrammeForm(initial=initial), programme)

    def post(self, request, pk=None):
        programme = self.get_object_or_none()
        form = ProgrammeForm(request.POST)
        if form.is_valid():
            try:
                programme = services.save_programme(workspace=self.workspace, actor=self.actor, programme=programme,
                                                    **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Programme saved."))
                return redirect("programmes:detail", pk=programme.pk)
        return self.render(form, programme, status=400)


class ProgrammeDeleteView(WorkspaceMixin, View):
    model = Programme
    required_action = "programmes.manage"

    def post(self, request, pk):
        services.delete_programme(programme=self.get_object(), actor=self.actor)
        messages.success(request, _("Programme deleted."))
        return redirect("programmes:list")


class ProgrammeDetailView(WorkspaceMixin, TemplateView):
    model = Programme
    template_name = "programmes/programme_detail.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.get_object()
        sessions = selectors.programme_sessions(programme=programme)
        context.update(programme=programme, can_manage=allows(self.actor, "programmes.manage"),
                       page_obj=Paginator(sessions, PAGE_SIZE).get_page(self.request.GET.get("page")),
                       session_form=form or SessionForm())
        return context


class SessionCreateView(WorkspaceMixin, View):
    model = Programme
    required_action = "programmes.manage"

    def post(self, request, pk):
        programme = self.get_object()
        form = SessionForm(request.POST)
        if form.is_valid():
            try:
                session = services.save_session(workspace=self.workspace, actor=self.actor, programme=programme,
                                                **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Session added."))
                return redirect("programmes:session", pk=session.pk)
        view = ProgrammeDetailView()
        view.setup(request, pk=pk)
        view.workspace, view.membership = self.workspace, self.membership
        return render(request, view.template_name, view.get_context_data(form=form), status=400)


class SessionDetailView(WorkspaceMixin, TemplateView):
    model = ProgrammeSession
    template_name = "programmes/session_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("programme")

    def get_context_data(self, form=None, import_errors=None, **kwargs):
        context = super().get_context_data(**kwargs)
        session = self.get_object()
        sort = _sort(self.request, selectors.ATTENDEE_ORDERINGS, "contact")
        attendees = selectors.session_attendees(session=session, filters=self.request.GET, request=self.request,
                                                ordering=sort)
        filterset = AttendanceFilterSet(self.request.GET, queryset=None, request=self.request)
        context.update(session=session, programme=session.programme, sort=sort, filter=filterset,
                       can_import=allows(self.actor, "programmes.import_attendance"),
                       page_obj=Paginator(attendees, PAGE_SIZE).get_page(self.request.GET.get("page")),
                       import_form=form or AttendanceImportForm(), import_errors=import_errors or [],
                       filtered=bool(self.request.GET.get("q") or self.request.GET.get("status")))
        return context


class AttendanceImportView(WorkspaceMixin, View):
    model = ProgrammeSession
    required_action = "programmes.import_attendance"

    def post(self, request, pk):
        session = self.get_object()
        form = AttendanceImportForm(request.POST, request.FILES)
        import_errors = []
        if form.is_valid():
            try:
                rows = services.read_attendance_csv(form.cleaned_data["file"].read())
                result = services.import_attendance(session=session, actor=self.actor, rows=rows)
            except RowErrors as exc:
                import_errors = [
                    {"row": error["index"], "field": field, "message": message}
                    for error in exc.errors for field, messages_ in error["errors"].items() for message in messages_
                ]
                form.add_error("file", ngettext("%(n)d row has errors; nothing was imported.",
                                                "%(n)d rows have errors; nothing was imported.",
                                                len(exc.errors)) % {"n": len(exc.errors)})
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, _(
                    "Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged; "
                    "%(touchpoints)d touchpoints logged.") % result)
                return redirect("programmes:session", pk=session.pk)
        view = SessionDetailView()
        view.setup(request, pk=pk)
        view.workspace, view.membership = self.workspace, self.membership
        return render(request, view.template_name,
                      view.get_context_data(form=form, import_errors=import_errors), status=400)


def _chart(report):
    """Bars for the comparison chart: progression rate and share whose usage grew, in percent."""
    bars = []
    for key, label in (("progression_rate", _("Moved to a later stage")), ("grew_share", _("Usage grew"))):
        for group, name in (("attendees", _("Attendees")), ("comparison", _("Comparison"))):
            value = report[group][key]
            if value is not None:
                bars.append({"label": f"{label}: {name}", "value": round(value * 100, 1)})
    return bars


class _EffectView(WorkspaceMixin, TemplateView):
    template_name = "programmes/effect.html"

    def report(self):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.report()
        context.update(report=report, programme=report["programme"], session=report["session"],
                       bars=_chart(report))
        return context


class ProgrammeEffectView(_EffectView):
    model = Programme

    def report(self):
        return selectors.effect_report(workspace=self.workspace, today=self.workspace.today(),
                                       programme=self.get_object())


class SessionEffectView(_EffectView):
    model = ProgrammeSession

    def report(self):
        return selectors.effect_report(workspace=self.workspace, today=self.workspace.today(),
                                       session=get_object_or_404(self.get_queryset().select_related("programme"),
                                                                 pk=self.kwargs["pk"]))


class AttendanceExportView(WorkspaceMixin, View):
    model = Programme

    def get(self, request, pk):
        programme = self.get_object()
        rows = selectors.attendance_rows(workspace=self.workspace, programme=programme)
        headers = [_("Programme"), _("Session"), _("Date and time"), _("Contact"), _("Email"),
                   _("Contact external ID"), _("Account"), _("Status"), _("Touchpoint")]
        return spreadsheet_response(headers, (
            [programme.name, a.session.title, timezone.localtime(a.session.starts_at), a.contact.name, a.contact.email,
             a.contact.external_id, a.contact.account.name, a.get_status_display(), a.touchpoint_id]
            for a in rows.iterator(chunk_size=2000)
        ), filename=f"programme-{programme.pk}-attendance")


class EffectExportView(WorkspaceMixin, View):
    """The effect report's accounts, one row each: which group, matched on which session day, in
    which tier and stage, and what it did (the figures of the page, account by account)."""

    model = Programme

    def get(self, request, pk):
        programme = self.get_object()
        report = selectors.effect_report(workspace=self.workspace, today=self.workspace.today(), programme=programme)
        groups = {"attendees": _("Attendees"), "comparison": _("Comparison")}
        tiers = dict(TouchTier.choices)
        headers = [_("Group"), _("Account"), _("Session"), _("Session day"), _("Tier"), _("Stage"),
                   _("Moved to a later stage"), _("Events before"), _("Events after")]
        return spreadsheet_response(headers, (
            [groups[u["group"]], u["account"], u["session"].title, u["day"], tiers.get(u["tier"], u["tier"] or ""),
             u["stage"], u["progressed"], u["events_before"], u["events_after"]]
            for u in report["units"]
        ), filename=f"programme-{programme.pk}-effect")
