"""Playbooks in a workspace archive: the archive's library is the restored workspace's whole library
(no default playbook comes back next to it), and the ids inside definitions, runs' reasons and
`why` name the restored rows, so that the next night recognises the occurrences it already handled."""

import datetime as dt
import json
import zipfile

import pytest

from accounts.models import Contact, LifecycleStage
from cs_platform.portability.archive import MANIFEST
from cs_platform.portability.services import export_workspace, import_workspace
from playbooks import services as playbooks
from playbooks.models import Playbook, PlaybookHold, PlaybookRun, RunAction, Task, TaskSource
from segments.models import Segment
from segments.services import save_segment
from workspaces.models import Membership

from .factories import AccountFactory


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_restored_playbooks_are_the_archives_with_their_ids_renamed(ws, manager, csm, media, tmp_path):
    playbooks.ensure_defaults(workspace=ws)
    library = list(Playbook.objects.for_workspace(ws).exclude(library_key="").order_by("name"))
    playbooks.delete_playbook(playbook=library[0], actor=manager)
    playbooks.save_playbook(workspace=ws, actor=manager, playbook=library[1], name="Our own renewal call")

    stage = LifecycleStage.objects.for_workspace(ws).order_by("position").last()
    account = AccountFactory(workspace=ws, owner=csm, name="Sakura Logistics KK", external_id="crm-sakura", stage=stage)
    contact = Contact.objects.create(workspace=ws, account=account, name="Hana Left", role="champion",
                                     left_on=ws.today())
    segment = save_segment(workspace=ws, actor=manager, name="Sakura", rules={
        "op": "and", "conditions": [{"field": "owner", "op": "in", "value": [csm.pk]}]})
    book = playbooks.save_playbook(workspace=ws, actor=manager, name="Entered Sakura", definition={
        "trigger": {"kind": "segment_entered", "segment": segment.pk},
        "condition": {"op": "and", "conditions": [{"field": "stage", "op": "in", "value": [stage.pk]}]},
        "steps": [{"kind": "task", "day": 0, "due_days": 3, "title": "Call {account}"},
                  {"kind": "set_field", "day": 0, "field": "stage", "value": stage.pk}],
    })
    version = book.versions.get()
    day = ws.today() - dt.timedelta(days=3)
    run = PlaybookRun.objects.create(
        workspace=ws, playbook=book, version=version, account=account, started_on=day, started_by=csm,
        reason_key=f"segment:{segment.pk}:{day}",
        why={"trigger": "segment_entered", "values": {"segment": segment.pk, "since": str(day)}, "by": csm.pk})
    RunAction.objects.create(workspace=ws, run=run, step_index=1, done_on=day, result={"stage": stage.pk})
    PlaybookHold.objects.create(workspace=ws, playbook=book, account=account, reason_key=f"contact_left:{contact.pk}",
                                held_because="cooldown", first_on=day, last_on=day)
    Task.objects.create(workspace=ws, account=account, assignee=csm, title="Call Sakura", due_on=day, run=run,
                        step_index=0, source=TaskSource.PLAYBOOK)
    Task.objects.create(workspace=ws, account=account, assignee=csm, title="Manual", due_on=day)
    names_before = list(Playbook.objects.for_workspace(ws).values_list("name", "library_key"))

    export_workspace(workspace=ws, path=str(tmp_path / "ws.zip"))
    restored = import_workspace(path=str(tmp_path / "ws.zip"), slug="restored").workspace

    # The library as the source left it: the deleted one stays deleted, the renamed one renamed.
    assert list(Playbook.objects.for_workspace(restored).values_list("name", "library_key")) == names_before
    assert not Playbook.objects.for_workspace(restored).filter(name=library[0].name).exists()

    new_segment = Segment.objects.for_workspace(restored).get(name="Sakura")
    new_stage = LifecycleStage.objects.for_workspace(restored).get(name=stage.name)
    new_csm = Membership.objects.for_workspace(restored).get(user__username="csm")
    new_contact = Contact.objects.for_workspace(restored).get(name="Hana Left")
    definition = Playbook.objects.for_workspace(restored).get(name="Entered Sakura").versions.get().definition
    assert definition["trigger"]["segment"] == new_segment.pk
    assert definition["condition"]["conditions"][0]["value"] == [new_stage.pk]
    assert definition["steps"][1]["value"] == new_stage.pk

    new_run = PlaybookRun.objects.for_workspace(restored).get()
    assert new_run.reason_key == f"segment:{new_segment.pk}:{day}"
    assert new_run.why["values"]["segment"] == new_segment.pk and new_run.why["by"] == new_csm.pk
    assert new_run.started_by == new_csm and new_run.account.workspace == restored
    assert RunAction.objects.for_workspace(restored).get().result == {"stage": new_stage.pk}
    assert PlaybookHold.objects.for_workspace(restored).get().reason_key == f"contact_left:{new_contact.pk}"
    tasks = Task.objects.for_workspace(restored).order_by("title")
    assert [(t.title, t.run_id, t.assignee_id) for t in tasks] == [
        ("Call Sakura", new_run.pk, new_csm.pk), ("Manual", None, new_csm.pk)]


@pytest.mark.django_db
def test_an_archive_made_before_playbooks_existed_gets_the_default_library(ws, manager, media, tmp_path):
    playbooks.ensure_defaults(workspace=ws)
    library = sorted(Playbook.objects.for_workspace(ws).values_list("library_key", flat=True))
    export_workspace(workspace=ws, path=str(tmp_path / "ws.zip"))
    with zipfile.ZipFile(tmp_path / "ws.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[MANIFEST])
    manifest["parts"] = [part for part in manifest["parts"] if part["name"] != "playbooks"]
    with zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for name, data in members.items():
            if not name.startswith("playbooks/"):
                old.writestr(name, json.dumps(manifest) if name == MANIFEST else data)

    restored = import_workspace(path=str(tmp_path / "old.zip"), slug="restored").workspace
    assert sorted(Playbook.objects.for_workspace(restored).values_list("library_key", flat=True)) == library


@pytest.mark.django_db
def test_a_library_emptied_by_its_managers_stays_empty(ws, manager, media, tmp_path):
    playbooks.ensure_defaults(workspace=ws)
    for playbook in Playbook.objects.for_workspace(ws):
        playbooks.delete_playbook(playbook=playbook, actor=manager)
    export_workspace(workspace=ws, path=str(tmp_path / "ws.zip"))
    restored = import_workspace(path=str(tmp_path / "ws.zip"), slug="restored").workspace
    assert not Playbook.objects.for_workspace(restored).exists()
