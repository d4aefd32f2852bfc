"""The plain-row writers of large batches (workspaces.sql): what goes in comes back out, texts with
commas, quotes, new lines and Japanese, empty texts (not NULL), NULLs, JSON and times, on SQLite
(pages of VALUES) and PostgreSQL (COPY, through a stage where a row may conflict), and what
a call inserted is what comes back."""

import datetime as dt

import pytest

from playbooks.models import Task
from tests.factories import AccountFactory
from workspaces.audit import record_audit_rows
from workspaces.models import AuditEvent
from workspaces.policy import SystemActor
from workspaces.sql import insert_rows

AWKWARD = 'Renewal, "urgent"\n更新の確認 \\ done'


@pytest.mark.django_db
def test_audit_rows_come_back_as_they_went_in(ws, manager):
    changes = {"title": [None, AWKWARD], "n": 3, "nested": {"ok": True, "none": None}}
    record_audit_rows(workspace=ws, actor=SystemActor("playbooks"), action="task.created", object_type="task",
                      rows=[(41, AWKWARD, changes), (42, "", {})])
    record_audit_rows(workspace=ws, actor=manager, action="task.cancelled", object_type="task", rows=[(43, "x", None)])
    events = {e.object_id: e for e in AuditEvent.objects.for_workspace(ws).filter(object_type="task")}
    assert events["41"].object_repr == AWKWARD and events["41"].changes == changes
    assert events["41"].system_actor == "playbooks" and events["41"].actor_id is None
    assert events["42"].object_repr == "" and events["42"].changes == {}
    assert events["43"].actor_id == manager.pk and events["43"].system_actor == "" and events["43"].changes == {}
    assert all(abs((e.at - events["41"].at).total_seconds()) < 60 for e in events.values())


@pytest.mark.django_db
def test_inserted_rows_skip_a_conflict_and_keep_dates(ws, csm):
    account = AccountFactory(workspace=ws, owner=csm)
    now = dt.datetime(2026, 11, 29, 15, 30, 12, 345678, tzinfo=dt.UTC)
    columns = ["workspace_id", "account_id", "source", "title", "description", "due_on", "status", "outcome",
               "external_id", "created_at", "updated_at", "type", "priority"]
    row = (ws.pk, account.pk, "api", AWKWARD, "", dt.date(2026, 12, 1), "open", "", "crm-1", now, now, "call", 2)
    assert insert_rows(Task, columns, [row], on_conflict_do_nothing=True) == 1
    insert_rows(Task, columns, [row], on_conflict_do_nothing=True)  # the same external id: skipped
    task = Task.objects.for_workspace(ws).get()
    assert (task.title, task.description, task.due_on, task.created_at) == (AWKWARD, "", dt.date(2026, 12, 1), now)
    assert Task.objects.for_workspace(ws).filter(created_at=now).count() == 1


@pytest.mark.django_db
def test_returning_gives_back_only_the_rows_this_call_inserted(ws, csm):
    account = AccountFactory(workspace=ws, owner=csm)
    now = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
    columns = ["workspace_id", "account_id", "source", "title", "description", "due_on", "status", "outcome",
               "external_id", "created_at", "updated_at", "type", "priority"]

    def row(external_id, title):
        return (ws.pk, account.pk, "api", title, "", dt.date(2026, 12, 1), "open", "", external_id, now, now,
                "call", 2)

    first = insert_rows(Task, columns, [row("crm-1", "one"), row("crm-2", AWKWARD)], on_conflict_do_nothing=True,
                        returning=["id", "external_id"])
    ids = {external_id: pk for pk, external_id in first}
    assert set(ids) == {"crm-1", "crm-2"}
    assert Task.objects.for_workspace(ws).get(pk=ids["crm-2"]).title == AWKWARD
    # crm-2 again conflicts: only crm-3 comes back, and the count says the same.
    again = insert_rows(Task, columns, [row("crm-2", "dup"), row("crm-3", "three")], on_conflict_do_nothing=True,
                        returning=["external_id"])
    assert again == [("crm-3",)]
    assert insert_rows(Task, columns, [row("crm-3", "dup")], on_conflict_do_nothing=True) == 0
    assert Task.objects.for_workspace(ws).count() == 3
