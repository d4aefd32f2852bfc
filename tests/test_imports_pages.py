"""The import / export pages: upload → map → dry run → import, roles, saved mappings, tenancy."""

import pytest
from django.urls import reverse

from accounts.models import Account, Touchpoint
from imports.models import ImportJob, ImportMapping

from .factories import AccountFactory
from .imports_helpers import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, data, object_type="accounts", name="book.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("imports:index"), {"object_type": object_type,
                                                  "file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_map_dry_run_and_commit(ws, manager, login, django_capture_on_commit_callbacks):
    client = login(manager)
    assert b"Import / export" in client.get(reverse("imports:index")).content
    data = csv_bytes([["会社名", "顧客ID", "年間契約金額", "メモ欄"], ["さくら", "s-1", "1,000"],
                      ["うめ", "u-1", "abc"]])
    response = upload(client, data)
    job = ImportJob.all_workspaces.get(workspace=ws)
    assert response.status_code == 302 and response.url == reverse("imports:map", args=[job.pk])

    page = client.get(response.url).content.decode()
    assert '<option value="name" selected>' in page and '<option value="arr" selected>' in page
    assert "さくら" in page  # preview of the first rows

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:map", args=[job.pk]),
                               {"col_0": "name", "col_1": "external_id", "col_2": "arr", "col_3": ""})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "checked" and job.error_count == 1
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Dry run" in page and "年間契約金額" in page and "not a number" in page
    assert "Import valid rows only" in page
    assert not Account.all_workspaces.exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"action": "commit"})
    job.refresh_from_db()
    assert job.status == "checked" and not Account.all_workspaces.exists()  # the whole file must be valid

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"action": "commit_valid_only"})
    job.refresh_from_db()
    assert job.status == "done" and job.summary["created"] == 1 and job.summary["skipped"] == 1
    assert list(Account.all_workspaces.values_list("name", flat=True)) == ["さくら"]
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Skipped rows" in page and "not a number" in page

    progress = client.get(reverse("imports:progress", args=[job.pk])).json()
    assert progress["status"] == "done" and not progress["running"] and progress["total"] == 2


def test_the_chosen_mapping_is_saved_and_prefills_the_next_upload(ws, manager, login,
                                                                    django_capture_on_commit_callbacks):
    client = login(manager)
    upload(client, csv_bytes([["Kundenname", "Notiz"], ["Alpha", "x"]]))
    job = ImportJob.all_workspaces.get()
    assert '<option value="name" selected>' not in client.get(reverse("imports:map", args=[job.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:map", args=[job.pk]), {"col_0": "name", "col_1": ""})
    assert ImportMapping.all_workspaces.get(workspace=ws, object_type="accounts").columns == {"kundenname": "name",
                                                                                          "notiz": ""}
    upload(client, csv_bytes([["KUNDENNAME"], ["Beta"]]))
    second = ImportJob.all_workspaces.latest("id")
    assert '<option value="name" selected>' in client.get(reverse("imports:map", args=[second.pk])).content.decode()


def test_roles(ws, viewer, csm, login, account, django_capture_on_commit_callbacks):
    client = login(viewer)
    page = client.get(reverse("imports:index")).content.decode()
    assert "does not allow imports" in page
    assert upload(client, csv_bytes([["name"], ["x"]])).status_code == 403  # refused by the policy
    assert client.get(reverse("imports:export", args=["accounts", "csv"])).status_code == 200  # viewers read

    client = login(csm)
    assert upload(client, csv_bytes([["name"], ["x"]])).status_code == 403  # accounts: managers only
    response = upload(client, csv_bytes([["account", "date", "channel"], [account.name, "2024-05-01", "phone"]]),
                      object_type="touchpoints")
    job = ImportJob.all_workspaces.get(object_type="touchpoints")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:map", args=[job.pk]), {"col_0": "account", "col_1": "occurred_at",
                                                             "col_2": "channel"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"action": "commit"})
    assert response.status_code == 302
    assert Touchpoint.all_workspaces.get().author == csm


def test_another_workspace_sees_no_job_and_no_export_row(ws, manager, outsider, login, account, other_account):
    client = login(manager)
    upload(client, csv_bytes([["name"], ["Secret KK"]]))
    job = ImportJob.all_workspaces.get()
    client = login(outsider)
    for name in ("imports:job", "imports:map", "imports:progress"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert job.filename not in client.get(reverse("imports:index")).content.decode()
    body = client.get(reverse("imports:export", args=["accounts", "csv"])).content.decode("utf-8-sig")
    assert "Hidden Other Corp" in body and account.name not in body


def test_export_downloads_honour_filters_and_reject_bad_ones(ws, manager, login, csm):
    AccountFactory(workspace=ws, name="Mine", owner=csm)
    AccountFactory(workspace=ws, name="Nobody's", owner=None)
    client = login(manager)
    response = client.get(reverse("imports:export", args=["accounts", "csv"]) + f"?owner={csm.pk}")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    assert "Mine" in body and "Nobody's" not in body
    assert client.get(reverse("imports:export", args=["accounts", "csv"]) + "?owner=999999").status_code == 400
    xlsx = client.get(reverse("imports:export", args=["contracts", "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert client.get("/imports/export/secrets.csv").status_code == 404


def test_a_broken_file_is_refused_on_upload(ws, manager, login):
    response = upload(login(manager), b"PK\x03\x04 broken", name="book.xlsx")
    assert response.status_code == 400 and "could not be opened" in response.content.decode()
    assert not ImportJob.all_workspaces.exists()
