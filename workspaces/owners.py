"""Whose accounts a page shows: one member's, the whole team's, or the ones nobody owns.

    choice = choose_owner(request.GET.get("owner"), membership=self.membership,
                          may_see_any=allows(self.actor, "coverage.see_any_due_list"))
    rows = due_list(workspace=..., owner=choice.owner, ...)   # a Membership, None or ALL

A member who may look at others (a manager or admin) picks from "All" (the default: a manager's own
book is usually empty, and the team is what they answer for), "Unassigned" and every member; the
picker (templates/includes/owner_picker.html) sends `owner=all`, `owner=none` or a member's id.
Everyone else always gets their own book, whatever the address says.
"""

from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _

from .models import Membership

ALL = "all"  # as a selector's `owner`: every account, owned or not
UNASSIGNED = "none"  # as the picker's value; a selector's `owner` is then None (owner IS NULL)


@dataclass(frozen=True)
class OwnerChoice:
    value: str  # what the picker sends: "all", "none" or the member's id
    member: Membership | None = None

    @property
    def is_all(self):
        return self.value == ALL

    @property
    def is_unassigned(self):
        return self.value == UNASSIGNED

    @property
    def owner(self):
        """The selectors' `owner` argument: the member, None for nobody's accounts, or ALL."""
        return ALL if self.is_all else self.member

    @property
    def label(self):
        if self.is_all:
            return _("All")
        if self.is_unassigned:
            return _("Unassigned")
        return self.member.display_name

    @property
    def query(self):
        """`owner=…` for a link that keeps this choice."""
        return f"owner={self.value}"


def own(membership):
    return OwnerChoice(str(membership.pk), membership)


def choose_owner(raw, *, membership, may_see_any, default=ALL):
    """The owner `raw` (the request's `owner` parameter) names, as `membership` may see it.

    A member of another workspace, one that does not exist, or a value that names no one is a 404 for
    those who may pick; no value at all is `default` ("all", or "me" for the member's own book).
    """
    if not may_see_any:
        return own(membership)
    raw = (raw or "").strip().lower()
    if raw.isdigit():
        # Deactivated members too: their accounts still need someone to look at them (the picker
        # lists the active ones; the team home links to every owner).
        member = Membership.objects.for_workspace(membership.workspace).select_related("user").filter(
            pk=int(raw)).first()
        if member is None:
            raise Http404(_("No such member in this workspace."))
        return OwnerChoice(raw, member)
    if raw in (ALL, UNASSIGNED):
        return OwnerChoice(raw)
    if raw:
        # A value that names no one is an error, never silently the whole team.
        raise Http404(_("No such member in this workspace."))
    if default == "me":
        return own(membership)
    return OwnerChoice(default)
