"""Import / export pages: upload → map columns → dry run → import, and file downloads."""

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from ui.spreadsheets import spreadsheet_response
from workspaces.errors import DomainError
from workspaces.pages import WorkspaceMixin

from . import selectors, services
from .columns import OBJECT_TYPES, columns_for, suggest_mapping
from .models import ImportJob
from .readers import FileError
from .values import clean_text

PREVIEW_ROWS = 5
PREVIEW_CHARS = 80
SHOWN_ERRORS = 200


class UploadForm(forms.Form):
    object_type = forms.ChoiceField(label=gettext_lazy("What the file contains"))
    file = forms.FileField(label=gettext_lazy("CSV or Excel (.xlsx) file"))

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [
            (key, label) for key, label in OBJECT_TYPES.items() if services.can_import(actor, key)
        ]


class ImportIndexView(WorkspaceMixin, View):
    template_name = "imports/index.html"
    policy_actions = {"post": "imports.{object_type}"}

    def policy_params(self):
        object_type = self.request.POST.get("object_type", "")
        if object_type not in OBJECT_TYPES:
            # The form offers only the types this member may import; anything else is no browser's.
            raise BadRequest(_("Choose what the file contains."))
        return {"object_type": object_type}

    def get(self, request):
        return self.render(UploadForm(actor=self.actor))

    def post(self, request):
        form = UploadForm(request.POST, request.FILES, actor=self.actor)
        if form.is_valid():
            try:
                job = services.create_job(
                    workspace=self.workspace, actor=self.actor, object_type=form.cleaned_data["object_type"],
                    upload=form.cleaned_data["file"],
                )
            except DomainError as exc:
                form.add_error("file" if exc.field == "file" else None, exc.message)
            else:
                return redirect("imports:map", pk=job.pk)
        return self.render(form, status=400)

    def render(self, form, status=200):
        importable = form.fields["object_type"].choices
        return render(self.request, self.template_name, {
            "form": form if importable else None,
            "jobs": selectors.recent_jobs(workspace=self.workspace),
            "object_types": OBJECT_TYPES.items(),
        }, status=status)


class JobMixin(WorkspaceMixin):
    """A job of the current workspace that the member may run (404 for another workspace's)."""

    model = ImportJob
    required_action = "imports.{object_type}"

    def policy_params(self):
        return {"object_type": self.get_object().object_type}

    def get_job(self, pk):
        return self.get_object()


class MapColumnsView(JobMixin, View):
    template_name = "imports/map.html"

    def get(self, request, pk):
        job = self.get_job(pk)
        try:
            sheet = services.job_head(job)
        except FileError as exc:
            messages.error(request, exc.message)
            return redirect("imports:index")
        if job.mapping:
            mapping = {int(index): name for index, name in job.mapping.items()}
        else:
            saved = selectors.saved_mapping(workspace=self.workspace, object_type=job.object_type)
            mapping = suggest_mapping(job.object_type, sheet.headers, saved)
        return self.render(job, sheet, mapping)

    def post(self, request, pk):
        job = self.get_job(pk)
        try:
            sheet = services.job_head(job)
        except FileError as exc:
            messages.error(request, exc.message)
            return redirect("imports:index")
        valid = {column.name for column in columns_for(job.object_type)}
        mapping = {}
        for index in range(len(sheet.headers)):
            name = request.POST.get(f"col_{index}", "")
            if name and name not in valid:
                return HttpResponseBadRequest(_("Unknown column choice."))
            if name:
                mapping[index] = name
        try:
            started = services.start_job(job=job, actor=self.actor, mapping=mapping)
        except DomainError as exc:
            messages.error(request, exc.message)
            return self.render(job, sheet, mapping, status=400)
        queue_note(request, started)
        return redirect("imports:job", pk=job.pk)

    def render(self, job, sheet, mapping, status=200):
        columns = [
            {"index": index, "header": header, "selected": mapping.get(index, ""),
             "samples": [preview_text(cells[index]) if index < len(cells) else "" for _row, cells in
                         sheet.rows[:PREVIEW_ROWS]]}
            for index, header in enumerate(sheet.headers)
        ]
        return render(self.request, self.template_name, {
            "job": job, "columns": columns, "targets": columns_for(job.object_type),
            "preview": [[preview_text(cell) for cell in cells] for _row, cells in sheet.rows[:PREVIEW_ROWS]],
            "row_count": len(sheet) if sheet.complete else None,
        }, status=status)


def preview_text(cell):
    """A cell as the mapping page shows it: enough to recognise the column, never a whole long text."""
    text = clean_text(cell).replace("\x00", "")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


class JobView(JobMixin, View):
    template_name = "imports/job.html"

    def get(self, request, pk):
        job = self.get_job(pk)
        return render(request, self.template_name, {
            "job": job, "errors": job.errors[:SHOWN_ERRORS], "hidden_errors": max(0, job.error_count - SHOWN_ERRORS),
            "summary": job.summary, "mapping_errors": job.summary.get("mapping_errors", []),
            "valid_rows": job.total_rows - job.summary.get("error_rows", 0),
        })

    def post(self, request, pk):
        job = self.get_job(pk)
        action = request.POST.get("action")
        if action not in ("check", "commit", "commit_valid_only"):
            return HttpResponseBadRequest(_("Unknown action."))
        try:
            started = services.start_job(job=job, actor=self.actor, commit=action != "check",
                                         valid_only=action == "commit_valid_only")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            queue_note(request, started)
        return redirect("imports:job", pk=job.pk)


def queue_note(request, job):
    if job.enqueued is False:
        messages.warning(request, _("The task queue is unavailable right now. This import is saved and queued: it "
                                    "runs by itself within a few minutes of the queue coming back, and this page "
                                    "shows its outcome."))


class JobProgressView(JobMixin, View):
    def get(self, request, pk):
        job = self.get_job(pk)
        return JsonResponse({
            "status": job.status, "status_label": job.get_status_display(), "running": job.is_running,
            "processed": job.processed_rows, "total": job.total_rows, "percent": job.progress_percent,
        })


class ExportView(WorkspaceMixin, View):
    """Download one object type as CSV or XLSX. Accounts honour the account list's filters."""

    def get(self, request, object_type, file_format):
        if object_type not in OBJECT_TYPES or file_format not in ("csv", "xlsx"):
            raise Http404
        try:
            headers, rows = selectors.export_table(workspace=self.workspace, object_type=object_type,
                                                   filters=request.GET or None, request=request)
            return export_response(headers, rows, object_type=object_type, file_format=file_format,
                                   workspace=self.workspace)
        except ValidationError as exc:
            return HttpResponseBadRequest("; ".join(f"{field}: {' '.join(msgs)}"
                                                    for field, msgs in exc.message_dict.items()))


def export_filename(*, workspace, object_type, file_format):
    return f"{export_stem(workspace=workspace, object_type=object_type)}.{file_format}"


def export_stem(*, workspace, object_type):
    return f"{object_type}-{workspace.slug}-{workspace.today().isoformat()}"


def export_response(headers, rows, *, object_type, file_format, workspace):
    return spreadsheet_response(headers, rows, filename=export_stem(workspace=workspace, object_type=object_type),
                                file_format=file_format, title=object_type)
