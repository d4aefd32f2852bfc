"""Two evaluations of the same night at once (a retried task beside a manual "recompute now", two
processes): the database's rules make every account enrol once, every step exist once."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from playbooks.engine import evaluate_playbooks
from playbooks.models import PlaybookRun, RunAction, Task
from workspaces.models import Workspace

from .factories import AccountFactory
from .playbook_engine_helpers import make_playbook

pytestmark = pytest.mark.django_db(transaction=True)

DEFINITION = {"trigger": {"kind": "renewal_within", "days": 120},
              "steps": [{"title": "Renewal call with {account}"}, {"kind": "webhook", "note": "CRM"}]}


def test_two_concurrent_evaluations_enrol_and_create_each_step_once(ws, csm):
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL (set DATABASE_URL)")
    today = ws.today()
    AccountFactory.create_batch(25, workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=30))
    make_playbook(ws, DEFINITION)
    start = threading.Barrier(2)
    results, errors = [], []

    def night():
        try:
            workspace = Workspace.objects.get(pk=ws.pk)
            start.wait(timeout=30)
            results.append(evaluate_playbooks(workspace=workspace, as_of=today))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=night) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r["enrolled"] for r in results) == 25
    assert sum(r["tasks"] for r in results) == 25 and sum(r["actions"] for r in results) == 25
    assert PlaybookRun.objects.for_workspace(ws).count() == 25
    assert Task.objects.for_workspace(ws).count() == 25
    assert RunAction.objects.for_workspace(ws).count() == 25


def test_evaluating_the_same_night_twice_in_a_row_changes_nothing(ws, csm):
    today = ws.today()
    AccountFactory.create_batch(5, workspace=ws, owner=csm, renewal_date=today + dt.timedelta(days=30))
    make_playbook(ws, DEFINITION)
    first = evaluate_playbooks(workspace=ws, as_of=today)
    second = evaluate_playbooks(workspace=ws, as_of=today)
    assert (first["enrolled"], first["tasks"], first["actions"]) == (5, 5, 5)
    assert (second["enrolled"], second["tasks"], second["actions"]) == (0, 0, 0)
