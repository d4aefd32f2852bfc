import json

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .filtersets import ActorKind, AuditEventFilterSet
from .models import ApiToken, AuditEvent, Invitation, Membership


def memberships_of(user):
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.all_workspaces.filter(user=user, is_active=True).select_related("workspace").order_by(
        "workspace__name"
    )


def current_membership_for(request):
    """The membership the session points at, or the user's first one. None when there is none."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = memberships_of(user)
    wanted = request.session.get("workspace_id")
    if wanted:
        chosen = memberships.filter(workspace_id=wanted).first()
        if chosen:
            return chosen
    return memberships.first()


def workspace_members(*, workspace, roles=None):
    members = Membership.objects.for_workspace(workspace).filter(is_active=True).select_related("user")
    if roles:
        members = members.filter(role__in=roles)
    return members


def tokens_of(membership):
    return ApiToken.objects.filter(membership=membership)


def audit_events(*, workspace, object_type=None, object_id=None):
    events = AuditEvent.objects.for_workspace(workspace).select_related("actor__user", "token")
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id is not None:
        events = events.filter(object_id=str(object_id))
    return events


# --- the audit log page, its export and its API ------------------------------------------------
def audit_log(*, workspace, data, request):
    """The AuditEventFilterSet over the workspace's events, newest first unless `ordering` says
    otherwise. Its `.qs` are the rows; an invalid filter leaves `.errors` and the caller shows no rows."""
    events = audit_events(workspace=workspace).order_by("-at", "-id")
    return AuditEventFilterSet(data or None, queryset=events, request=request)


def readable_changes(changes):
    """[(field, before, after)] of an event's changes; `before` is None for a plain value.

    Services write {field: [before, after]} for edits and {field: value} for what a new record or an
    action carried (e.g. {"role": "csm"}); both read as one line per field.
    """
    if not isinstance(changes, dict):
        return [("", None, _text(changes))]
    lines = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            lines.append((field, _text(value[0]), _text(value[1])))
        else:
            lines.append((field, None, _text(value)))
    return lines


def _text(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes_as_text(changes):
    parts = []
    for field, before, after in readable_changes(changes):
        value = after if before is None else f"{before} → {after}"
        parts.append(f"{field}: {value}" if field else value)
    return "; ".join(parts)


def audit_export_table(events, *, tz):
    """(headers, rows) of the events for the CSV/XLSX download (ui.spreadsheets guards formulas)."""
    headers = [_("When"), _("Who"), _("Actor"), _("Member ID"), _("API token"), _("Action"), _("Object type"),
               _("Object ID"), _("Object"), _("Changes")]

    kinds = dict(ActorKind.choices)

    def rows():
        for event in events.iterator(chunk_size=2000):
            yield [
                timezone.localtime(event.at, tz), str(kinds[event.actor_kind]), str(event.actor_label), event.actor_id,
                event.token.name if event.token_id else "", event.action, event.object_type, event.object_id,
                event.object_repr, changes_as_text(event.changes),
            ]

    return headers, rows()


def locked_out_usernames(usernames):
    """Which of `usernames` are locked out of signing in now, from some address (django-axes)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values_list("username", flat=True)
    )


def pending_invitations(*, workspace):
    return Invitation.objects.for_workspace(workspace).pending().select_related("invited_by__user")


def invitation_for_token(token):
    """The invitation a link names, in whichever workspace (the token is the proof), or None."""
    return (
        Invitation.all_workspaces.select_related("workspace", "invited_by__user")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
