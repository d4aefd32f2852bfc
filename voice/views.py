"""Voice of the customer pages: feature requests ranked by the ARR asking, a request with its
evidence, evidence from an account, the CSV export; NPS/CSAT per period with its trend, and the
survey upload. Views parse input and check roles; selectors read, services write.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from accounts.models import Account
from ui.spreadsheets import spreadsheet_response
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import selectors, services
from .forms import EvidenceForm, FeatureRequestForm, MergeForm, NpsQueryForm, StatusForm, UploadForm
from .models import FeatureRequest, FeatureRequestEvidence, RequestStatus, SurveyKind

COLUMNS = {"arr": "arr", "count": "count", "recent": "recent", "title": "title", "status": "status"}


class FeatureRequestListView(WorkspaceMixin, ListView):
    """The ranked list: by the ARR of the accounts asking (of the segment or tier chosen), or by count."""

    template_name = "voice/request_list.html"
    context_object_name = "requests"
    paginate_by = 50

    def get_sort(self):
        sort = self.request.GET.get("sort", "arr")
        return sort if sort.lstrip("-") in COLUMNS else "arr"

    def get_queryset(self):
        self.filterset = selectors.request_filterset(workspace=self.workspace, filters=self.request.GET or None,
                                                     request=self.request)
        for name in ("segment", "tier", "account"):
            self.filterset.form.fields[name].empty_label = _("Any")
        self.filterset.form.fields["tier"].widget.choices = [("", _("Any")),
                                                             *self.filterset.form.fields["tier"].choices[1:]]
        if self.filterset.is_bound and not self.filterset.is_valid():
            return FeatureRequest.objects.for_workspace(self.workspace).none()
        return selectors.request_ranking(workspace=self.workspace, filters=self.request.GET or None,
                                         request=self.request, ranking=self.get_sort())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = self.get_sort()
        columns = {}
        for key in COLUMNS:
            # ARR, count and recency sort best first only; title and status both ways.
            toggles = key in ("title", "status")
            columns[key] = {"next": "-" + key if toggles and sort == key else key,
                            "arrow": ("▲" if sort == key else "▼" if sort == "-" + key else "") if toggles
                            else ("▼" if sort == key else "")}
        export_query = self.request.GET.copy()
        export_query.pop("page", None)
        context.update(
            filterset=self.filterset, filter_form=self.filterset.form, sort=sort, columns=columns,
            export_query=export_query.urlencode(), statuses=RequestStatus,
            is_filtered=any(self.request.GET.get(k) for k in self.filterset.form.fields),
            can_file=allows(self.actor, "voice.file_request"),
        )
        return context


class FeatureRequestExportView(WorkspaceMixin, View):
    """The ranked list as CSV (or XLSX), with the same filters, for product teams."""

    def get(self, request):
        filterset = selectors.request_filterset(workspace=self.workspace, filters=request.GET or None, request=request)
        if filterset.is_bound and not filterset.is_valid():
            messages.error(request, _("Fix the filters first."))
            return redirect(reverse("voice:requests") + "?" + request.GET.urlencode())
        sort = request.GET.get("sort", "arr")
        headers, rows = selectors.export_rows(workspace=self.workspace, filters=request.GET or None, request=request,
                                              ranking=sort if sort.lstrip("-") in COLUMNS else "arr")
        file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        return spreadsheet_response(headers, rows, filename=f"{self.workspace.slug}-feature-requests",
                                    file_format=file_format, title="Feature requests")


class FeatureRequestCreateView(WorkspaceMixin, View):
    required_action = "voice.file_request"
    template_name = "voice/request_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": FeatureRequestForm()})

    def post(self, request):
        form = FeatureRequestForm(request.POST)
        if form.is_valid():
            try:
                feature = services.file_request(workspace=self.workspace, actor=self.actor, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Feature request filed."))
                return redirect("voice:request_detail", feature.pk)
        return render(request, self.template_name, {"form": form}, status=400)


class RequestPageMixin(WorkspaceMixin):
    """The request page's context, shared by its page and the forms on it (shown again with errors)."""

    model = FeatureRequest
    template_name = "voice/request_detail.html"

    def context(self, feature, **forms):
        evidence = selectors.request_evidence(request=feature)
        return {
            "feature": selectors.request_detail(workspace=self.workspace, pk=feature.pk),
            "evidence": evidence, "statuses": RequestStatus,
            "can_manage": allows(self.actor, "voice.manage_requests"),
            "status_form": forms.get("status_form") or StatusForm(initial={"status": feature.status}),
            "merge_form": forms.get("merge_form") or MergeForm(workspace=self.workspace, exclude=feature.pk),
            "edit_form": forms.get("edit_form") or FeatureRequestForm(initial={
                "title": feature.title, "description": feature.description, "external_id": feature.external_id}),
            "removable": {e.pk for e in evidence if allows(self.actor, "voice.remove_evidence", e)},
        }



class FeatureRequestDetailView(RequestPageMixin, View):
    def get(self, request, pk):
        feature = self.get_object()
        return render(request, self.template_name, self.context(feature))


