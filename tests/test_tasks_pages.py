"""Task pages: the list (default view, filters, sort, errors), create/edit, complete with a touch,
snooze, bulk reassign, the account page's tasks panel, the load page and tenancy."""

import datetime as dt

import pytest

from accounts.models import Touchpoint
from playbooks.models import Task

from .factories import AccountFactory
from .tasks_data import make_task, playbook_run

pytestmark = pytest.mark.django_db


def text(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_csm_opens_on_their_own_open_tasks_and_a_manager_on_the_teams(ws, manager, csm, csm2, account, login):
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Theirs KK")
    make_task(account, csm, title="My open call")
    make_task(theirs, csm2, title="Their open call")
    make_task(account, csm, title="My done call", status="done", completed_on=ws.today())
    html = text(login(csm).get("/tasks/"))
    assert "My open call" in html and "Their open call" not in html and "My done call" not in html
    assert 'name="ids"' not in html  # bulk reassign is a manager's
    everyone = text(login(csm).get("/tasks/?status="))
    assert all(title in everyone for title in ("My open call", "Their open call", "My done call"))
    team = text(login(manager).get("/tasks/"))
    assert "My open call" in team and "Their open call" in team and 'name="ids"' in team


def test_the_list_filters_sorts_and_says_when_a_filter_is_wrong(ws, manager, csm, account, login):
    run = playbook_run(account, name="Onboarding 30")
    make_task(account, csm, title="Alpha overdue", days=-3)
    make_task(account, csm, title="Zulu from playbook", days=4, run=run, source="playbook")
    client = login(manager)
    overdue = text(client.get("/tasks/?due=overdue"))
    assert "Alpha overdue" in overdue and "Zulu from playbook" not in overdue
    by_playbook = text(client.get(f"/tasks/?playbook={run.playbook_id}"))
    assert "Zulu from playbook" in by_playbook and "Onboarding 30" in by_playbook and "Alpha" not in by_playbook
    newest_first = text(client.get("/tasks/?status=open&sort=-due_on"))
    assert newest_first.index("Zulu from playbook") < newest_first.index("Alpha overdue")
    wrong = text(client.get("/tasks/?due=someday&assignee=424242"))
    assert "Some filters are not valid" in wrong and "Alpha overdue" not in wrong
    assert "No tasks match these filters." in wrong


def test_a_task_is_created_from_the_account_page_and_edited(ws, csm, account, login):
    client = login(csm)
    page = text(client.get(f"/accounts/{account.pk}/"))
    assert f"/tasks/new/?account={account.pk}" in page and "No open task on this account." in page
    form = text(client.get(f"/tasks/new/?account={account.pk}"))
    assert f'<option value="{account.pk}" selected>' in form
    due = (ws.today() + dt.timedelta(days=2)).isoformat()
    response = client.post("/tasks/new/", {"account": account.pk, "title": "Book the QBR", "type": "meeting",
                                           "assignee": csm.pk, "due_on": due, "priority": 3,
                                           "next": f"/accounts/{account.pk}/"})
    assert response.status_code == 302 and response.url == f"/accounts/{account.pk}/"
    task = Task.objects.for_workspace(ws).get()
    assert (task.title, task.type, task.assignee, task.source, task.priority) == ("Book the QBR", "meeting", csm,
                                                                                  "manual", 3)
    assert "Book the QBR" in text(client.get(f"/accounts/{account.pk}/"))
    bad = client.post(f"/tasks/{task.pk}/edit/", {"title": "", "type": "meeting", "due_on": due, "priority": 3})
    assert bad.status_code == 400
    client.post(f"/tasks/{task.pk}/edit/", {"title": "Book the QBR now", "type": "meeting", "due_on": due,
                                           "priority": 4, "assignee": csm.pk})
    task.refresh_from_db()
    assert (task.title, task.priority, task.account) == ("Book the QBR now", 4, account)


def test_completing_a_call_from_its_page_logs_the_touch_with_the_calls_channel(ws, csm, account, login):
    task = make_task(account, csm, type="call", title="Renewal call")
    client = login(csm)
    form = text(client.get(f"/tasks/{task.pk}/complete/"))
    assert '<option value="phone" selected>' in form and 'name="log_touch"' in form and "checked" in form
    occurred = (ws.today() - dt.timedelta(days=1)).isoformat() + "T10:00"
    response = client.post(f"/tasks/{task.pk}/complete/", {
        "outcome": "They renew", "log_touch": "on", "channel": "phone", "occurred_at": occurred,
        "summary": "Renewal call", "sentiment": "positive", "next": "/tasks/"})
    assert response.status_code == 302 and response.url == "/tasks/"
    task.refresh_from_db()
    touch = Touchpoint.objects.for_workspace(ws).get()
    assert (task.status, task.outcome, task.touchpoint) == ("done", "They renew", touch)
    assert (touch.channel, touch.sentiment, touch.author) == ("phone", "positive", csm)


def test_completing_without_a_touch_and_a_wrong_touch(ws, csm, account, login):
    internal = make_task(account, csm, type="internal")
    client = login(csm)
    assert "checked" not in text(client.get(f"/tasks/{internal.pk}/complete/")).split('name="log_touch"')[1][:40]
    assert client.post(f"/tasks/{internal.pk}/complete/", {"outcome": "Done"}).status_code == 302
    internal.refresh_from_db()
    assert internal.status == "done" and internal.touchpoint is None
    call = make_task(account, csm, type="call")
    bad = client.post(f"/tasks/{call.pk}/complete/", {"log_touch": "on", "channel": "pigeon", "occurred_at": ""})
    assert bad.status_code == 400
    call.refresh_from_db()
    assert call.status == "open" and not Touchpoint.objects.for_workspace(ws).exists()


def test_snooze_from_its_page(ws, csm, account, login):
    task = make_task(account, csm)
    client = login(csm)
    assert client.post(f"/tasks/{task.pk}/snooze/", {"until": ws.today().isoformat()}).status_code == 400
    until = ws.today() + dt.timedelta(days=5)
    assert client.post(f"/tasks/{task.pk}/snooze/", {"until": until.isoformat()}).status_code == 302
    task.refresh_from_db()
    assert (task.status, task.snoozed_until) == ("snoozed", until)
    assert task.title not in text(client.get("/tasks/"))  # snoozed: not among my open tasks
    assert client.post(f"/tasks/{task.pk}/reopen/").status_code == 302
    task.refresh_from_db()
    assert task.status == "open"


def test_a_manager_reassigns_the_checked_tasks_and_a_csm_may_not(ws, manager, csm, csm2, account, login):
    one, two, _three = make_task(account, csm), make_task(account, csm), make_task(account, csm)
    refused = login(csm).post("/tasks/reassign/", {"ids": [one.pk], "assignee": csm2.pk})
    assert refused.status_code == 403
    client = login(manager)
    response = client.post("/tasks/reassign/", {"ids": [one.pk, two.pk], "assignee": csm2.pk, "next": "/tasks/"},
                           follow=True)
    assert "2 tasks reassigned to Yui Test." in response.content.decode()
    assert list(Task.objects.for_workspace(ws).order_by("pk").values_list("assignee", flat=True)) == [
        csm2.pk, csm2.pk, csm.pk]


def test_the_account_panel_names_the_playbook_and_shows_recent_done_tasks(ws, csm, account, login):
    run = playbook_run(account, name="Renewal 120")
    make_task(account, csm, title="Renewal kick-off", run=run, source="playbook", step_index=0)
    make_task(account, csm, title="Old check-in", status="done", completed_on=ws.today(), outcome="All fine")
    html = text(login(csm).get(f"/accounts/{account.pk}/"))
    panel = html.split('class="panel tasks-panel"')[1].split("</section>")[0]
    assert "Renewal kick-off" in panel and "Playbook: Renewal 120" in panel
    assert "Recently done" in panel and "Old check-in" in panel and "All fine" in panel


def test_the_load_page_is_a_managers(ws, manager, csm, account, login):
    make_task(account, csm, days=-1)
    html = text(login(manager).get("/tasks/load/"))
    row = html.split(f'data-member="{csm.pk}"')[1].split("</tr>")[0]
    assert "Kenji Test" in row and f"/tasks/?assignee={csm.pk}&amp;due=overdue" in row
    assert login(csm).get("/tasks/load/").status_code == 403
    assert "/tasks/load/" in text(login(manager).get("/"))


def test_my_book_page_shows_my_task_with_its_complete_button(ws, csm, account, login):
    task = make_task(account, csm, days=-3, title="Send the renewal quote")
    html = text(login(csm).get("/my-book/"))
    assert "Task overdue 3 days: Send the renewal quote" in html
    assert f'href="/tasks/{task.pk}/complete/?next=/my-book/">Complete the task</a>' in html


def test_another_workspaces_task_is_a_404_on_every_page(ws, csm, account, outsider, login):
    task = make_task(account, csm, title="Secret plan")
    client = login(outsider)
    for path in ("edit", "complete", "snooze"):
        assert client.get(f"/tasks/{task.pk}/{path}/").status_code == 404
    assert client.post(f"/tasks/{task.pk}/cancel/").status_code == 404
    assert "Secret plan" not in text(client.get("/tasks/?status="))
    client.post("/tasks/reassign/", {"ids": [task.pk], "assignee": outsider.pk})
    task.refresh_from_db()
    assert (task.status, task.assignee) == ("open", csm)
