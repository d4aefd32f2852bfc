"""The audit log page for managers and admins: who changed what, filterable, exportable.

The page, its download and `GET /api/v1/audit-events/` share one FilterSet
(workspaces.filtersets.AuditEventFilterSet), so a download holds exactly the rows the page lists.
The log is the tenancy floor's (workspaces); the page lives here because its download uses the
shared spreadsheet writer (ui), and only the composition floor may use both.
"""

from django import forms
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from ui.spreadsheets import spreadsheet_response
from workspaces.models import AuditEvent
from workspaces.pages import WorkspaceMixin
from workspaces.selectors import audit_export_table, audit_log, readable_changes

EXPORT_FORMATS = ("csv", "xlsx")


class AuditLogMixin(WorkspaceMixin):
    model = AuditEvent
    required_action = "audit.view"

    def get_filterset(self):
        if not hasattr(self, "filterset"):
            self.filterset = audit_log(workspace=self.workspace, data=self.request.GET, request=self.request)
        return self.filterset

    def filtered_events(self):
        filterset = self.get_filterset()
        if filterset.is_bound and not filterset.is_valid():
            # A filter that names something outside this workspace (or is malformed) is shown as an
            # error with no rows, never silently dropped.
            return filterset.queryset.none()
        return filterset.qs


class AuditLogView(AuditLogMixin, ListView):
    template_name = "workspaces/audit_log.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        return self.filtered_events()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = self.get_filterset().form
        self.dress_form(form)
        events = context["events"]
        for event in events:
            event.lines = readable_changes(event.changes)
        oldest_first = self.request.GET.get("ordering") == "at"
        filter_keys = [k for k in form.fields if k != "ordering" and self.request.GET.get(k)]
        context.update(
            filter_form=form,
            is_filtered=bool(filter_keys),
            oldest_first=oldest_first,
            total=context["paginator"].count if context.get("paginator") else len(events),
            export_query=self.request.GET.urlencode(),
        )
        return context

    def dress_form(self, form):
        """Selects of what this workspace's log holds, names for the members, date pickers."""
        scoped = AuditEvent.objects.for_workspace(self.workspace).order_by()
        for name in ("action", "object_type"):
            values = sorted(set(scoped.values_list(name, flat=True).distinct()) - {""})
            current = self.request.GET.get(name)
            if current and current not in values:
                values.append(current)
            form.fields[name].widget = forms.Select(choices=[("", _("Any"))] + [(v, v) for v in values])
        form.fields["actor"].label_from_instance = lambda member: member.display_name
        form.fields["actor"].empty_label = _("Anyone")
        form.fields["actor_kind"].empty_label = _("Anyone")
        form.fields["actor_kind"].widget.choices = list(form.fields["actor_kind"].choices)
        for name in ("date_from", "date_to"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditLogExportView(AuditLogMixin, View):
    """The page's rows (all pages, same filters) as CSV or XLSX."""

    def get(self, request, file_format):
        if file_format not in EXPORT_FORMATS:
            raise Http404(_("Choose CSV or XLSX."))
        filterset = self.get_filterset()
        if filterset.is_bound and not filterset.is_valid():
            # The download link is only offered for valid filters; a hand-made URL gets the reasons.
            return JsonResponse({"errors": filterset.errors.get_json_data()}, status=400)
        headers, rows = audit_export_table(filterset.qs, tz=self.workspace.tz)
        stamp = timezone.localtime(timezone.now(), self.workspace.tz).strftime("%Y%m%d-%H%M")
        return spreadsheet_response(headers, rows, filename=f"audit-log-{self.workspace.slug}-{stamp}",
                                    file_format=file_format, title=_("Audit log"))
