"""The usage-data settings page: keys shown once, roles, snippets and tenancy."""

import html

import pytest

from usage.models import WriteKey
from usage.selectors import ingest_settings
from usage.services import create_write_key
from workspaces.policy import SYSTEM

from .ingest_helpers import post_batch, track

URL = "/usage/settings/"


def test_admin_creates_a_key_that_is_shown_once_and_works(login, client, ws, admin):
    page = login(admin)
    response = page.post(URL, {"action": "create_key", "name": "Web app"})
    assert response.status_code == 200
    key = WriteKey.all_workspaces.get(workspace=ws, name="Web app")
    plaintext = response.context["new_key"][1]
    body = html.unescape(response.content.decode())
    assert plaintext in body
    assert f'analytics.write_key = "{plaintext}"' in body
    assert "http://testserver/v1/batch" in body
    assert key.key_hash != plaintext and plaintext not in key.key_hash
    later = page.get(URL).content.decode()
    assert plaintext not in later and key.key_hint in later and "YOUR_WRITE_KEY" in later
    assert post_batch(client, plaintext, [track("m1")]).status_code == 200


def test_rotation_keeps_the_old_key_until_it_is_revoked(login, client, ws, admin):
    old, old_plain = create_write_key(workspace=ws, name="Backend", actor=admin)
    page = login(admin)
    response = page.post(URL, {"action": "rotate_key", "key": old.pk})
    new_plain = response.context["new_key"][1]
    assert new_plain != old_plain
    assert post_batch(client, old_plain, [track("m1")]).status_code == 200
    assert post_batch(client, new_plain, [track("m2")]).status_code == 200
    page.post(URL, {"action": "revoke_key", "key": old.pk})
    assert post_batch(client, old_plain, [track("m3")]).status_code == 401
    assert post_batch(client, new_plain, [track("m4")]).status_code == 200


def test_managers_read_but_only_admins_change(login, ws, manager):
    page = login(manager)
    assert page.get(URL).status_code == 200
    assert page.post(URL, {"action": "create_key", "name": "x"}).status_code == 403
    assert not WriteKey.all_workspaces.filter(workspace=ws).exists()


@pytest.mark.parametrize("persona", ["csm", "viewer"])
def test_csms_and_viewers_cannot_open_the_page(request, login, persona):
    assert login(request.getfixturevalue(persona)).get(URL).status_code == 403


def test_nav_links_the_page_for_managers(login, admin):
    assert 'href="/usage/settings/"' in login(admin).get("/usage/settings/").content.decode()


def test_the_page_lists_events_set_aside_messages_and_waiting_groups(login, client, ws, admin, account):
    _, key = create_write_key(workspace=ws, name="app", actor=SYSTEM)
    post_batch(client, key, [track("m1", event="Report Exported", group_id="crm-sakura"),
                             track("m2", event="Orphan Event", group_id="acct-unknown"),
                             {"type": "track", "messageId": "bad-1", "userId": "u1"}])
    body = login(admin).get(URL).content.decode()
    assert "Report Exported" in body and "Sakura Logistics KK" in body
    assert "acct-unknown" in body
    assert "A track call needs an event name." in body and "bad-1" in body


def test_workspace_b_never_sees_or_touches_a(login, client, ws, other_ws, admin, outsider, account):
    key_a, plain_a = create_write_key(workspace=ws, name="A key", actor=SYSTEM)
    post_batch(client, plain_a, [track("m1", event="Secret A Event", group_id="acct-a-only"),
                                 {"type": "track", "messageId": "a-bad", "userId": "u1"}])
    page = login(outsider)
    body = page.get(URL).content.decode()
    for leaked in ("Secret A Event", "acct-a-only", "a-bad", "A key", key_a.key_hint):
        assert leaked not in body
    assert page.post(URL, {"action": "revoke_key", "key": key_a.pk}).status_code == 404
    assert page.post(URL, {"action": "rotate_key", "key": key_a.pk}).status_code == 404
    key_a.refresh_from_db()
    assert key_a.is_active


def test_settings_form_saves_mapping_and_rejects_unknown_fields(login, ws, admin):
    page = login(admin)
    response = page.post(URL, {"action": "save_settings", "trait_mapping": "company = name\nusers = licensed_seats",
                               "retention_days": 90, "create_unknown_accounts": ""}, follow=True)
    assert response.status_code == 200
    saved = ingest_settings(workspace=ws)
    assert saved.trait_mapping == {"company": "name", "users": "licensed_seats"}
    assert (saved.retention_days, saved.create_unknown_accounts) == (90, False)
    response = page.post(URL, {"action": "save_settings", "trait_mapping": "x = owner", "retention_days": 90},
                         follow=True)
    assert "Line 1" in html.unescape(response.content.decode())
    assert ingest_settings(workspace=ws).trait_mapping == {"company": "name", "users": "licensed_seats"}
