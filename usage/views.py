"""The workspace's usage-data settings page: write keys, SDK snippets, what arrived, what didn't.

Managers read it; only admins change anything (the services check that again).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from workspaces.errors import DomainError
from workspaces.pages import WorkspaceMixin
from workspaces.policy import allows

from . import selectors, services
from .forms import HistoryUploadForm, IngestSettingsForm, RebuildForm, WriteKeyForm
from .models import WriteKey

KEY_PLACEHOLDER = "YOUR_WRITE_KEY"


def sdk_snippets(*, host, key):
    """Copy-paste snippets for the SDKs our tests drive (and the Node ones on the same protocol)."""
    return [
        ("Python · segment-analytics-python", f"""import segment.analytics as analytics

analytics.write_key = "{key}"
analytics.host = "{host}"  # the SDK posts to {host}/v1/batch

analytics.group("user-42", "acct-1001", {{"name": "Example KK", "plan": "pro", "seats": 25}})
analytics.identify("user-42", {{"email": "hanako@example.com", "name": "Hanako"}})
analytics.track("user-42", "Report Exported", {{"rows": 10}}, context={{"groupId": "acct-1001"}})
analytics.flush()"""),
        ("Python · rudder-sdk-python", f"""import rudderstack.analytics as rudder_analytics

rudder_analytics.write_key = "{key}"
rudder_analytics.dataPlaneUrl = "{host}"

rudder_analytics.group("user-42", "acct-1001", {{"name": "Example KK"}})
rudder_analytics.track("user-42", "Report Exported", {{"rows": 10}}, context={{"groupId": "acct-1001"}})
rudder_analytics.flush()"""),
        ("JavaScript · @segment/analytics-node", f"""import {{ Analytics }} from "@segment/analytics-node";

const analytics = new Analytics({{ writeKey: "{key}", host: "{host}", path: "/v1/batch" }});

analytics.group({{ userId: "user-42", groupId: "acct-1001", traits: {{ name: "Example KK" }} }});
analytics.track({{ userId: "user-42", event: "Report Exported", context: {{ groupId: "acct-1001" }} }});
await analytics.closeAndFlush();"""),
        ("JavaScript · @rudderstack/rudder-sdk-node", f"""const Analytics = require("@rudderstack/rudder-sdk-node");

const client = new Analytics("{key}", {{ dataPlaneUrl: "{host}" }});
client.track({{ userId: "user-42", event: "Report Exported", context: {{ groupId: "acct-1001" }} }});
await client.flush();"""),
        ("HTTP · curl", f"""curl -u "{key}:" -H "Content-Type: application/json" {host}/v1/batch \\
  -d '{{"batch": [{{"type": "track", "messageId": "m-1", "userId": "user-42", "event": "Report Exported",
        "context": {{"groupId": "acct-1001"}}, "timestamp": "2026-01-05T09:30:00+09:00"}}]}}'"""),
    ]


