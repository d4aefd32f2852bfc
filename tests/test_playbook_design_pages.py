"""The playbook pages: list, designer (with its errors and preview), detail with versions and runs,
manual enrolment and ending a run."""

import json

import pytest
from django.urls import reverse

from playbooks import services
from playbooks.models import Playbook, PlaybookRun, PlaybookVersion
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"name": "Rescue call", "description": "", "enabled": "on", "trigger_kind": "renewal_within",
            "trigger_days": "90", "limit": "once_per_reason", "cooldown_days": "0", "when_trigger_clears": "on",
            "open_tasks": "cancel", "note": "",
            "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "30",
            "steps-0-kind": "task", "steps-0-day": "0", "steps-0-start": "enrolment", "steps-0-type": "call",
            "steps-0-priority": "3", "steps-0-due_days": "7", "steps-0-assignee": "owner", "steps-0-role": "csm",
            "steps-0-title": "Renewal call with {account}", "steps-0-description": "Renews on {renewal_date}",
            "steps-1-kind": "task", "steps-1-day": "0", "steps-1-start": "enrolment", "steps-1-type": "call",
            "steps-1-priority": "2", "steps-1-due_days": "7", "steps-1-assignee": "owner", "steps-1-role": "csm"}
    data.update(overrides)
    return data


