"""Members join by invitation: an admin invites an e-mail address, the invitee accepts.

Before, an admin added any login of the deployment by its username (learning its name and e-mail,
joining it without consent) and an unknown username said which usernames exist. Now nothing an admin
does tells them whether someone has a login, and nobody joins a workspace without accepting.
"""

import datetime as dt
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import models
from django.urls import reverse
from django.utils import timezone

from workspaces.models import AuditEvent, Invitation, Membership, Role

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

MEMBERS = reverse("workspaces:members")
INVITE = reverse("workspaces:invite")
NEW_PASSWORD = "Sakura-blossom-2026"


def invite(client, email, role="csm"):
    return client.post(INVITE, {"email": email, "role": role})


def link_of(response):
    """The invitation link the admin's page shows (once), as a path."""
    match = re.search(r'value="https?://[^/"]+(/workspace/join/[^"/]+/)"', response.content.decode())
    assert match, "the page shows the link to copy"
    return match.group(1)


def invitation_of(email):
    return Invitation.all_workspaces.get(email=email, accepted_at__isnull=True, revoked_at__isnull=True)


def audit_actions(workspace):
    return list(AuditEvent.objects.for_workspace(workspace).order_by("at", "id").values_list("action", flat=True))


# --- the old ways in are gone ----------------------------------------------------------------------
def test_adding_an_existing_login_by_username_is_gone(login, admin, outsider):
    client = login(admin)
    assert client.post("/workspace/members/add/", {"add-username": "outsider", "add-role": "viewer"}).status_code == 404
    assert client.post("/workspace/members/new/", {"new-username": "fresh", "new-password": NEW_PASSWORD,
                                                   "new-role": "admin"}).status_code == 404
    assert not Membership.all_workspaces.filter(workspace=admin.workspace, user=outsider.user).exists()
    page = client.get(MEMBERS).content.decode()
    assert 'name="add-username"' not in page and 'name="new-username"' not in page
    assert 'name="email"' in page  # the invitation form instead


