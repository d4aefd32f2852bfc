"""The playbook API: CRUD with versions, 400s naming the field, who may design and enrol, tenancy."""

import pytest

from playbooks import services
from playbooks.models import Playbook, PlaybookRun, PlaybookVersion
from segments.services import save_segment
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/playbooks/"
RUNS = "/api/v1/playbook-runs/"
ACTIVE = {"op": "and", "conditions": [{"field": "status", "op": "in", "value": ["active"]}]}


def definition(kind="manual", title="Call {account}", **params):
    return {"trigger": {"kind": kind, **params},
            "steps": [{"kind": "task", "day": 0, "title": title, "type": "call", "due_days": 5}]}


def test_managers_create_read_edit_and_delete(api_for, manager):
    api = api_for(manager)
    created = api.post(URL, {"name": "Rescue", "description": "Red accounts", "definition": definition()},
                       format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["version"], body["trigger_kind"], body["active_runs"]) == (1, "manual", 0)
    assert body["definition"]["steps"][0]["due_days"] == 5
    pk = body["id"]
    edited = api.patch(f"{URL}{pk}/", {"definition": definition("renewal_within", days=60), "note": "Renewals"},
                       format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert edited.json()["trigger_kind"] == "renewal_within"
    renamed = api.patch(f"{URL}{pk}/", {"name": "Renewal prep"}, format="json")
    assert renamed.json()["version"] == 2 and renamed.json()["name"] == "Renewal prep"
    versions = api.get(f"{URL}{pk}/versions/").json()
    assert [v["number"] for v in versions["results"]] == [2, 1]
    assert versions["results"][0]["note"] == "Renewals"
    listed = api.get(URL, {"trigger_kind": "renewal_within", "q": "Renewal prep"}).json()
    assert [p["id"] for p in listed["results"]] == [pk]
    assert api.delete(f"{URL}{pk}/").status_code == 204


def test_bad_input_is_a_400_naming_the_field(api_for, manager, ws, other_ws, outsider):
    api = api_for(manager)
    missing = api.post(URL, {"name": "No definition"}, format="json")
    assert missing.status_code == 400 and "definition" in missing.json()
    placeholder = api.post(URL, {"name": "Typo", "definition": definition(title="Call {acount}")}, format="json")
    assert placeholder.status_code == 400
    assert placeholder.json()["definition"][0].startswith("steps[1].title: unknown placeholder(s) {acount}")
    not_a_list = api.post(URL, {"name": "X", "definition": {"trigger": {"kind": "manual"}, "steps": "call"}},
                          format="json")
    assert not_a_list.status_code == 400 and not_a_list.json()["definition"][0].startswith("steps:")
    theirs = save_segment(workspace=other_ws, actor=outsider, name="Theirs", rules=ACTIVE)
    foreign = api.post(URL, {"name": "Theirs", "definition": definition("segment_entered", segment=theirs.pk)},
                       format="json")
    assert foreign.status_code == 400 and foreign.json()["definition"][0].startswith("trigger.segment")
    unnamed = api.post(URL, {"name": "", "definition": definition()}, format="json")
    assert unnamed.status_code == 400 and "name" in unnamed.json()
    theirs_playbook = Playbook.objects.for_workspace(other_ws).first()
    foreign_preview = api.post(f"{URL}preview/", {"definition": definition(), "playbook": theirs_playbook.pk},
                               format="json")
    assert foreign_preview.status_code == 400 and "playbook" in foreign_preview.json()
    bad_preview = api.post(f"{URL}preview/", {"definition": {"trigger": {"kind": "rain"}}}, format="json")
    assert bad_preview.status_code == 400 and bad_preview.json()["definition"][0].startswith("trigger.kind")


def test_csms_and_viewers_read_but_do_not_design(api_for, csm, viewer, ws):
    playbook = Playbook.objects.for_workspace(ws).get(library_key="red_rescue")
    for member in (csm, viewer):
        api = api_for(member)
        assert api.get(f"{URL}{playbook.pk}/").status_code == 200
        assert api.post(URL, {"name": "Mine", "definition": definition()}, format="json").status_code == 403
        assert api.patch(f"{URL}{playbook.pk}/", {"enabled": False}, format="json").status_code == 403
        assert api.post(f"{URL}preview/", {"definition": definition()}, format="json").status_code == 403
        assert api.delete(f"{URL}{playbook.pk}/").status_code == 403
    assert Playbook.objects.for_workspace(ws).get(pk=playbook.pk).enabled is True


def test_another_workspace_cannot_read_count_or_change_playbooks_or_runs(api_for, manager, outsider, ws, account):
    playbook = services.save_playbook(workspace=ws, actor=manager, name="Secret plan", definition=definition())
    run = PlaybookRun.objects.create(workspace=ws, playbook=playbook, version=services.latest_version(playbook),
                                     account=account, reason_key="manual:1", started_on=ws.today())
    api = api_for(outsider)
    names = [p["name"] for p in api.get(URL, {"q": "Secret"}).json()["results"]]
    assert names == []
    assert api.get(URL).json()["count"] == Playbook.objects.for_workspace(outsider.workspace).count()
    assert api.get(f"{URL}{playbook.pk}/").status_code == 404
    assert api.get(f"{URL}{playbook.pk}/versions/").status_code == 404
    assert api.patch(f"{URL}{playbook.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert api.delete(f"{URL}{playbook.pk}/").status_code == 404
    assert api.get(RUNS).json()["count"] == 0
    assert api.get(f"{RUNS}{run.pk}/").status_code == 404
    assert api.post(f"{RUNS}{run.pk}/end/", {}, format="json").status_code == 404
    assert api.get(RUNS, {"playbook": playbook.pk}).status_code == 400  # not a choice here
    enrol = api.post(RUNS, {"playbook": playbook.pk, "accounts": [account.pk]}, format="json")
    assert enrol.status_code == 400 and "playbook" in enrol.json()
    own = Playbook.objects.for_workspace(outsider.workspace).first()
    enrol = api.post(RUNS, {"playbook": own.pk, "accounts": [account.pk]}, format="json")
    assert enrol.status_code == 400 and "accounts" in enrol.json()
    assert Playbook.objects.for_workspace(ws).get(pk=playbook.pk).name == "Secret plan"
    assert PlaybookRun.objects.for_workspace(ws).count() == 1
    assert PlaybookVersion.objects.for_workspace(ws).filter(playbook=playbook).count() == 1


def test_runs_are_listed_filtered_and_read_with_their_reason(api_for, manager, csm, ws, account):
    playbook = Playbook.objects.for_workspace(ws).get(library_key="renewal_120")
    run = PlaybookRun.objects.create(
        workspace=ws, playbook=playbook, version=services.latest_version(playbook), account=account,
        reason_key="renewal:2027-03-27", started_on=ws.today(),
        why={"trigger": "renewal_within", "values": {"renewal_date": "2027-03-27", "days_left": 118},
             "by": "nightly"})
    api = api_for(csm)
    rows = api.get(RUNS, {"account": account.pk, "status": "active"}).json()["results"]
    assert [r["id"] for r in rows] == [run.pk]
    assert rows[0]["playbook"] == {"id": playbook.pk, "name": playbook.name}
    assert "2027-03-27" in rows[0]["why_text"]
    assert api.get(RUNS, {"status": "completed"}).json()["count"] == 0
    assert api.get(f"{RUNS}{run.pk}/").json()["reason_key"] == "renewal:2027-03-27"


def test_enrolling_and_ending_by_hand_follow_the_account(api_for, manager, csm, csm2, viewer, ws, account):
    pytest.importorskip("playbooks.engine")
    playbook = services.save_playbook(workspace=ws, actor=manager, name="By hand", definition=definition())
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Their account")
    assert api_for(viewer).post(RUNS, {"playbook": playbook.pk, "accounts": [account.pk]},
                                format="json").status_code == 403
    refused = api_for(csm).post(RUNS, {"playbook": playbook.pk, "accounts": [account.pk, theirs.pk]}, format="json")
    assert refused.status_code == 403
    assert not PlaybookRun.objects.for_workspace(ws).exists()
    enrolled = api_for(csm).post(RUNS, {"playbook": playbook.pk, "accounts": [account.pk]}, format="json")
    assert enrolled.status_code == 201, enrolled.json()
    assert len(enrolled.json()["enrolled"]) == 1 and enrolled.json()["skipped"] == []
    run = PlaybookRun.objects.for_workspace(ws).get(account=account)
    assert api_for(csm2).post(f"{RUNS}{run.pk}/end/", {"why": "No"}, format="json").status_code == 403
    ended = api_for(csm).post(f"{RUNS}{run.pk}/end/", {"why": "Customer asked"}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] != "active"
    again = api_for(csm).post(f"{RUNS}{run.pk}/end/", {}, format="json")
    assert again.status_code == 400 and "run" in again.json()
    empty = api_for(manager).post(RUNS, {"playbook": playbook.pk, "accounts": []}, format="json")
    assert empty.status_code == 400 and "accounts" in empty.json()


def test_the_preview_answers_before_saving(api_for, manager, ws, account):
    pytest.importorskip("playbooks.engine")
    before = Playbook.objects.for_workspace(ws).count()
    answer = api_for(manager).post(f"{URL}preview/", {"definition": definition("health_red")}, format="json")
    assert answer.status_code == 200, answer.json()
    assert {"count", "matching", "held", "sample"} <= set(answer.json())
    assert Playbook.objects.for_workspace(ws).count() == before
