"""Export API: GET /api/v1/exports/{type}.csv|.xlsx, scoped, filtered, documented."""

import io

import pytest
from openpyxl import load_workbook

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_csv_and_xlsx_exports_are_scoped_to_the_token_workspace(ws, viewer, outsider, api_for, account,
                                                                 other_account):
    ContactFactory(account=account, name="Taro Contact")
    response = api_for(viewer).get("/api/v1/exports/accounts.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("external_id,name,")
    assert account.name in body and other_account.name not in body

    response = api_for(outsider).get("/api/v1/exports/contacts.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [row for row in sheet.iter_rows(values_only=True)][1:] == []  # B has no contacts; A's never show


def test_account_export_filters_like_the_account_list(ws, manager, api_for, csm):
    AccountFactory(workspace=ws, name="Kept", owner=csm)
    AccountFactory(workspace=ws, name="Dropped", owner=None)
    api = api_for(manager)
    body = api.get(f"/api/v1/exports/accounts.csv?owner={csm.pk}").content.decode("utf-8-sig")
    assert "Kept" in body and "Dropped" not in body
    response = api.get("/api/v1/exports/accounts.csv?owner=999999")
    assert response.status_code == 400 and b"owner" in response.content


def test_anonymous_and_unknown_types_are_refused(ws, manager, api_for):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/exports/accounts.csv").status_code in (401, 403)
    assert api_for(manager).get("/api/v1/exports/secrets.csv").status_code == 404


def test_the_export_is_in_the_openapi_schema(ws, manager, login):
    schema = login(manager).get("/api/schema/?format=json").json()
    path = next(p for p in schema["paths"] if p.startswith("/api/v1/exports/"))
    operation = schema["paths"][path]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert any(parameter["name"] == "owner" for parameter in operation["parameters"])
