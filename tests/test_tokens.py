"""Personal API tokens: only a hash is stored, the key is shown once, revocation is immediate."""

import pytest
from django.apps import apps
from django.db import models
from rest_framework.test import APIClient

from workspaces.models import ApiToken, AuditEvent
from workspaces.services import deactivate_member, issue_token, revoke_token

pytestmark = pytest.mark.django_db


def client_with(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_the_database_never_contains_the_key(csm, account):
    token, key = issue_token(membership=csm, name="CRM sync")
    client_with(key).get("/api/v1/accounts/")  # use it too: last_used_at and audit are written
    assert token.key_hash == ApiToken.hash_key(key) != key
    assert key.startswith(token.key_hint) and len(token.key_hint) < len(key) // 3
    # Every text column of every table: the key appears nowhere, not even in the audit trail.
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                assert not model._default_manager.filter(**{f"{field.name}__contains": key}).exists(), (
                    model.__name__, field.name
                )
            elif isinstance(field, models.JSONField):
                for value in model._default_manager.values_list(field.name, flat=True):
                    assert key not in str(value), (model.__name__, field.name)


def test_keys_are_unique_and_random(csm):
    keys = {issue_token(membership=csm, name=f"t{i}")[1] for i in range(5)}
    assert len(keys) == 5
    assert all(len(k) > 40 for k in keys)


def test_token_authenticates_as_its_membership(csm, account):
    token, key = issue_token(membership=csm, name="CRM sync")
    response = client_with(key).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["membership"]["id"] == csm.pk
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revocation_is_immediate_and_audited(csm, admin, account):
    token, key = issue_token(membership=csm, name="CRM sync")
    api = client_with(key)
    assert api.get("/api/v1/accounts/").status_code == 200
    revoke_token(token=token, actor=admin)
    response = api.get("/api/v1/accounts/")
    assert response.status_code == 401
    assert "Sakura" not in response.content.decode()
    assert AuditEvent.all_workspaces.filter(action="token.revoked", object_id=str(token.pk)).exists()
    # revoking twice is harmless and records nothing more
    revoke_token(token=token, actor=admin)
    assert AuditEvent.all_workspaces.filter(action="token.revoked").count() == 1


def test_revoking_one_token_leaves_the_others(csm, account):
    first, first_key = issue_token(membership=csm, name="one")
    _, second_key = issue_token(membership=csm, name="two")
    revoke_token(token=first, actor=csm)
    assert client_with(first_key).get("/api/v1/accounts/").status_code == 401
    assert client_with(second_key).get("/api/v1/accounts/").status_code == 200


def test_deactivating_a_member_revokes_their_tokens(csm, admin, account):
    token, key = issue_token(membership=csm, name="CRM sync")
    deactivate_member(membership=csm, actor=admin)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_with(key).get("/api/v1/accounts/").status_code == 401


def test_inactive_user_token_is_rejected(csm, account):
    _, key = issue_token(membership=csm, name="CRM sync")
    csm.user.is_active = False
    csm.user.save()
    assert client_with(key).get("/api/v1/accounts/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer csp_x", "Token csp_almost"])
def test_malformed_or_unknown_credentials_are_401(header, account):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/accounts/")
    # "Bearer …" is not our scheme: no credentials at all, which is also a 401.
    assert response.status_code == 401