class UsageSettingsView(WorkspaceMixin, TemplateView):
    template_name = "usage/settings.html"
    required_action = "usage.view_settings"
    policy_actions = {"post": "usage.manage"}  # every action of the form is an admin's: refused before it is read

    def get_context_data(self, *, new_key=None, key_form=None, settings_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        workspace = self.workspace
        ingest = selectors.ingest_settings(workspace=workspace)
        host = self.request.build_absolute_uri("/").rstrip("/")
        context.update(
            can_manage=allows(self.actor, "usage.manage"),
            keys=selectors.write_keys(workspace=workspace),
            new_key=new_key,
            key_form=key_form or WriteKeyForm(),
            settings_form=settings_form or IngestSettingsForm(initial={
                "create_unknown_accounts": ingest.create_unknown_accounts,
                "trait_mapping": IngestSettingsForm.mapping_text(ingest.trait_mapping),
                "numeric_traits_to_attributes": ingest.numeric_traits_to_attributes,
                "retention_days": ingest.retention_days,
            }),
            endpoint=f"{host}/v1/batch",
            snippets=sdk_snippets(host=host, key=new_key[1] if new_key else KEY_PLACEHOLDER),
            recent_events=selectors.recent_events(workspace=workspace),
            set_aside=selectors.set_aside_messages(workspace=workspace),
            unmatched=selectors.unmatched_groups(workspace=workspace),
        )
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        try:
            if action == "create_key":
                form = WriteKeyForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(key_form=form))
                key, plaintext = services.create_write_key(
                    workspace=self.workspace, name=form.cleaned_data["name"], actor=self.actor
                )
                # Rendered, not redirected: the plaintext must never sit in a URL or the session.
                return self.render_to_response(self.get_context_data(new_key=(key, plaintext)))
            if action in ("revoke_key", "rotate_key"):
                key = self._key(request.POST.get("key"))
                if action == "revoke_key":
                    services.revoke_write_key(write_key=key, actor=self.actor)
                    messages.success(request, _("Key “%(name)s” revoked.") % {"name": key.name})
                    return redirect("usage:settings")
                new, plaintext = services.rotate_write_key(write_key=key, actor=self.actor)
                return self.render_to_response(self.get_context_data(new_key=(new, plaintext)))
            if action == "save_settings":
                form = IngestSettingsForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(settings_form=form))
                data = dict(form.cleaned_data)
                data["trait_mapping"] = services.parse_trait_mapping(data["trait_mapping"])
                services.update_ingest_settings(workspace=self.workspace, actor=self.actor, **data)
                messages.success(request, _("Usage settings saved."))
                return redirect("usage:settings")
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("usage:settings")
        raise Http404(_("Unknown action."))

    def _key(self, pk):
        key = self.scoped(WriteKey).filter(pk=pk).first() if str(pk).isdigit() else None
        if key is None:
            raise Http404(_("No such write key in this workspace."))
        return key


class UsageHistoryView(WorkspaceMixin, TemplateView):
    """Load historical events from a file, rebuild the rollups of a range of days, and follow the jobs."""

    template_name = "usage/history.html"
    required_action = "usage.import_history"

    def get_context_data(self, *, upload_form=None, rebuild_form=None, errors=None, **kwargs):
        context = super().get_context_data(**kwargs)
        jobs = list(selectors.history_imports(workspace=self.workspace))
        ingest = selectors.ingest_settings(workspace=self.workspace)
        context.update(
            upload_form=upload_form or HistoryUploadForm(), rebuild_form=rebuild_form or RebuildForm(),
            errors=errors or [], jobs=jobs, running=any(job.is_running for job in jobs),
            retention_days=ingest.retention_days,
            api_url=self.request.build_absolute_uri("/api/v1/usage/history/"),
        )
        return context

    def post(self, request, *args, **kwargs):
        from .services.history import HistoryError, start_import, start_rebuild

        action = request.POST.get("action", "import")
        try:
            if action == "rebuild":
                form = RebuildForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(rebuild_form=form), status=400)
                start_rebuild(workspace=self.workspace, actor=self.actor, first=form.cleaned_data["first_day"],
                              last=form.cleaned_data["last_day"])
                messages.success(request, _("Rebuild started."))
                return redirect("usage:history")
            form = HistoryUploadForm(request.POST, request.FILES)
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(upload_form=form), status=400)
            upload = form.cleaned_data["file"]
            try:
                start_import(workspace=self.workspace, actor=self.actor, chunks=upload.chunks(), filename=upload.name)
            except HistoryError as exc:
                form.add_error("file", _("The file was not loaded (nothing was written): fix the rows below and "
                                         "send it again."))
                return self.render_to_response(self.get_context_data(upload_form=form, errors=exc.errors), status=400)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("usage:history")
        messages.success(request, _("File checked; loading started."))
        return redirect("usage:history")