def test_an_invitation_reveals_nothing_about_existing_logins(login, admin, outsider):
    client = login(admin)
    known = invite(client, outsider.user.email)  # outsider@example.com has a login (in another workspace)
    unknown = invite(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200

    def result(response):
        """The part of the page that answers the invitation, without the address, link and times."""
        text = re.search(r'<section class="panel invitation-result".*?</section>', response.content.decode(), re.S)
        text = text.group(0)
        for specific in (outsider.user.email, "nobody@example.com", link_of(known), link_of(unknown)):
            text = text.replace(specific, "…")
        return re.sub(r"\d", "0", text)

    assert result(known) == result(unknown)
    page = known.content.decode().replace(outsider.user.email, "")  # what the admin typed aside
    assert "Olga" not in page and "outsider" not in page  # the login's name and username stay unknown
    assert not Membership.all_workspaces.filter(workspace=admin.workspace, user=outsider.user).exists()


# --- inviting ------------------------------------------------------------------------------------------
def test_admin_invites_by_email_and_the_link_is_sent_and_shown(login, admin, ws, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = invite(login(admin), "Haruka.Ito@Example.com", role="manager")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = link_of(response)
    invitation = invitation_of("haruka.ito@example.com")
    assert invitation.role == Role.MANAGER and invitation.invited_by == admin
    assert dt.timedelta(days=6) < invitation.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["haruka.ito@example.com"]
    assert link in message.body and "Acme CS" in message.body and "Aiko" in message.body
    assert audit_actions(ws) == ["invitation.created"]
    # The link is shown once: the list shows the invitation, not its link.
    listing = login(admin).get(MEMBERS).content.decode()
    assert "haruka.ito@example.com" in listing and link not in listing


def test_when_mail_cannot_be_sent_the_page_still_gives_the_link(login, admin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens
    response = invite(login(admin), "haruka@example.com")
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    assert link_of(response)
    assert invitation_of("haruka@example.com")


def test_invitation_form_names_the_bad_field(login, admin):
    response = invite(login(admin), "not-an-address")
    assert response.status_code == 400
    assert "email" in response.context["invite_form"].errors
    response = invite(login(admin), "ok@example.com", role="owner")
    assert response.status_code == 400
    assert "role" in response.context["invite_form"].errors
    assert not Invitation.all_workspaces.exists()


@pytest.mark.parametrize("role_fixture", ["manager", "csm", "viewer"])
def test_only_admins_invite_and_see_invitations(request, login, role_fixture, admin):
    invite(login(admin), "pending@example.com")
    member = request.getfixturevalue(role_fixture)
    client = login(member)
    assert invite(client, "sneaky@example.com").status_code == 403
    assert "pending@example.com" not in client.get(MEMBERS).content.decode()
    pending = invitation_of("pending@example.com")
    assert client.post(reverse("workspaces:invitation_revoke", args=[pending.pk])).status_code == 403
    assert Invitation.all_workspaces.count() == 1 and pending.revoked_at is None


def test_admin_revokes_a_pending_invitation(client, login, admin, ws):
    link = link_of(invite(login(admin), "haruka@example.com"))
    pending = invitation_of("haruka@example.com")
    response = login(admin).post(reverse("workspaces:invitation_revoke", args=[pending.pk]))
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.revoked_at is not None
    assert list(login(admin).get(MEMBERS).context["invitations"]) == []
    assert audit_actions(ws) == ["invitation.created", "invitation.revoked"]
    client.logout()
    page = client.get(link)
    assert page.status_code == 410 and "withdrawn" in page.content.decode()


def test_another_workspaces_admin_cannot_revoke(login, admin, outsider):
    invite(login(admin), "haruka@example.com")
    pending = invitation_of("haruka@example.com")
    assert login(outsider).post(reverse("workspaces:invitation_revoke", args=[pending.pk])).status_code == 404
    assert "haruka@example.com" not in login(outsider).get(MEMBERS).content.decode()
    pending.refresh_from_db()
    assert pending.revoked_at is None


def test_inviting_the_same_address_again_replaces_the_earlier_link(client, login, admin):
    first = link_of(invite(login(admin), "haruka@example.com"))
    second = link_of(invite(login(admin), "haruka@example.com", role="viewer"))
    client.logout()
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert Invitation.all_workspaces.filter(revoked_at__isnull=True).count() == 1


def test_the_database_never_holds_the_link(login, admin):
    token = link_of(invite(login(admin), "haruka@example.com")).rstrip("/").rsplit("/", 1)[1]
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                for value in model._default_manager.values_list(field.name, flat=True):
                    assert token not in str(value), (model.__name__, field.name)


# --- accepting ------------------------------------------------------------------------------------------
def test_a_signed_in_user_accepts_into_the_workspace(client, login, admin, ws, outsider):
    link = link_of(invite(login(admin), outsider.user.email, role="viewer"))
    invitee = login(outsider)
    page = invitee.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Acme CS" in text and "Viewer" in text and "Aiko" in text
    assert not Membership.all_workspaces.filter(workspace=ws, user=outsider.user).exists()  # not before accepting
    response = invitee.post(link, {"action": "accept"})
    assert response.status_code == 302 and response.url == reverse("home")
    membership = Membership.all_workspaces.get(workspace=ws, user=outsider.user)
    assert membership.role == Role.VIEWER and membership.is_active
    assert invitee.session["workspace_id"] == ws.pk  # lands in the workspace just joined
    invitation = Invitation.all_workspaces.get()
    assert invitation.accepted_at is not None and invitation.accepted_by == membership
    assert audit_actions(ws) == ["invitation.created", "invitation.accepted", "member.joined"]
    assert AuditEvent.objects.for_workspace(ws).get(action="member.joined").actor == membership
    # Used once: the link now says so, and joins nobody else.
    again = invitee.get(link)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_a_new_person_creates_a_login_and_joins(client, login, admin, ws):
    link = link_of(invite(login(admin), "haruka@example.com", role="csm"))
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert "Create your login" in page.content.decode() and "Log in" in page.content.decode()
    response = client.post(link, {"action": "register", "username": "haruka", "first_name": "Haruka",
                                  "last_name": "Ito", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")
    user = get_user_model().objects.get(username="haruka")
    assert user.email == "haruka@example.com" and user.get_full_name() == "Haruka Ito"
    assert Membership.all_workspaces.get(workspace=ws, user=user).role == Role.CSM
    assert client.get(reverse("home")).status_code == 200  # signed in
    client.logout()
    signed_in = client.post(reverse("login"), {"username": "haruka", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.url == reverse("home")


def test_a_weak_password_is_refused_and_nothing_is_created(client, login, admin):
    link = link_of(invite(login(admin), "haruka@example.com"))
    client.logout()
    response = client.post(link, {"action": "register", "username": "haruka", "password1": "haruka",
                                  "password2": "haruka"})
    assert response.status_code == 400
    assert "password2" in response.context["register_form"].errors
    assert not get_user_model().objects.filter(username="haruka").exists()
    assert invitation_of("haruka@example.com").accepted_at is None


def test_an_existing_login_signs_in_on_the_invitation_page_and_joins(client, login, admin, ws, outsider):
    link = link_of(invite(login(admin), "olga@elsewhere.example"))
    client.logout()
    wrong = client.post(link, {"action": "sign_in", "username": "outsider", "password": "nope"})
    assert wrong.status_code == 400
    assert "correct username and password" in wrong.content.decode()
    assert not Membership.all_workspaces.filter(workspace=ws, user=outsider.user).exists()
    response = client.post(link, {"action": "sign_in", "username": "outsider", "password": PASSWORD})
    assert response.status_code == 302
    assert Membership.all_workspaces.get(workspace=ws, user=outsider.user).role == Role.CSM


def test_signing_in_on_the_invitation_page_is_locked_out_like_the_login_page(client, login, admin, outsider):
    link = link_of(invite(login(admin), "olga@elsewhere.example"))
    client.logout()
    for _ in range(5):
        client.post(link, {"action": "sign_in", "username": "outsider", "password": "nope"})
    response = client.post(link, {"action": "sign_in", "username": "outsider", "password": PASSWORD})
    assert response.status_code == 429
    assert not Membership.all_workspaces.filter(workspace=admin.workspace, user=outsider.user).exists()


def test_a_taken_username_is_a_form_error(client, login, admin, outsider):
    link = link_of(invite(login(admin), "haruka@example.com"))
    client.logout()
    response = client.post(link, {"action": "register", "username": "outsider", "password1": NEW_PASSWORD,
                                  "password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert "username" in response.context["register_form"].errors
    outsider.user.refresh_from_db()
    assert outsider.user.check_password(PASSWORD)  # never touched


def test_an_expired_link_says_so_and_joins_nobody(client, login, admin, ws, outsider):
    link = link_of(invite(login(admin), "olga@elsewhere.example"))
    Invitation.all_workspaces.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    invitee = login(outsider)
    page = invitee.get(link)
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert invitee.post(link, {"action": "accept"}).status_code == 410
    assert not Membership.all_workspaces.filter(workspace=ws, user=outsider.user).exists()


def test_an_unknown_link_is_not_found(client):
    page = client.get(reverse("workspaces:join", args=["no-such-invitation"]))
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_a_member_already_in_the_workspace_is_told_so(login, admin, csm):
    link = link_of(invite(login(admin), csm.user.email, role="admin"))
    response = login(csm).post(link, {"action": "accept"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    csm.refresh_from_db()
    assert csm.role == Role.CSM  # an invitation is no way to change a member's role


def test_a_deactivated_member_rejoins_with_the_invited_role(login, admin, csm):
    from workspaces.services import deactivate_member

    deactivate_member(membership=csm, actor=admin)
    link = link_of(invite(login(admin), csm.user.email, role="viewer"))
    response = login(csm).post(link, {"action": "accept"})
    assert response.status_code == 302
    csm.refresh_from_db()
    assert csm.is_active and csm.role == Role.VIEWER


def test_no_member_creates_logins_directly(admin, ws):
    """The service behind the demo's logins is the platform's alone."""
    from workspaces.errors import NotAllowed
    from workspaces.services import create_user_with_membership

    with pytest.raises(NotAllowed):
        create_user_with_membership(workspace=ws, username="fresh", password=NEW_PASSWORD, role="admin", actor=admin)
    assert not get_user_model().objects.filter(username="fresh").exists()