class FeatureRequestEditView(RequestPageMixin, View):
    """Managers: change the status (`status` alone) or the title, description and external ID."""

    required_action = "voice.manage_requests"

    def post(self, request, pk):
        feature = self.get_object()
        if "title" in request.POST:
            form, key, message = FeatureRequestForm(request.POST), "edit_form", _("Feature request saved.")
        else:
            form, key, message = StatusForm(request.POST), "status_form", _("Status changed.")
        if form.is_valid():
            try:
                services.update_request(request=feature, actor=self.actor, **form.cleaned_data)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, message)
                return redirect("voice:request_detail", feature.pk)
        return render(request, self.template_name, self.context(feature, **{key: form}), status=400)


class FeatureRequestMergeView(RequestPageMixin, View):
    required_action = "voice.manage_requests"

    def post(self, request, pk):
        feature = self.get_object()
        form = MergeForm(request.POST, workspace=self.workspace, exclude=feature.pk)
        if form.is_valid():
            try:
                into = services.merge_requests(duplicate=feature, into=form.cleaned_data["into"], actor=self.actor)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Merged: the evidence moved here."))
                return redirect("voice:request_detail", into.pk)
        return render(request, self.template_name, self.context(feature, merge_form=form), status=400)


class FeatureRequestDeleteView(WorkspaceMixin, View):
    model = FeatureRequest
    required_action = "voice.manage_requests"

    def post(self, request, pk):
        services.delete_request(request=self.get_object(), actor=self.actor)
        messages.success(request, _("Feature request deleted."))
        return redirect("voice:requests")


class EvidenceAddView(WorkspaceMixin, View):
    """Evidence from one account (the URL's): for a request of the list, or a new one filed at once."""

    model = Account
    pk_url_kwarg = "account_pk"
    required_action = "voice.add_evidence"
    template_name = "voice/evidence_form.html"

    def account(self):
        if not hasattr(self, "_account"):
            self._account = self.get_object()
        return self._account

    def form(self, data=None):
        initial = {}
        if self.request.GET.get("request", "").isdigit():
            initial["request"] = int(self.request.GET["request"])
        return EvidenceForm(data, workspace=self.workspace, account=self.account(), initial=initial)

    def render(self, form, status=200):
        return render(self.request, self.template_name, {"form": form, "account": self.account()}, status=status)

    def get(self, request, account_pk):
        return self.render(self.form())

    def post(self, request, account_pk):
        form = self.form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                feature = data["request"] or services.file_request(workspace=self.workspace, actor=self.actor,
                                                                    title=data["new_title"])
                services.add_evidence(request=feature, actor=self.actor, account=self.account(), date=data["date"],
                                      quote=data["quote"], source=data["source"], contact=data["contact"])
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Evidence added."))
                return self.redirect_back(reverse("voice:request_detail", args=[feature.pk]))
        return self.render(form, status=400)


class EvidenceRemoveView(WorkspaceMixin, View):
    model = FeatureRequestEvidence
    required_action = "voice.remove_evidence"

    def post(self, request, pk):
        evidence = self.get_object()
        services.remove_evidence(evidence=evidence, actor=self.actor)
        messages.success(request, _("Evidence removed."))
        return redirect("voice:request_detail", evidence.request_id)


class NpsView(WorkspaceMixin, View):
    """NPS (or CSAT) per month or quarter with its trend, per segment or tier, and the latest answers."""

    template_name = "voice/nps.html"

    def get(self, request):
        form = NpsQueryForm(request.GET or None, workspace=self.workspace)
        form.fields["segment"].empty_label = _("Any")
        report, chart = None, None
        if not form.is_bound or form.is_valid():
            query = form.cleaned_data if form.is_bound else self._defaults(form)
            report = selectors.nps_report(workspace=self.workspace, query=query)
            for row in report["periods"]:
                row["label"] = _period_label(row["period"], query["period"])
            chart = {
                "series": [{"name": str(SurveyKind(query["kind"]).label),
                            "points": [row["score"] for row in report["periods"]]}],
                "labels": [row["label"] for row in report["periods"]],
                "y_min": -100 if query["kind"] == SurveyKind.NPS else 0, "y_max": 100,
            }
        responses = selectors.response_list(workspace=self.workspace)
        if report is not None:
            responses = responses.filter(kind=report["kind"], responded_on__gte=report["start"],
                                         responded_on__lte=report["end"])
        return render(request, self.template_name, {
            "form": form, "report": report, "chart": chart, "latest": responses[:20],
            "can_upload": allows(self.actor, "voice.record_responses"),
        })  # a bad query is shown as errors on the form, like the other reports' filters

    def _defaults(self, form):
        bound = NpsQueryForm({}, workspace=self.workspace)
        bound.is_valid()
        return bound.cleaned_data


def _period_label(day, period):
    if period == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return day.strftime("%Y-%m")


class SurveyUploadView(WorkspaceMixin, View):
    """A CSV/XLSX of survey answers: all rows saved, or none and every problem by row and column."""

    required_action = "voice.record_responses"
    template_name = "voice/upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": UploadForm(), "columns": services.UPLOAD_COLUMNS})

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        problems = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.import_responses(workspace=self.workspace, actor=self.actor, data=upload.read(),
                                                   filename=upload.name)
            except services.UploadErrors as exc:
                problems = exc.errors
            except ValidationError as exc:
                problems = [{"row": None, "field": "file", "message": " ".join(exc.messages)}]
            else:
                messages.success(request, _("%(created)s answers added, %(updated)s updated.") % result)
                return redirect("voice:nps")
        return render(request, self.template_name, {"form": form, "problems": problems[:200],
                                                    "more": max(0, len(problems) - 200),
                                                    "columns": services.UPLOAD_COLUMNS}, status=400)
