"""Pages of the composition floor: the home page and actions that span every capability."""

from django.contrib import messages
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from workspaces.pages import WorkspaceMixin

from .homes import my_book
from .tasks import recompute_workspace


class HomeView(WorkspaceMixin, TemplateView):
    """My book: the member's morning page (due touches, risks, renewals, alerts)."""

    template_name = "homes/my_book.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **my_book(membership=self.membership)}


class RecomputeView(WorkspaceMixin, View):
    """Run the workspace's nightly pipeline for today now (in-process when no worker is configured)."""

    required_action = "pipeline.recompute"

    def post(self, request):
        result = recompute_workspace.delay(self.workspace.pk, requested_by=self.membership.pk)
        if not result.ready():
            messages.info(request, _("Recomputation started; refresh in a minute."))
        elif result.get()["skipped"]:
            messages.info(request, _("A recomputation of this workspace is already running; refresh in a minute."))
        else:
            messages.success(request, _("Recomputed: coverage, segments and tiers are up to date."))
        return self.redirect_back("coverage:report")
