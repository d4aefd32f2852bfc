from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

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
    events = AuditEvent.objects.for_workspace(workspace).select_related("actor__user")
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id is not None:
        events = events.filter(object_id=str(object_id))
    return events


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
