"""Members and API token pages: everyone sees the members, only admins manage them; tokens are personal.

Members join by invitation: tests/test_invitations.py."""

import pytest
from django.urls import reverse

from workspaces.models import ApiToken, Role

pytestmark = pytest.mark.django_db

MEMBERS = reverse("workspaces:members")
TOKENS = reverse("workspaces:tokens")


def test_every_role_sees_the_members_of_their_workspace_only(login, admin, manager, csm, viewer, outsider):
    for member in (admin, manager, csm, viewer):
        response = login(member).get(MEMBERS)
        assert response.status_code == 200
        listed = {m.user.username for m in response.context["members"]}
        assert listed == {"admin", "manager", "csm", "viewer"}
        assert b"outsider" not in response.content
    assert b"Invite a member" not in login(viewer).get(MEMBERS).content
    assert b"Invite a member" in login(admin).get(MEMBERS).content


@pytest.mark.parametrize("role_fixture", ["manager", "csm", "viewer"])
def test_only_admin_manages_members(request, login, role_fixture, csm2):
    member = request.getfixturevalue(role_fixture)
    client = login(member)
    assert client.post(reverse("workspaces:member_role", args=[csm2.pk]), {"role": "admin"}).status_code == 403
    assert client.post(reverse("workspaces:member_deactivate", args=[csm2.pk])).status_code == 403
    assert client.post(reverse("workspaces:member_reactivate", args=[csm2.pk])).status_code == 403
    csm2.refresh_from_db()
    assert csm2.role == Role.CSM and csm2.is_active


def test_admin_changes_role_and_deactivates(login, admin, csm, api_for):
    client = login(admin)
    assert client.post(reverse("workspaces:member_role", args=[csm.pk]), {"role": "manager"}).status_code == 302
    csm.refresh_from_db()
    assert csm.role == Role.MANAGER
    api_for(csm)
    assert client.post(reverse("workspaces:member_deactivate", args=[csm.pk])).status_code == 302
    csm.refresh_from_db()
    assert not csm.is_active
    assert not ApiToken.objects.active().filter(membership=csm).exists()
    assert client.post(reverse("workspaces:member_reactivate", args=[csm.pk])).status_code == 302
    csm.refresh_from_db()
    assert csm.is_active


def test_last_admin_cannot_be_demoted(login, admin):
    client = login(admin)
    response = client.post(reverse("workspaces:member_role", args=[admin.pk]), {"role": "csm"}, follow=True)
    assert b"at least one admin" in response.content
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_admin_cannot_touch_another_workspaces_member(login, admin, outsider):
    client = login(admin)
    assert client.post(reverse("workspaces:member_role", args=[outsider.pk]), {"role": "viewer"}).status_code == 404
    assert client.post(reverse("workspaces:member_deactivate", args=[outsider.pk])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.role == Role.ADMIN and outsider.is_active


# --- API tokens ----------------------------------------------------------------------------------
def test_token_key_is_shown_once_and_works(login, viewer, client):
    page = login(viewer).post(TOKENS, {"name": "Spreadsheet pull"})
    assert page.status_code == 200
    key = page.context["new_key"]
    assert key.startswith("csp_") and key.encode() in page.content
    token = ApiToken.objects.get(membership=viewer)
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hint + token.key_hash
    listing = client.get(TOKENS)
    assert key.encode() not in listing.content
    assert b"Spreadsheet pull" in listing.content


def test_token_name_is_required(login, csm):
    response = login(csm).post(TOKENS, {"name": ""})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_tokens_are_personal(login, csm, csm2, outsider, api_for):
    api_for(csm2)
    api_for(outsider)
    mine_client = login(csm)
    listing = mine_client.get(TOKENS)
    assert list(listing.context["tokens"]) == []
    others = ApiToken.objects.exclude(membership=csm)
    for token in others:
        assert mine_client.post(reverse("workspaces:token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.active().count() == 2


def test_revoke_my_token(login, csm):
    client = login(csm)
    client.post(TOKENS, {"name": "CRM"})
    token = ApiToken.objects.get(membership=csm)
    response = client.post(reverse("workspaces:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert b"Revoked" in client.get(TOKENS).content


def test_nav_links_to_members_and_tokens(login, viewer):
    content = login(viewer).get(reverse("accounts:list")).content.decode()
    assert f'href="{MEMBERS}"' in content and f'href="{TOKENS}"' in content
