"""Requests the fuzzer found answered with 500s: each is now a 4xx naming what is wrong, in the API's
usual error shape (`{"field": ["message"]}` for a bad value, `{"detail": "..."}` otherwise)."""

import pytest
from django.test import Client

from .factories import ContactFactory, ContractFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_segment_created_without_rules_is_a_400_naming_rules(api_for, manager):
    response = api_for(manager).post("/api/v1/segments/", {"name": "No rules"})
    assert response.status_code == 400
    assert list(response.json()) == ["rules"]
    assert response.json()["rules"] == ["This field is required."]


def test_segment_replaced_without_rules_is_a_400_naming_rules(api_for, manager):
    api = api_for(manager)
    created = api.post("/api/v1/segments/", {"name": "Big", "rules": {"conditions": [
        {"field": "arr", "op": "gte", "value": 1000}]}})
    assert created.status_code == 201, created.json()
    response = api.put(f"/api/v1/segments/{created.json()['id']}/", {"name": "Renamed"})
    assert response.status_code == 400
    assert list(response.json()) == ["rules"]
    # A partial update may leave the rules out.
    assert api.patch(f"/api/v1/segments/{created.json()['id']}/", {"name": "Renamed"}).status_code == 200


@pytest.mark.parametrize("pk", ["abc", "1.5", "0x10", "%20"])
def test_account_health_with_a_non_numeric_id_is_a_404(api_for, viewer, pk):
    response = api_for(viewer).get(f"/api/v1/health/accounts/{pk}/")
    assert response.status_code == 404
    assert "detail" in response.json()


KINDS = ["accounts", "contacts", "touchpoints", "contracts"]


@pytest.fixture
def session_api():
    """A signed-in browser session calling the API (as the pages' own scripts do); one client each."""

    def _session(membership):
        client = Client(raise_request_exception=False)
        client.force_login(membership.user)
        session = client.session
        session["workspace_id"] = membership.workspace_id
        session.save()
        return client

    return _session


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["token", "session"])
def test_options_on_by_external_id_shows_the_put_form_to_a_manager(api_for, session_api, manager, account, kind, how):
    factory = {"accounts": None, "contacts": ContactFactory, "touchpoints": TouchpointFactory,
               "contracts": ContractFactory}[kind]
    if factory is not None:
        factory(account=account, external_id="crm-sakura")
    api = api_for(manager) if how == "token" else session_api(manager)
    response = api.options(f"/api/v1/{kind}/by-external-id/crm-sakura/")
    assert response.status_code == 200, response.content[:300]
    assert "PUT" in response.json()["actions"]
    # An external ID not yet known: the route still answers, without an object to judge the form by.
    assert api.options(f"/api/v1/{kind}/by-external-id/crm-new/").status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["token", "session"])
def test_options_on_by_external_id_leaves_the_form_out_for_a_viewer(api_for, session_api, viewer, account, kind, how):
    api = api_for(viewer) if how == "token" else session_api(viewer)
    response = api.options(f"/api/v1/{kind}/by-external-id/crm-sakura/")
    assert response.status_code == 200, response.content[:300]
    assert "actions" not in response.json()


@pytest.mark.parametrize("how", ["token", "session"])
def test_options_elsewhere_judges_each_write_by_its_own_policy(api_for, session_api, manager, viewer, account, how):
    as_manager = api_for(manager) if how == "token" else session_api(manager)
    as_viewer = api_for(viewer) if how == "token" else session_api(viewer)
    for path in ["/api/v1/accounts/", f"/api/v1/accounts/{account.pk}/", "/api/v1/accounts/bulk-upsert/",
                 "/api/v1/segments/", "/api/v1/segments/preview/", "/api/v1/me/"]:
        for api in (as_manager, as_viewer):
            response = api.options(path)
            assert response.status_code == 200, (path, response.content[:300])
    assert set(as_manager.options(f"/api/v1/accounts/{account.pk}/").json()["actions"]) == {"PUT"}
    assert set(as_manager.options("/api/v1/accounts/").json()["actions"]) == {"POST"}
    assert "actions" not in as_viewer.options("/api/v1/accounts/").json()


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+15:00", "2024-01-01T00:00:00-14:30",
                                   "2024-01-01T00:00:00+23:59", "2024-01-01T00:00:00-23:59"])
@pytest.mark.parametrize("name", ["occurred_after", "occurred_before"])
def test_touchpoint_date_filter_with_an_offset_beyond_14_hours_is_a_400(api_for, viewer, name, value):
    response = api_for(viewer).get("/api/v1/touchpoints/", {name: value})
    assert response.status_code == 400
    assert list(response.json()) == [name]


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00-12:00", "2024-01-01T09:00:00Z"])
def test_touchpoint_date_filter_with_a_real_offset_still_works(api_for, viewer, value):
    response = api_for(viewer).get("/api/v1/touchpoints/", {"occurred_after": value})
    assert response.status_code == 200


