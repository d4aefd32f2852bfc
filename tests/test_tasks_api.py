"""The tasks API: CRUD with the caller as default assignee, complete (with a touch), snooze, cancel,
bulk reassign; 400s name the field, a CSM changes only their tasks, workspace B sees nothing of A."""

import datetime as dt

import pytest

from accounts.models import Touchpoint
from playbooks.models import Task

from .factories import AccountFactory, ContactFactory
from .tasks_data import make_task, playbook_run

pytestmark = pytest.mark.django_db
URL = "/api/v1/tasks/"


def test_a_csm_creates_a_task_assigned_to_themselves_from_the_api(ws, csm, account, api_for):
    response = api_for(csm).post(URL, {"account": account.pk, "title": "Kick-off", "due_on": ws.today().isoformat(),
                                       "type": "meeting"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["assignee"]["id"], body["source"], body["status"], body["account"]["id"]) == (
        csm.pk, "api", "open", account.pk)
    by_external = api_for(csm).post(URL, {"account_external_id": account.external_id, "title": "Follow up",
                                          "due_on": ws.today().isoformat()}, format="json")
    assert by_external.status_code == 201 and by_external.json()["account"]["id"] == account.pk


@pytest.mark.parametrize("body, field", [
    ({"title": "X", "due_on": "2026-01-01"}, "account"),
    ({"account": "ACCOUNT", "due_on": "2026-01-01"}, "title"),
    ({"account": "ACCOUNT", "title": "X"}, "due_on"),
    ({"account": "ACCOUNT", "title": "X", "due_on": "soon"}, "due_on"),
    ({"account": "ACCOUNT", "title": "X", "due_on": "0001-01-01"}, "due_on"),
    ({"account": "ACCOUNT", "title": "X", "due_on": "2026-01-01", "type": "telepathy"}, "type"),
    ({"account": "ACCOUNT", "title": "X", "due_on": "2026-01-01", "priority": 9}, "priority"),
    ({"account": "OTHER", "title": "X", "due_on": "2026-01-01"}, "account"),
    ({"account": "ACCOUNT", "title": "X", "due_on": "2026-01-01", "assignee": "OUTSIDER"}, "assignee"),
    ({"account_external_id": "nope", "title": "X", "due_on": "2026-01-01"}, "account_external_id"),
])
def test_bad_input_is_a_400_naming_the_field(ws, manager, account, other_account, outsider, api_for, body, field):
    values = {"ACCOUNT": account.pk, "OTHER": other_account.pk, "OUTSIDER": outsider.pk}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api_for(manager).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Task.all_workspaces.exists()


def test_a_csm_reads_every_task_but_changes_only_theirs(ws, csm, csm2, account, api_for):
    theirs = make_task(AccountFactory(workspace=ws, owner=csm2), csm2)
    mine = make_task(account, csm)
    api = api_for(csm)
    assert {row["id"] for row in api.get(URL).json()["results"]} == {theirs.pk, mine.pk}
    assert api.get(f"{URL}{theirs.pk}/").status_code == 200
    for method, path, body in (("patch", f"{URL}{theirs.pk}/", {"title": "Mine now"}),
                               ("post", f"{URL}{theirs.pk}/complete/", {}),
                               ("post", f"{URL}{theirs.pk}/snooze/", {"until": "2999-01-01"}),
                               ("post", f"{URL}{theirs.pk}/cancel/", {}),
                               ("delete", f"{URL}{theirs.pk}/", None),
                               ("post", f"{URL}bulk-reassign/", {"ids": [mine.pk, theirs.pk], "assignee": csm.pk})):
        response = getattr(api, method)(path, body, format="json")
        assert response.status_code == 403, (method, path, response.content)
    theirs.refresh_from_db()
    assert (theirs.title, theirs.status, theirs.assignee) == ("Call " + theirs.account.name, "open", csm2)
    assert api.patch(f"{URL}{mine.pk}/", {"title": "Renamed", "priority": 3}, format="json").status_code == 200


def test_completing_with_a_touch_logs_and_links_it(ws, csm, account, api_for):
    task = make_task(account, csm, type="call")
    contact = ContactFactory(account=account)
    response = api_for(csm).post(f"{URL}{task.pk}/complete/", {
        "outcome": "Agreed the renewal", "touch": {"channel": "phone", "summary": "Renewal call",
                                                   "contacts": [contact.pk]}}, format="json")
    assert response.status_code == 200, response.content
    touch = Touchpoint.objects.for_workspace(ws).get(account=account)
    assert response.json()["touchpoint"] == touch.pk and response.json()["status"] == "done"
    assert list(touch.contacts.all()) == [contact]
    again = api_for(csm).post(f"{URL}{task.pk}/complete/", {}, format="json")
    assert again.status_code == 400 and "status" in again.json()


def test_complete_snooze_and_cancel_reject_bad_input_naming_the_field(ws, csm, account, other_account, api_for):
    task = make_task(account, csm)
    api = api_for(csm)
    foreign_contact = ContactFactory(account=other_account)
    for path, body, field in (
            ("complete", {"touch": {"channel": "pigeon"}}, "touch"),
            ("complete", {"touch": {"summary": "no channel"}}, "touch"),
            ("complete", {"touch": {"channel": "phone", "contacts": [foreign_contact.pk]}}, "touch"),
            ("snooze", {"until": ws.today().isoformat()}, "until"),
            ("snooze", {}, "until"),
            ("snooze", {"until": "tomorrow"}, "until")):
        response = api.post(f"{URL}{task.pk}/{path}/", body, format="json")
        assert response.status_code == 400, (path, body, response.content)
        assert field in response.json(), (path, body, response.json())
    task.refresh_from_db()
    assert task.status == "open" and not Touchpoint.objects.for_workspace(ws).exists()
    until = (ws.today() + dt.timedelta(days=3)).isoformat()
    assert api.post(f"{URL}{task.pk}/snooze/", {"until": until}, format="json").json()["snoozed_until"] == until
    assert api.post(f"{URL}{task.pk}/cancel/", {"outcome": "No longer needed"}, format="json").json()["status"] == \
        "cancelled"


def test_bulk_reassign_is_all_or_nothing_and_names_missing_ids(ws, manager, csm, csm2, account, api_for):
    one, two = make_task(account, csm), make_task(account, csm)
    api = api_for(manager)
    missing = api.post(f"{URL}bulk-reassign/", {"ids": [one.pk, 999999], "assignee": csm2.pk}, format="json")
    assert missing.status_code == 400 and "999999" in missing.json()["ids"][0]
    assert api.post(f"{URL}bulk-reassign/", {"ids": [], "assignee": csm2.pk}, format="json").status_code == 400
    assert set(Task.all_workspaces.values_list("assignee", flat=True)) == {csm.pk}
    response = api.post(f"{URL}bulk-reassign/", {"ids": [one.pk, two.pk], "assignee": csm2.pk}, format="json")
    assert response.json() == {"reassigned": 2}
    assert set(Task.all_workspaces.values_list("assignee", flat=True)) == {csm2.pk}


def test_filters_are_the_pages_and_a_bad_one_is_a_400(ws, csm, csm2, account, api_for):
    run = playbook_run(account)
    from_playbook = make_task(account, csm2, days=-1, run=run, source="playbook")
    make_task(account, csm, days=3)
    api = api_for(csm)
    rows = api.get(URL, {"playbook": run.playbook_id}).json()["results"]
    assert [(r["id"], r["playbook"]["name"]) for r in rows] == [(from_playbook.pk, "Renewal 120")]
    assert [r["id"] for r in api.get(URL, {"due": "overdue"}).json()["results"]] == [from_playbook.pk]
    assert api.get(URL, {"assignee": "me"}).json()["count"] == 1
    for query, field in (({"due": "someday"}, "due"), ({"assignee": "99999"}, "assignee"),
                         ({"ordering": "secret"}, "ordering")):
        response = api.get(URL, query)
        assert response.status_code == 400 and field in str(response.json()), (query, response.content)


def test_workspace_b_cannot_read_change_or_count_as_tasks(ws, csm, account, other_ws, outsider, api_for):
    task = make_task(account, csm)
    api = api_for(outsider)
    assert api.get(URL).json()["count"] == 0
    assert api.get(f"{URL}{task.pk}/").status_code == 404
    assert api.patch(f"{URL}{task.pk}/", {"title": "Mine"}, format="json").status_code == 404
    assert api.post(f"{URL}{task.pk}/complete/", {}, format="json").status_code == 404
    assert api.delete(f"{URL}{task.pk}/").status_code == 404
    assert api.get(URL, {"account": account.pk}).status_code == 400
    assert api.get(URL, {"assignee": csm.pk}).status_code == 400
    reassign = api.post(f"{URL}bulk-reassign/", {"ids": [task.pk], "assignee": outsider.pk}, format="json")
    assert reassign.status_code == 400 and "ids" in reassign.json()
    created = api.post(URL, {"account": account.pk, "title": "X", "due_on": "2026-01-01"}, format="json")
    assert created.status_code == 400 and "account" in created.json()
    task.refresh_from_db()
    assert (task.title, task.status, task.assignee) == ("Call " + account.name, "open", csm)
    assert Task.all_workspaces.count() == 1