def test_the_list_shows_every_playbook_with_its_trigger_in_words(login, csm, ws):
    response = login(csm).get(reverse("playbooks:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Renewal at 120 days" in html and "Renewal within 120 days" in html
    assert "Coverage broken (High touch)" in html
    assert reverse("playbooks:create") not in html  # a CSM does not design


def test_a_manager_designs_a_playbook_on_the_form(login, manager, ws):
    client = login(manager)
    assert client.get(reverse("playbooks:create")).status_code == 200
    response = client.post(reverse("playbooks:create"), form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    playbook = Playbook.objects.for_workspace(ws).get(name="Rescue call")
    definition = services.latest_version(playbook).definition
    assert definition["trigger"] == {"kind": "renewal_within", "days": 90}
    assert [s["title"] for s in definition["steps"]] == ["Renewal call with {account}"]  # the blank step is ignored
    assert definition["steps"][0]["priority"] == 3
    edit = reverse("playbooks:edit", args=[playbook.pk])
    page = client.get(edit).content.decode()
    assert 'value="Renewal call with {account}"' in page
    response = client.post(edit, form_data(**{"steps-0-due_days": "3", "note": "Sooner"}))
    assert response.status_code == 302
    assert [v.number for v in PlaybookVersion.objects.for_workspace(ws).filter(playbook=playbook)] == [2, 1]
    detail = client.get(reverse("playbooks:detail", args=[playbook.pk])).content.decode()
    assert "Rules (version 2)" in detail and "Sooner" in detail and "Renewal within 90 days" in detail
    old = client.get(reverse("playbooks:detail", args=[playbook.pk]) + "?version=1").content.decode()
    assert "Rules (version 1)" in old


def test_form_errors_show_on_the_form(login, manager, ws):
    client = login(manager)
    response = client.post(reverse("playbooks:create"), form_data(**{"steps-0-title": "Call {acount}"}))
    assert response.status_code == 400
    assert "steps[1].title: unknown placeholder(s) {acount}" in response.content.decode()
    response = client.post(reverse("playbooks:create"), form_data(name="", condition="{not json"))
    html = response.content.decode()
    assert response.status_code == 400 and "This field is required." in html and "not valid JSON" in html
    existing = Playbook.objects.for_workspace(ws).get(library_key="red_rescue").name
    response = client.post(reverse("playbooks:create"), form_data(name=existing))
    assert response.status_code == 400 and "A playbook with this name already exists." in response.content.decode()
    assert not Playbook.objects.for_workspace(ws).filter(name="").exists()


def test_csms_read_playbooks_but_do_not_design_them(login, csm, ws):
    playbook = Playbook.objects.for_workspace(ws).get(library_key="red_rescue")
    client = login(csm)
    assert client.get(reverse("playbooks:detail", args=[playbook.pk])).status_code == 200
    assert client.get(reverse("playbooks:create")).status_code == 403
    assert client.get(reverse("playbooks:edit", args=[playbook.pk])).status_code == 403
    assert client.post(reverse("playbooks:enabled", args=[playbook.pk]), {"enabled": "0"}).status_code == 403
    assert client.post(reverse("playbooks:delete", args=[playbook.pk])).status_code == 403
    assert client.post(reverse("playbooks:preview"), form_data()).status_code == 403


def test_another_workspace_gets_404s(login, outsider, ws):
    playbook = Playbook.objects.for_workspace(ws).get(library_key="red_rescue")
    client = login(outsider)
    for name in ("playbooks:detail", "playbooks:edit"):
        assert client.get(reverse(name, args=[playbook.pk])).status_code == 404
    for name in ("playbooks:enabled", "playbooks:delete", "playbooks:enrol"):
        assert client.post(reverse(name, args=[playbook.pk])).status_code == 404
    assert playbook.name not in client.get(reverse("playbooks:list")).content.decode() or \
        Playbook.objects.for_workspace(outsider.workspace).filter(name=playbook.name).exists()


def test_the_preview_answers_with_form_errors_or_the_count(login, manager, ws, other_ws, account):
    client = login(manager)
    bad = client.post(reverse("playbooks:preview"), form_data(**{"steps-0-title": ""}))
    assert bad.status_code == 400 and bad.json()["definition"][0].startswith("steps[1].title")
    invalid = client.post(reverse("playbooks:preview"), form_data(trigger_kind="rain"))
    assert invalid.status_code == 400 and "trigger_kind" in invalid.json()
    theirs = Playbook.objects.for_workspace(other_ws).first()
    foreign = client.post(reverse("playbooks:preview"), form_data(playbook=str(theirs.pk)))
    assert foreign.status_code == 400 and "playbook" in foreign.json()
    not_json = client.post(reverse("playbooks:preview"), "{", content_type="application/json")
    assert not_json.status_code == 400 and "definition" in not_json.json()
    pytest.importorskip("playbooks.engine")
    good = client.post(reverse("playbooks:preview"), form_data())
    assert good.status_code == 200 and {"count", "sample"} <= set(good.json())
    mine = Playbook.objects.for_workspace(ws).get(library_key="renewal_120")
    editing = client.post(reverse("playbooks:preview"), form_data(playbook=str(mine.pk)))
    assert editing.status_code == 200
    as_json = client.post(reverse("playbooks:preview"), json.dumps({"definition": {
        "trigger": {"kind": "health_red"}, "steps": [{"title": "Call {account}"}]}}), content_type="application/json")
    assert as_json.status_code == 200


def test_the_detail_shows_runs_with_why_and_ends_them(login, manager, csm, csm2, ws, account):
    playbook = Playbook.objects.for_workspace(ws).get(library_key="renewal_120")
    run = PlaybookRun.objects.create(
        workspace=ws, playbook=playbook, version=services.latest_version(playbook), account=account,
        reason_key="renewal:2027-03-27", started_on=ws.today(),
        why={"trigger": "renewal_within", "values": {"renewal_date": "2027-03-27", "days_left": 118},
             "by": "nightly"})
    html = login(csm).get(reverse("playbooks:detail", args=[playbook.pk])).content.decode()
    assert account.name in html and "2027-03-27" in html
    assert reverse("playbooks:end_run", args=[run.pk]) in html
    assert login(csm2).post(reverse("playbooks:end_run", args=[run.pk])).status_code == 403
    pytest.importorskip("playbooks.engine")
    response = login(csm).post(reverse("playbooks:end_run", args=[run.pk]), {"why": "Renewed early"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status != "active"


def test_enrolling_by_hand_from_a_search(login, manager, csm, csm2, ws, account):
    playbook = services.save_playbook(workspace=ws, actor=manager, name="By hand", definition={
        "trigger": {"kind": "manual"}, "steps": [{"title": "Call {account}"}]})
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Sakura Foods")
    client = login(csm)
    found = client.get(reverse("playbooks:detail", args=[playbook.pk]), {"q": "Sakura"}).content.decode()
    assert account.name in found and theirs.name not in found  # a CSM finds their own accounts
    assert client.post(reverse("playbooks:enrol", args=[playbook.pk]), {"accounts": [theirs.pk]}).status_code == 403
    pytest.importorskip("playbooks.engine")
    response = client.post(reverse("playbooks:enrol", args=[playbook.pk]), {"accounts": [account.pk]}, follow=True)
    assert response.status_code == 200 and "1 enrolled." in response.content.decode()
    assert PlaybookRun.objects.for_workspace(ws).filter(playbook=playbook, account=account).count() == 1


def test_disable_and_delete(login, manager, ws, account):
    client = login(manager)
    playbook = Playbook.objects.for_workspace(ws).get(library_key="red_rescue")
    client.post(reverse("playbooks:enabled", args=[playbook.pk]), {"enabled": "0"})
    assert Playbook.objects.for_workspace(ws).get(pk=playbook.pk).enabled is False
    PlaybookRun.objects.create(workspace=ws, playbook=playbook, version=services.latest_version(playbook),
                               account=account, reason_key="red:1", started_on=ws.today())
    response = client.post(reverse("playbooks:delete", args=[playbook.pk]), follow=True)
    assert "Disable it instead" in response.content.decode()
    assert Playbook.objects.for_workspace(ws).filter(pk=playbook.pk).exists()
    unused = Playbook.objects.for_workspace(ws).get(library_key="quarterly_call")
    assert client.post(reverse("playbooks:delete", args=[unused.pk])).status_code == 302
    assert not Playbook.objects.for_workspace(ws).filter(pk=unused.pk).exists()


def test_reading_the_playbook_pages_writes_nothing(login, manager, ws, account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    playbook = Playbook.objects.for_workspace(ws).get(library_key="renewal_120")
    client = login(manager)
    for url in (reverse("playbooks:list"), reverse("playbooks:create"), reverse("playbooks:detail", args=[playbook.pk]),
                reverse("playbooks:detail", args=[playbook.pk]) + "?q=Sakura",
                reverse("playbooks:edit", args=[playbook.pk])):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                  and "django_session" not in q["sql"]]
        assert writes == [], (url, writes)