def test_scorecard_with_a_segment_id_too_big_for_the_database_is_a_400(api_for, manager):
    response = api_for(manager).post("/api/v1/health/scorecards/", {
        "name": "Big ids", "segments": [2**64, 17]}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["segments"]


@pytest.mark.parametrize("value", ["0895-07-27T13:34:04+09:00", "3000-01-01T00:00:00Z",
                                   "2026-11-20T10:00:00+21:43", "2026-11-20T10:00:00-14:30"])
def test_touchpoint_at_an_impossible_moment_is_a_400(api_for, manager, account, value):
    # (The year 895 in Tokyo has an offset of +09:18:59, which is no RFC 3339 time to answer with.)
    response = api_for(manager).post("/api/v1/touchpoints/", {
        "account": account.pk, "channel": "phone", "summary": "Call", "occurred_at": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["occurred_at"]


def test_touchpoint_with_a_real_offset_is_stored_at_that_moment(api_for, manager, account):
    response = api_for(manager).post("/api/v1/touchpoints/", {
        "account": account.pk, "channel": "phone", "summary": "Call", "occurred_at": "2026-11-20T10:00:00+14:00"},
        format="json")
    assert response.status_code == 201
    assert response.json()["occurred_at"].startswith("2026-11-20T05:00:00")  # the suite's zone is Asia/Tokyo


def test_an_unknown_api_path_is_a_json_404(api_for, viewer):
    for path in ["/api/v1/nope/", "/api/v1/segments/1.5/members/", "/api/v1/touch-model/7/"]:
        response = api_for(viewer).get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_path_is_still_the_html_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("external_id", ["crm\x00nul", "x" * 101])
def test_an_external_id_no_row_could_have_is_a_400_in_bulk(api_for, manager, account, kind, external_id):
    # (PostgreSQL refuses NUL in text outright: before the row was validated, that was a 500.)
    row = {"external_id": external_id, "name": "Row"}
    if kind != "accounts":
        row["account"] = account.pk
    response = api_for(manager).post(f"/api/v1/{kind}/bulk-upsert/", [row], format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()["errors"][0]["errors"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("external_id", ["crm%00nul", "x" * 101])
def test_an_external_id_no_row_could_have_in_the_path(api_for, manager, kind, external_id):
    api = api_for(manager)
    assert api.get(f"/api/v1/{kind}/by-external-id/{external_id}/").status_code == 404
    response = api.put(f"/api/v1/{kind}/by-external-id/{external_id}/", {"name": "Row"}, format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/v1/accounts/", {"name": "Nul", "attributes": {"note": "a\x00b"}}),
    ("post", "/api/v1/accounts/", {"name": "Nul", "attributes": {"a\x00": 1}}),
    ("post", "/api/v1/segments/", {"name": "Nul", "rules": {"conditions": [
        {"field": "tags", "op": "any", "value": ["a\x00"]}]}}),
    ("post", "/api/v1/segments/preview/", {"rules": {"conditions": [{"field": "tags", "op": "any", "value": ["\x00"]}]}}),
    ("post", "/api/v1/health/scorecards/", {"name": "Nul", "definition": {"groups": [{"key": "\x00"}]}}),
])
def test_null_characters_in_free_json_are_a_400(api_for, admin, method, path, body):
    # PostgreSQL cannot store NUL in JSON: that was a 500 there (and stored as sent on SQLite).
    response = getattr(api_for(admin), method)(path, body, format="json")
    assert response.status_code == 400
    field = next(name for name in body if name != "name")
    assert response.json()[field] == ["Null characters are not allowed."]


def test_null_characters_in_health_settings_are_a_400(api_for, admin, ws):
    api = api_for(admin)
    settings_id = api.get("/api/v1/health/settings/").json()[0]["id"]
    response = api.patch(f"/api/v1/health/settings/{settings_id}/", {"key_features": ["a\x00"]}, format="json")
    assert response.status_code == 400
    assert response.json()["key_features"] == ["Null characters are not allowed."]


@pytest.mark.parametrize("url", ["/api/v1/tasks/bulk-reassign/", "/api/v1/accounts/bulk-upsert/"])
def test_a_form_body_past_django_s_field_limit_is_a_json_400(api_for, manager, url):
    """Django refuses a form body of more than 1000 fields while the view reads it: the API answers with
    its own JSON 400, not Django's HTML page."""
    body = "&".join(f"tasks={n}" for n in range(1500))
    response = api_for(manager).post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "too large" in response.json()["detail"]
