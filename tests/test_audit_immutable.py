"""The audit log is append-only: nothing in the application updates or deletes an audit row.

Model, querysets, the admin and (on PostgreSQL) the database itself refuse it; deleting a member or
a token who acted is refused rather than rewriting the rows that name them; deleting a whole
workspace (a tenant's offboarding) is the one way a workspace's log goes, and takes only its own.
"""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError
from django.urls import reverse

from accounts.services import update_account
from workspaces.audit import erase_workspace_audit, record_audit
from workspaces.models import AuditEvent, AuditImmutable, Membership, Workspace
from workspaces.policy import SystemActor
from workspaces.services import issue_token

from .factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")


@pytest.fixture
def event(ws, csm, account):
    return record_audit(workspace=ws, actor=csm, action="account.updated", obj=account, changes={"plan": ["A", "B"]})


def stored(event):
    return AuditEvent.all_workspaces.filter(pk=event.pk).values("action", "object_repr", "changes", "actor_id").get()


def test_a_saved_event_cannot_be_saved_again(event):
    before = stored(event)
    event.action = "account.deleted"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        AuditEvent.all_workspaces.get(pk=event.pk).save(update_fields=["action"])
    assert stored(event) == before


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AuditImmutable):
        event.delete()
    assert AuditEvent.all_workspaces.filter(pk=event.pk).exists()


@pytest.mark.parametrize("write", [
    lambda qs: qs.update(action="x"),
    lambda qs: qs.delete(),
    lambda qs: qs.bulk_update(list(qs), ["action"]),
    lambda qs: qs.update_or_create(pk=qs.first().pk, defaults={"action": "x"}),
])
def test_querysets_refuse_updates_and_deletes(event, ws, write):
    before = stored(event)
    for queryset in (AuditEvent.objects.for_workspace(ws), AuditEvent.all_workspaces.all()):
        with pytest.raises(AuditImmutable):
            write(queryset)
    assert stored(event) == before


# --- nothing cascades into the log -----------------------------------------------------------------
def test_deleting_a_member_who_acted_is_refused_and_history_stays(event, csm):
    before = stored(event)
    with pytest.raises(RestrictedError):
        csm.delete()
    with pytest.raises(RestrictedError):
        csm.user.delete()  # the user's deletion would cascade to the membership
    assert stored(event) == before
    assert Membership.all_workspaces.filter(pk=csm.pk).exists()


def test_deleting_a_token_that_acted_is_refused(ws, csm, account):
    token, _key = issue_token(membership=csm, name="CRM sync")
    csm.api_token = token
    update_account(account=account, actor=csm, plan="Enterprise")
    through_token = AuditEvent.objects.for_workspace(ws).get(action="account.updated", token=token)
    with pytest.raises(RestrictedError):
        token.delete()
    assert stored(through_token)["actor_id"] == csm.pk


def test_a_member_who_never_acted_can_still_be_removed(ws):
    newcomer = Membership.all_workspaces.create(workspace=ws, user=UserFactory(username="newcomer"))
    newcomer.delete()
    assert not Membership.all_workspaces.filter(pk=newcomer.pk).exists()


def test_deleting_a_workspace_takes_its_log_and_only_its_log(ws, other_ws, csm, outsider, account, event):
    mine = record_audit(workspace=other_ws, actor=outsider, action="x.done", object_type="x")
    other_ws.delete()
    assert not Workspace.objects.filter(pk=other_ws.pk).exists()
    assert not AuditEvent.all_workspaces.filter(pk=mine.pk).exists()
    assert AuditEvent.all_workspaces.filter(pk=event.pk).exists()


def test_deleting_workspaces_through_a_queryset_works_too(ws, other_ws, outsider, event):
    record_audit(workspace=other_ws, actor=outsider, action="x.done", object_type="x")
    Workspace.objects.filter(pk=other_ws.pk).delete()
    assert list(AuditEvent.all_workspaces.values_list("workspace_id", flat=True).distinct()) == [ws.pk]


def test_the_erasure_door_erases_one_workspace(ws, other_ws, outsider, event):
    record_audit(workspace=other_ws, actor=outsider, action="x.done", object_type="x")
    erase_workspace_audit(workspace=other_ws)
    assert not AuditEvent.all_workspaces.filter(workspace=other_ws).exists()
    assert AuditEvent.all_workspaces.filter(pk=event.pk).exists()


# --- the database itself (PostgreSQL) --------------------------------------------------------------
@on_postgresql
@pytest.mark.parametrize("sql", [
    "UPDATE workspaces_auditevent SET action = 'rewritten' WHERE id = %s",
    "DELETE FROM workspaces_auditevent WHERE id = %s",
])
def test_raw_sql_cannot_rewrite_history(event, sql):
    before = stored(event)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert stored(event) == before


@on_postgresql
def test_the_erasure_permission_ends_with_its_transaction(ws, other_ws, outsider, event):
    erase_workspace_audit(workspace=other_ws)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM workspaces_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.all_workspaces.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_flushed_test_database_loses_its_log(ws, csm, account):
    """A transactional test's teardown empties every table (TRUNCATE on PostgreSQL): the trigger,
    which guards rows one by one, must not stand in its way. This test fails in its teardown if it does."""
    record_audit(workspace=ws, actor=SystemActor("test"), action="x.done", object_type="x")
    assert AuditEvent.all_workspaces.count() >= 1


# --- the Django admin ------------------------------------------------------------------------------
@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_admin_shows_the_log_but_cannot_change_or_delete_it(root, event):
    assert root.get(reverse("admin:workspaces_auditevent_changelist")).status_code == 200
    change = root.get(reverse("admin:workspaces_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    before = stored(event)
    assert root.post(reverse("admin:workspaces_auditevent_change", args=[event.pk]),
                     {"action": "rewritten"}).status_code == 403
    assert root.post(reverse("admin:workspaces_auditevent_delete", args=[event.pk]),
                     {"post": "yes"}).status_code == 403
    root.post(reverse("admin:workspaces_auditevent_changelist"),
              {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert stored(event) == before


def test_the_admin_refuses_to_delete_a_member_who_acted(root, event, csm):
    response = root.post(reverse("admin:workspaces_membership_delete", args=[csm.pk]), {"post": "yes"})
    assert response.status_code in (200, 403)  # the confirmation page lists what protects it
    assert Membership.all_workspaces.filter(pk=csm.pk).exists()
    assert stored(event)["actor_id"] == csm.pk


def test_admin_writes_are_audited_as_the_staff_members(client, ws, admin, account):
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    doomed = AccountFactory(workspace=ws, name="Doomed KK")
    client.post(reverse("admin:accounts_account_delete", args=[doomed.pk]), {"post": "yes"})
    deleted = AuditEvent.objects.for_workspace(ws).get(action="account.deleted", object_id=str(doomed.pk))
    assert deleted.actor == admin and deleted.changes == {"source": "admin"}
