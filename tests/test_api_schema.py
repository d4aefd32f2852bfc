"""The OpenAPI document is valid, warning-free and complete; the docs page needs no other host."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from cs_platform.api_urls import router

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (an undescribed field, an unknown path parameter) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")


def test_schema_endpoint_describes_every_registered_route(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for prefix, _viewset, _basename in router.registry:
        assert any(path.startswith(f"/api/v1/{prefix}/") for path in paths), prefix
    for kind in ["accounts", "contacts", "touchpoints", "contracts"]:
        assert "put" in paths[f"/api/v1/{kind}/by-external-id/{{external_id}}/"]
        bulk = paths[f"/api/v1/{kind}/bulk-upsert/"]["post"]
        assert bulk["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
        assert {"200", "400"} <= set(bulk["responses"])
    put = paths["/api/v1/accounts/by-external-id/{external_id}/"]["put"]
    assert {"200", "201"} <= set(put["responses"])
    # Related objects: an id in, the brief form out.
    components = schema["components"]["schemas"]
    assert components["AccountRequest"]["properties"]["owner"]["type"] == "integer"
    assert "BriefMembership" in str(components["Account"]["properties"]["owner"])
    assert components["Account"]["properties"]["health_score"]["readOnly"] is True
    # The shared filtersets and the ordering allow-list are documented on the list operation.
    params = {p["name"] for p in paths["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"owner", "stage", "status", "arr_min", "q", "ordering", "page", "page_size"} <= params


def test_docs_page_loads_with_local_assets_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.findall(r"https?://", html), "the docs page must not reference another host"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    static_assets = [a for a in assets if a.startswith("/static/")]
    assert any(a.endswith(".js") for a in static_assets) and any(a.endswith(".css") for a in static_assets)
    for asset in static_assets:
        assert finders.find(asset.removeprefix("/static/")), asset
        assert client.get(asset).status_code == 200, asset


def test_every_operation_documents_its_error_answers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if method != "get":
                assert {"400", "409"} <= set(responses), (method, path)
    bulk_400 = schema["paths"]["/api/v1/accounts/bulk-upsert/"]["post"]["responses"]["400"]
    assert "BulkUpsertError" in str(bulk_400) and "FieldErrors" in str(bulk_400)


def test_answers_are_documented_as_given(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]
    # `/me/` and the back-test answer one object, not a list.
    for path in ["/api/v1/me/", "/api/v1/health/backtest/"]:
        body = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in body, path
    # Computed fields are blank before the first computation.
    for name in ["touch_tier", "health_band"]:
        assert "BlankEnum" in str(components["Account"]["properties"][name]), name
    # A deleted member's rows keep a null author or owner; a write still names a member or leaves it out.
    assert components["Touchpoint"]["properties"]["author"]["nullable"] is True
    assert "nullable" not in components["TouchpointRequest"]["properties"]["author"]
    assert components["HealthAlert"]["properties"]["owner"]["nullable"] is True
