"""A CSM's touchpoint import follows the API's policy: a CSM logs touches as themself only, and cannot
take over another member's touchpoint (by its external ID); a manager may do both. The same rows
are sent to the API, through the import service, and through the import pages."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Touchpoint
from imports.models import ImportJob

from .factories import TouchpointFactory
from .imports_helpers import csv_bytes, run_import

pytestmark = pytest.mark.django_db

HEADERS = ["external_id", "account_external_id", "occurred_at", "channel", "summary", "author"]


@pytest.fixture
def theirs(ws, account, csm2):
    """csm2's touchpoint, known to the CRM as tp-theirs."""
    return TouchpointFactory(account=account, author=csm2, external_id="tp-theirs", channel="phone",
                             occurred_at=dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC), summary="csm2's call")


def rows(account, csm, csm2):
    """Row 2: a touch of the importer's own (fine); row 3: logged as another member; row 4: another
    member's touch, re-authored to the importer."""
    return [
        ["tp-mine", account.external_id, "2024-05-02 10:00", "phone", "My call", csm.user.email],
        ["tp-as-csm2", account.external_id, "2024-05-03 10:00", "phone", "Said to be csm2's", csm2.user.email],
        ["tp-theirs", account.external_id, "2024-05-01 19:00", "phone", "Taken over", csm.user.email],
    ]


def assert_nothing_of_others_changed(theirs, csm2):
    theirs.refresh_from_db()
    assert theirs.author == csm2 and theirs.summary == "csm2's call"
    assert not Touchpoint.all_workspaces.filter(external_id="tp-as-csm2").exists()


def test_the_api_refuses_both(ws, account, csm, csm2, theirs, api_for):
    api = api_for(csm)
    response = api.post("/api/v1/touchpoints/", {"account": account.pk, "author": csm2.pk, "channel": "phone",
                                                 "occurred_at": "2024-05-03T10:00:00+09:00"}, format="json")
    assert response.status_code == 403
    response = api.put("/api/v1/touchpoints/by-external-id/tp-theirs/",
                       {"account": account.pk, "author": csm.pk, "channel": "phone",
                        "occurred_at": "2024-05-01T19:00:00+09:00"}, format="json")
    assert response.status_code == 403
    assert_nothing_of_others_changed(theirs, csm2)


def test_the_import_service_refuses_both_row_by_row(ws, account, csm, csm2, theirs):
    data = csv_bytes([HEADERS, *rows(account, csm, csm2)])
    result = run_import(data, workspace=ws, actor=csm, object_type="touchpoints", commit=True, valid_only=True)
    refused = {(error["row"], error["field"]) for error in result.errors}
    assert {row for row, _field in refused} == {3, 4}, result.errors
    assert all("manager" in error["message"] for error in result.errors)
    assert result.committed and Touchpoint.all_workspaces.get(external_id="tp-mine").author == csm
    assert_nothing_of_others_changed(theirs, csm2)


def test_a_csm_may_still_edit_their_own_touch_and_a_manager_may_do_both(ws, account, manager, csm, csm2, theirs):
    data = csv_bytes([HEADERS, *rows(account, csm, csm2)])
    result = run_import(data, workspace=ws, actor=manager, object_type="touchpoints", commit=True)
    assert result.committed and not result.errors
    theirs.refresh_from_db()
    assert theirs.author == csm and Touchpoint.all_workspaces.get(external_id="tp-as-csm2").author == csm2


def test_the_import_pages_refuse_both(ws, account, csm, csm2, theirs, login, settings, tmp_path,
                                      django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = login(csm)
    upload = SimpleUploadedFile("touches.csv", csv_bytes([HEADERS, *rows(account, csm, csm2)]), "text/csv")
    response = client.post(reverse("imports:index"), {"object_type": "touchpoints", "file": upload})
    job = ImportJob.all_workspaces.get()
    assert response.url == reverse("imports:map", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:map", args=[job.pk]), {f"col_{n}": name for n, name in enumerate(HEADERS)})
    job.refresh_from_db()
    assert job.status == "checked" and {error["row"] for error in job.errors} == {3, 4}
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Only a manager or admin can log a touchpoint for someone else." in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"action": "commit"})
    job.refresh_from_db()
    assert job.status == "checked" and not Touchpoint.all_workspaces.filter(external_id="tp-mine").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:job", args=[job.pk]), {"action": "commit_valid_only"})
    job.refresh_from_db()
    assert job.status == "done" and job.summary["created"] == 1 and job.summary["skipped"] == 2
    assert Touchpoint.all_workspaces.get(external_id="tp-mine").author == csm
    assert_nothing_of_others_changed(theirs, csm2)
