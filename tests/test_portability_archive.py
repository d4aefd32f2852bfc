"""The archive itself: one workspace and nothing of another, checked before anything is written,
refused when changed or too new, imported whole or not at all; members and credentials."""

import hashlib
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Account
from cs_platform.demo import seed_demo
from cs_platform.portability.archive import MANIFEST, ArchiveError
from cs_platform.portability.parts import PARTS
from cs_platform.portability.services import export_workspace, import_workspace
from imports.models import ImportJob
from usage.models import WriteKey
from workspaces.models import ApiToken, AuditEvent, Membership, Workspace, WorkspaceOwned

from .portability_seed import seed_workspace

User = get_user_model()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def read_archive(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_archive(path, members, *, rehash=True):
    """Write `members` as an archive; with `rehash`, the manifest's checksums and counts follow the
    changed members (a consistent archive whose content was edited)."""
    manifest = json.loads(members[MANIFEST])
    if rehash:
        for part in manifest["parts"]:
            for table in part["tables"]:
                data = members[table["file"]]
                table["sha256"], table["rows"] = hashlib.sha256(data).hexdigest(), data.count(b"\n")
    members = {**members, MANIFEST: json.dumps(manifest).encode()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def rows(members, name):
    return [json.loads(line) for line in members[name].splitlines()]


def nothing_written(slug, users_before, media):
    assert not Workspace.objects.filter(slug=slug).exists()
    assert User.objects.count() == users_before
    # Uploads live under imports/<workspace id>/: none may belong to a workspace that is not there.
    workspaces = {str(pk) for pk in Workspace.objects.values_list("pk", flat=True)}
    assert [f for f in (media / "imports").glob("*/*") if f.parent.name not in workspaces] == []


@pytest.fixture
def small(db, media, tmp_path):
    """A small demo workspace with an uploaded import, exported."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import create_job

    demo = seed_demo(slug="small", accounts=8, seed=2)
    manager = Membership.objects.for_workspace(demo.workspace).get(user__username="small-manager1")
    create_job(workspace=demo.workspace, actor=manager, object_type="accounts",
               upload=SimpleUploadedFile("a.csv", b"name,external_id\r\nA KK,A-1\r\n"))
    path = tmp_path / "small.zip"
    export_workspace(workspace=demo.workspace, path=str(path))
    return demo, path


@pytest.mark.django_db
def test_the_archive_of_a_workspace_holds_nothing_of_another(media, tmp_path):
    mine = seed_workspace("port-mine", accounts=20).workspace
    other = seed_workspace("port-other", accounts=12, seed=9).workspace
    path = tmp_path / "mine.zip"
    export_workspace(workspace=mine, path=str(path))
    members = read_archive(path)

    exported = {}  # model → ids in the archive
    for part in PARTS:
        for table in part.tables:
            exported[table.model] = {row["id"] for row in rows(members, f"{part.name}/{table.name}.jsonl")}
    for model, ids in exported.items():
        if issubclass(model, WorkspaceOwned):
            # Every row of the workspace, and only those (but the record of this export, written after it).
            rows_of_mine = model.all_workspaces.filter(workspace=mine)
            if model is AuditEvent:
                rows_of_mine = rows_of_mine.exclude(action="workspace.exported")
            assert ids == set(rows_of_mine.values_list("pk", flat=True)), model
    assert exported[User] == set(Membership.objects.for_workspace(mine).values_list("user_id", flat=True))
    assert exported[ApiToken] == set(ApiToken.objects.filter(membership__workspace=mine).values_list("pk", flat=True))
    # Rows that are not a workspace's own (links, tokens) point at this workspace's rows only.
    for part in PARTS:
        for table in part.tables:
            for row in rows(members, f"{part.name}/{table.name}.jsonl"):
                for field in table.fields:
                    if field.is_relation and row.get(field.attname) is not None:
                        assert row[field.attname] in exported[field.related_model], (table.name, field.name, row)
    assert exported[Account] and exported[WriteKey]
    assert b"port-other" not in b"".join(members.values())
    assert Account.objects.for_workspace(other).exists()


@pytest.mark.django_db
def test_a_changed_archive_is_refused_before_anything_is_written(small, media, tmp_path):
    _demo, path = small
    members = read_archive(path)
    accounts = "accounts/accounts.account.jsonl"
    members[accounts] = members[accounts].replace(b'"arr":"', b'"arr":"9', 1)
    changed = write_archive(tmp_path / "changed.zip", members, rehash=False)
    users = User.objects.count()

    with pytest.raises(ArchiveError, match="accounts.account.jsonl does not match its checksum"):
        import_workspace(path=str(changed), slug="restored")
    nothing_written("restored", users, media)


@pytest.mark.django_db
def test_an_archive_of_a_newer_format_or_with_unknown_tables_is_refused(small, tmp_path):
    _demo, path = small
    members = read_archive(path)
    manifest = json.loads(members[MANIFEST])

    newer = write_archive(tmp_path / "newer.zip", {**members, MANIFEST: json.dumps(
        {**manifest, "format_version": 2}).encode()})
    with pytest.raises(ArchiveError, match="format version 2, made by a newer version of the platform"):
        import_workspace(path=str(newer), slug="restored")

    unknown = write_archive(tmp_path / "unknown.zip", {**members, MANIFEST: json.dumps(
        {**manifest, "format_version": "1"}).encode()})
    with pytest.raises(ArchiveError, match="Unknown archive format version '1'"):
        import_workspace(path=str(unknown), slug="restored")

    # A part of an app this deployment does not have (playbooks was this example until it existed).
    manifest["parts"].append({"name": "forecasts", "tables": [
        {"name": "forecasts.forecast", "file": "forecasts/forecasts.forecast.jsonl", "rows": 0, "sha256": ""}]})
    future = write_archive(tmp_path / "future.zip", {**members, MANIFEST: json.dumps(manifest).encode(),
                                                      "forecasts/forecasts.forecast.jsonl": b""})
    with pytest.raises(ArchiveError, match="forecasts.forecast.jsonl, which this deployment does not know"):
        import_workspace(path=str(future), slug="restored")

    damaged = write_archive(tmp_path / "damaged.zip", {**members, MANIFEST: json.dumps(
        {k: v for k, v in json.loads(members[MANIFEST]).items() if k != "files"}).encode()}, rehash=False)
    with pytest.raises(ArchiveError, match="manifest.json is damaged"):
        import_workspace(path=str(damaged), slug="restored")
    extra = write_archive(tmp_path / "extra.zip", {**members, "accounts/more.jsonl": b"{}\n"}, rehash=False)
    with pytest.raises(ArchiveError, match="a file its manifest does not list: accounts/more.jsonl"):
        import_workspace(path=str(extra), slug="restored")

    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(ArchiveError, match="not a workspace archive"):
        import_workspace(path=str(tmp_path / "not.zip"), slug="restored")
    assert not Workspace.objects.filter(slug="restored").exists()


@pytest.mark.django_db
def test_a_failure_at_any_row_leaves_nothing_behind(small, media, tmp_path):
    _demo, path = small
    members = read_archive(path)
    # A consistent archive (checksums match) whose last table names an account it does not hold:
    # every table before it, the workspace, the users and the uploaded file were already written.
    name = "audit/workspaces.auditevent.jsonl"
    events = rows(members, name)
    events[-1]["actor_id"] = 999_999
    members[name] = b"".join(json.dumps(e).encode() + b"\n" for e in events)
    broken = write_archive(tmp_path / "broken.zip", members)
    get_user_model().objects.filter(username="small-csm1").update(username="someone-else")
    users = User.objects.count()

    with pytest.raises(ArchiveError, match="nothing was written.*workspaces.membership 999999"):
        import_workspace(path=str(broken), slug="restored")
    nothing_written("restored", users, media)


@pytest.mark.django_db
def test_members_and_credentials_after_a_restore(small, media):
    demo, path = small
    # One member has no login in this deployment yet (as in a new deployment).
    User.objects.filter(username="small-csm1").update(username="renamed-csm1")

    result = import_workspace(path=str(path), slug="restored")
    restored = result.workspace

    created = User.objects.get(username="small-csm1")
    assert not created.has_usable_password() and not created.is_staff and created.email == "csm1@small.example.com"
    roles = dict(Membership.objects.for_workspace(restored).values_list("user__username", "role"))
    source = dict(Membership.objects.for_workspace(demo.workspace).values_list("user__username", "role"))
    assert roles == {name.replace("renamed-", "small-"): role for name, role in source.items()}
    # Credentials are records, revoked; the keys that worked on the source open nothing here.
    tokens = ApiToken.objects.filter(membership__workspace=restored)
    keys = WriteKey.objects.for_workspace(restored)
    assert tokens.exists() and keys.exists()
    assert not tokens.filter(revoked_at__isnull=True).exists() and not keys.filter(revoked_at__isnull=True).exists()
    assert list(WriteKey.all_workspaces.filter(key_hash=WriteKey.hash_key(demo.write_key))
                .values_list("workspace", flat=True)) == [demo.workspace.pk]
    assert list(ApiToken.objects.filter(key_hash=ApiToken.hash_key(demo.api_token))
                .values_list("membership__workspace", flat=True)) == [demo.workspace.pk]
    assert any("Issue new tokens" in note for note in result.notes)
    # The uploaded file travelled and the job can still be started.
    job = ImportJob.objects.for_workspace(restored).get()
    assert job.file.name.startswith(f"imports/{restored.pk}/") and job.file.read() == b"name,external_id\r\nA KK,A-1\r\n"


@pytest.mark.django_db
def test_a_username_held_by_someone_else_is_refused(small, media):
    _demo, path = small
    User.objects.filter(username="small-viewer").update(email="a-different-person@example.org")
    users = User.objects.count()

    with pytest.raises(ArchiveError, match="'small-viewer' exists in this deployment with another e-mail"):
        import_workspace(path=str(path), slug="restored")
    nothing_written("restored", users, media)


@pytest.mark.django_db
def test_an_archive_cannot_name_rows_outside_the_workspace_it_creates(small, tmp_path, outsider, other_account):
    demo, path = small
    members = read_archive(path)
    # An edited archive (checksums made to match) naming another workspace's member and account by id.
    segment = {"id": 1, "name": "Planted", "description": "", "created_by_id": None, "created_at": "2026-01-05T00:00:00+00:00",
               "updated_at": "2026-01-05T00:00:00+00:00", "computed_on": None, "member_count": 0,
               "rules": {"op": "and", "conditions": [{"field": "owner", "op": "in", "value": [outsider.pk]}]}}
    members["segments/segments.segment.jsonl"] = json.dumps(segment).encode() + b"\n"
    audit = rows(members, "audit/workspaces.auditevent.jsonl")
    audit[0].update(object_type="account", object_id=str(other_account.pk))
    members["audit/workspaces.auditevent.jsonl"] = b"".join(json.dumps(e).encode() + b"\n" for e in audit)
    edited = write_archive(tmp_path / "edited.zip", members)

    restored = import_workspace(path=str(edited), slug="restored").workspace

    from segments.models import Segment

    assert Segment.objects.for_workspace(restored).get().rules["conditions"][0]["value"] == [-outsider.pk]
    assert not AuditEvent.objects.for_workspace(restored).filter(object_id=str(other_account.pk),
                                                                 object_type="account").exists()
    # A foreign key to a row the archive does not hold is refused outright (see the failure test).


@pytest.mark.django_db
def test_the_audit_log_says_who_exported_and_imported(small, tmp_path):
    demo, path = small
    restored = import_workspace(path=str(path), slug="restored").workspace

    exported = AuditEvent.objects.for_workspace(demo.workspace).get(action="workspace.exported")
    assert exported.system_actor == "export_workspace" and exported.changes["file"] == "small.zip"
    imported = AuditEvent.objects.for_workspace(restored).get(action="workspace.imported")
    assert imported.system_actor == "import_workspace" and imported.changes["from"] == "small"
    assert imported.changes["rows"] == exported.changes["rows"]
    # The source's history travelled, with its times and actors.
    source = list(AuditEvent.objects.for_workspace(demo.workspace).exclude(action="workspace.exported")
                  .order_by("at", "id").values_list("action", "at", "system_actor", "actor__user__username"))
    copy = list(AuditEvent.objects.for_workspace(restored).exclude(action="workspace.imported")
                .order_by("at", "id").values_list("action", "at", "system_actor", "actor__user__username"))
    assert copy == source and len(source) > 10


@pytest.mark.django_db
def test_the_workspace_keeps_its_settings_and_rows_their_times(small):
    demo, path = small
    source = demo.workspace
    Workspace.objects.filter(pk=source.pk).update(time_zone="America/New_York", currency="USD", nightly_hour=4)
    export_workspace(workspace=Workspace.objects.get(pk=source.pk), path=str(path.with_name("again.zip")))

    restored = import_workspace(path=str(path.with_name("again.zip")), slug="restored", name="Restored").workspace

    assert (restored.name, restored.time_zone, restored.currency, restored.nightly_hour) == (
        "Restored", "America/New_York", "USD", 4)
    assert restored.created_at == source.created_at and restored.nightly_queued_on is None
    times = ["name", "created_at", "updated_at"]
    assert list(Account.objects.for_workspace(restored).order_by("name").values_list(*times)) == list(
        Account.objects.for_workspace(source).order_by("name").values_list(*times))
