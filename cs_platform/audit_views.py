"""The audit log page for managers and admins: who changed what, filterable, exportable.

The page, its download and `GET /api/v1/audit-events/` share one FilterSet
(workspaces.filtersets.AuditEventFilterSet), so a download holds exactly the rows the page lists.
The log is the tenancy floor's (workspaces); the page lives here because its download uses the
shared spreadsheet writer (ui), and only the composition floor may use both.
"""

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from ui.spreadsheets import spreadsheet_response
from workspaces.models import AuditEvent
from workspaces.pages import WorkspaceMixin
from workspaces.selectors import audit_export_table, audit_log, readable_changes

EXPORT_FORMATS = ("csv", "xlsx")

# The page names what the log stores as codes (object types, field names, the platform's own actors,
# the night's steps) in the reader's language; the download and the API keep the codes.
OBJECT_TYPES = {
    "account": gettext_lazy("Account"), "apitoken": gettext_lazy("API token"), "cadencepolicy": gettext_lazy(
        "Cadence policy"), "contact": gettext_lazy("Contact"), "contract": gettext_lazy("Contract"),
    "healthalert": gettext_lazy("Health alert"), "healthsettings": gettext_lazy("Health settings"),
    "importjob": gettext_lazy("Import"), "importmapping": gettext_lazy("Saved column mapping"),
    "ingestsettings": gettext_lazy("Usage data settings"), "invitation": gettext_lazy("Invitation"),
    "lifecyclestage": gettext_lazy("Lifecycle stage"), "membership": gettext_lazy("Member"),
    "scorecard": gettext_lazy("Scorecard"), "segment": gettext_lazy("Segment"),
    "sentimentrating": gettext_lazy("Sentiment rating"), "tag": gettext_lazy("Tag"), "task": gettext_lazy("Task"),
    "tierpin": gettext_lazy("Pinned tier"), "touchmodel": gettext_lazy("Touch model"),
    "touchpoint": gettext_lazy("Touchpoint"), "workspace": gettext_lazy("Workspace"), "writekey": gettext_lazy("Write key"),
    "playbook": gettext_lazy("Playbook"), "playbookrun": gettext_lazy("Playbook run"),
    "endpoint": gettext_lazy("Webhook endpoint"), "opportunity": gettext_lazy("Toss-up"),
    "churnreasoncategory": gettext_lazy("Churn reason"), "renewaloutcome": gettext_lazy("Renewal outcome"),
    "featurerequest": gettext_lazy("Feature request"), "featurerequestevidence": gettext_lazy("Feature request evidence"),
    "surveyresponse": gettext_lazy("Survey answer"),
    "programme": gettext_lazy("Programme"), "programmesession": gettext_lazy("Programme session"),
    "attendance": gettext_lazy("Attendance"), "usagelevel": gettext_lazy("Usage level"),
    "successplan": gettext_lazy("Success plan"), "objective": gettext_lazy("Objective"),
    "leveldefinition": gettext_lazy("Level definition"), "kptnote": gettext_lazy("KPT note"),
}
SYSTEM_ACTORS = {"nightly": gettext_lazy("nightly run"), "demo": gettext_lazy("demo data"),
                 "system": gettext_lazy("platform rules"), "tracking API": gettext_lazy("tracking API"),
                 "playbooks": gettext_lazy("playbooks")}
# Keys of changes that are not a model's fields: what the night's run records.
OTHER_FIELDS = {"day": gettext_lazy("Day"), "steps": gettext_lazy("Steps"),
                # what the playbooks record of a run and its tasks
                "playbook_name": gettext_lazy("Playbook"), "step": gettext_lazy("Step"), "why": gettext_lazy("Why"),
                "open_tasks": gettext_lazy("Open tasks"), "version": gettext_lazy("Version"),
                "note": gettext_lazy("What changed"),
                # what a feature request's merge records
                "merged_into": gettext_lazy("Merged into"),
                # what a success plan's workflow records
                "objective": gettext_lazy("Objective"), "comment": gettext_lazy("Comment")}
NIGHTLY_STEPS = {"usage": gettext_lazy("usage data"), "tiers": gettext_lazy("touch tiers"),
                 "segments": gettext_lazy("segments"), "coverage": gettext_lazy("coverage"),
                 "health": gettext_lazy("health scores"), "lifecycle": gettext_lazy("usage levels"),
                 "playbooks": gettext_lazy("playbooks")}


def _models_by_name():
    return {model._meta.model_name: model for model in apps.get_models()}


def object_type_label(object_type):
    return str(OBJECT_TYPES.get(object_type, object_type))


def who(event):
    """The actor as the page shows it: a member's name, or the platform's own actor by its label."""
    if event.system_actor:
        return _("system: %(name)s") % {"name": SYSTEM_ACTORS.get(event.system_actor, event.system_actor)}
    return event.actor_label


def readable_lines(event, models):
    """readable_changes, with a field's verbose name and a choice's label instead of their codes."""
    model = models.get(event.object_type)
    lines = []
    for field, before, after in readable_changes(event.changes):
        label, choices = OTHER_FIELDS.get(field, field), {}
        if model is not None and field:
            try:
                model_field = model._meta.get_field(field)
            except FieldDoesNotExist:
                pass
            else:
                label = getattr(model_field, "verbose_name", field)
                choices = {str(k): v for k, v in (getattr(model_field, "flatchoices", None) or [])}
                if model_field.get_internal_type() == "BooleanField":  # stored as "True"/"False"
                    choices = {"True": _("Yes"), "False": _("No")}
        if field == "steps" and event.action == "nightly.run":
            after = ", ".join(str(NIGHTLY_STEPS.get(step, step)) for step in after.split(", "))
        lines.append((str(label), choices.get(before, before) if before is not None else None,
                      choices.get(after, after)))
    return lines


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
        models = _models_by_name()
        for event in events:
            event.lines = readable_lines(event, models)
            event.object_type_label = object_type_label(event.object_type)
            event.who = who(event)
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
            labels = object_type_label if name == "object_type" else str
            form.fields[name].widget = forms.Select(choices=[("", _("Any"))] + [(v, labels(v)) for v in values])
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
