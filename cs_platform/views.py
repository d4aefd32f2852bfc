"""Pages of the composition floor: the home page and actions that span every capability."""

import logging

from django.contrib import messages
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import View
from django.views.defaults import page_not_found
from django.views.generic import TemplateView
from kombu.exceptions import OperationalError as BrokerUnavailable

from workspaces.owners import choose_owner
from workspaces.pages import WorkspaceMixin
from workspaces.policy import allows
from workspaces.selectors import workspace_members

from .homes import DEFAULT_PERIOD, book, team_home
from .tasks import recompute_workspace

logger = logging.getLogger(__name__)

# Queueing from a page: one try at the broker, no reconnect loop, so that with Redis down the page
# answers at once (the task would wait for no one anyway: nightly steps are idempotent, the beat
# runs the night regardless, and the member can press the button again).
ENQUEUE_ONCE = {"max_retries": 0, "interval_start": 0, "interval_step": 0, "interval_max": 0}

class BookView(WorkspaceMixin, TemplateView):
    """My book: the accounts that need their CSM today, in one prioritised list (cs_platform.homes.book).

    A CSM sees their own. A manager sees the whole team's by default and may pick one member or the
    accounts nobody owns (workspaces.owners), as on every per-CSM page.
    """

    template_name = "homes/my_book.html"

    def get_context_data(self, **kwargs):
        may_see_any = allows(self.actor, "coverage.see_any_due_list")
        choice = choose_owner(self.request.GET.get("owner"), membership=self.membership, may_see_any=may_see_any)
        return {
            **super().get_context_data(**kwargs),
            **book(workspace=self.workspace, owner=choice.owner),
            "owner": choice.member, "owner_choice": choice,
            "members": workspace_members(workspace=self.workspace) if may_see_any else None,
        }


class HomeView(BookView):
    """The first page: the team home for managers and admins (KPIs and one row per CSM), My book for
    everyone else. `?view=book` opens a manager's My book (of the team, or of `?owner=`)."""

    team_template_name = "homes/team.html"

    def shows_team(self):
        return self.request.GET.get("view") != "book" and allows(self.actor, "coverage.see_any_due_list")

    def get_template_names(self):
        return [self.team_template_name] if self.shows_team() else super().get_template_names()

    def get_context_data(self, **kwargs):
        if not self.shows_team():
            return super().get_context_data(**kwargs)
        return {**super(BookView, self).get_context_data(**kwargs),
                **team_home(workspace=self.workspace, period=self.request.GET.get("period", DEFAULT_PERIOD),
                            sort=self.request.GET.get("sort", "name"))}


class RecomputeView(WorkspaceMixin, View):
    """Run the workspace's nightly pipeline for today now (in-process when no worker is configured)."""

    required_action = "pipeline.recompute"

    def post(self, request):
        eager = recompute_workspace.app.conf.task_always_eager
        try:
            # With a broker no result is kept: the page does not wait for it, and asking the result
            # store for it would hang while Redis is down. In-process, the result is right here.
            result = recompute_workspace.apply_async((self.workspace.pk,), {"requested_by": self.membership.pk},
                                                     ignore_result=not eager, retry_policy=ENQUEUE_ONCE)
        except BrokerUnavailable:
            logger.warning("recompute of workspace %s not started: the broker is unavailable", self.workspace.slug,
                           exc_info=True)
            messages.error(request, _("The task queue is unavailable, so the recomputation was not started. "
                                      "Try again in a few minutes."))
            return self.redirect_back("coverage:report")
        if not eager:
            messages.info(request, _("Recomputation started; refresh in a minute."))
        elif result.get()["skipped"]:
            messages.info(request, _("A recomputation of this workspace is already running; refresh in a minute."))
        else:
            messages.success(request, _("Recomputed: coverage, segments and tiers are up to date."))
        return self.redirect_back("coverage:report")


def not_found(request, exception=None):
    """A path no route matches: the REST API answers in its own JSON shape, the pages with the 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
