"""The plain-row writers of large batches (workspaces.sql): what goes in comes back out, texts with
commas, quotes, new lines and Japanese, empty texts (not NULL), NULLs, JSON and times, on SQLite
(executemany) and PostgreSQL (multi-row VALUES and COPY)."""

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
