"""The audit log page, its CSV/XLSX download and `GET /api/v1/audit-events/`: one FilterSet, the same
rows everywhere, managers and admins only, and nothing of another workspace.

The log is built by hand with known times, actors and objects, so every filter's expected rows are
written down here rather than computed by the code under test.
"""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from accounts.services import update_account
from workspaces.audit import audit_event
from workspaces.models import AuditEvent
from workspaces.policy import SystemActor
from workspaces.services import issue_token

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))


def add(workspace, actor, action, *, at, object_type="account", object_id="", object_repr="", changes=None,
        token=None):
    actor.api_token = token  # how the API marks a member acting through a token
    event = audit_event(workspace=workspace, actor=actor, action=action, object_type=object_type, changes=changes)
    if token is not None:
        actor.api_token = None
    event.object_id, event.object_repr, event.at = object_id, object_repr, at
    event.save()
    return event


@pytest.fixture
def log(ws, other_ws, admin, manager, csm, outsider):
    """Six events of A (times in Tokyo, A's zone) and one of B with a tempting name."""
    token, _ = issue_token(membership=csm, name="CRM sync")  # (audited itself: hand_made() leaves it out)
    nightly = SystemActor("nightly")
    events = {
        "e1": add(ws, csm, "account.updated", at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=TOKYO), object_id="11",
                  object_repr="Sakura Logistics KK", changes={"plan": ["Growth", "Enterprise"]}),
        "e2": add(ws, csm, "account.updated", at=dt.datetime(2026, 3, 1, 23, 59, tzinfo=TOKYO), object_id="12",
                  object_repr="Fuji Foods", changes={"arr": ["100", "200"]}, token=token),
        "e3": add(ws, nightly, "nightly.run", at=dt.datetime(2026, 3, 2, 0, 0, tzinfo=TOKYO),
                  object_type="workspace", object_id=str(ws.pk), object_repr="Acme CS",
                  changes={"day": "2026-03-02", "steps": "usage, tiers, segments"}),
        "e4": add(ws, manager, "touchpoint.deleted", at=dt.datetime(2026, 3, 3, 12, 0, tzinfo=TOKYO),
                  object_type="touchpoint", object_id="7", object_repr="Call with Sakura"),
        "e5": add(ws, admin, "member.role_changed", at=dt.datetime(2026, 3, 5, 8, 0, tzinfo=TOKYO),
                  object_type="membership", object_id=str(csm.pk), object_repr="Kenji Test",
                  changes={"role": ["csm", "manager"]}),
        "e6": add(ws, csm, "contact.created", at=dt.datetime(2026, 3, 5, 9, 0, tzinfo=TOKYO),
                  object_type="contact", object_id="31", object_repr="=HYPERLINK(\"http://x.example\",\"Sakura\")"),
        "b1": add(other_ws, outsider, "account.updated", at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=TOKYO),
                  object_id="11", object_repr="Sakura Secret B", changes={"plan": ["a", "b"]}),
    }
    events["token"] = token
    return events


def ids(*events):
    return [e.pk for e in events]


def api_ids(api, query=""):
    response = api.get(f"/api/v1/audit-events/?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def hand_made(api_rows, log):
    """The ids of the hand-made events, in the answer's order (drops the token.issued rows)."""
    mine = {e.pk for k, e in log.items() if k != "token"}
    return [pk for pk in api_rows if pk in mine]


# --- filters against hand-computed expectations -----------------------------------------------------
CASES = [
    ("", ["e6", "e5", "e4", "e3", "e2", "e1"]),
    ("ordering=at", ["e1", "e2", "e3", "e4", "e5", "e6"]),
    ("actor_kind=system", ["e3"]),
    ("actor_kind=token", ["e2"]),
    ("actor_kind=member", ["e6", "e5", "e4", "e1"]),
    ("action=account.updated", ["e2", "e1"]),
    ("object_type=membership", ["e5"]),
    ("object_id=11", ["e1"]),
    ("q=sakura", ["e6", "e4", "e1"]),
    ("q=12", ["e2"]),
    ("date_from=2026-03-02", ["e6", "e5", "e4", "e3"]),  # 00:00 Tokyo on the 2nd is the 2nd
    ("date_to=2026-03-01", ["e2", "e1"]),  # 23:59 Tokyo on the 1st is still the 1st
    ("date_from=2026-03-02&date_to=2026-03-03", ["e4", "e3"]),
    ("actor_kind=member&action=account.updated&q=sakura", ["e1"]),
]


@pytest.mark.parametrize("query,expected", CASES)
def test_api_filters(api_for, manager, log, query, expected):
    assert hand_made(api_ids(api_for(manager), query), log) == ids(*(log[k] for k in expected))


def test_filter_by_member_includes_their_token_writes(api_for, manager, csm, log):
    rows = hand_made(api_ids(api_for(manager), f"actor={csm.pk}"), log)
    assert rows == ids(log["e6"], log["e2"], log["e1"])


@pytest.mark.parametrize("query,expected", CASES)
def test_page_filters(login, manager, log, query, expected):
    response = login(manager).get(f"/workspace/audit/?{query}")
    assert response.status_code == 200
    rows = [e.pk for e in response.context["paginator"].object_list]
    assert hand_made(rows, log) == ids(*(log[k] for k in expected))


@pytest.mark.parametrize("query,field", [
    ("actor_kind=robot", "actor_kind"), ("date_from=2026-13-01", "date_from"), ("date_to=9999-12-31", "date_to"),
    ("date_from=0001-01-01", "date_from"), ("ordering=action", "ordering"),
])
def test_bad_filters_are_400_naming_the_field(api_for, manager, log, query, field):
    response = api_for(manager).get(f"/api/v1/audit-events/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_bad_filters_on_the_page_show_the_error_and_no_rows(login, manager, log):
    response = login(manager).get("/workspace/audit/?date_to=9999-12-31")
    assert response.status_code == 200
    assert list(response.context["events"]) == []
    assert "between 1970 and 2999" in response.content.decode()


# --- what the page shows ----------------------------------------------------------------------------
def test_the_page_shows_who_what_and_the_changes_readably(login, manager, log):
    html = login(manager).get("/workspace/audit/").content.decode()
    assert "Kenji Test (API token “CRM sync”)" in html
    assert "system: nightly run" in html  # the platform's own actors and choices by their labels, not codes
    assert "<del>Growth</del> → <ins>Enterprise</ins>" in html
    assert "<del>CSM</del> → <ins>Manager</ins>" in html
    assert "=HYPERLINK(&quot;http://x.example&quot;,&quot;Sakura&quot;)" in html  # escaped, as text
    assert "Sakura Secret B" not in html


def test_the_page_is_paginated_newest_first(login, manager, ws):
    base = dt.datetime(2026, 1, 1, 9, 0, tzinfo=TOKYO)
    for minute in range(60):
        add(ws, manager, "account.updated", at=base + dt.timedelta(minutes=minute), object_id=str(minute))
    client = login(manager)
    first = client.get("/workspace/audit/?action=account.updated")
    assert [e.object_id for e in first.context["events"]][:2] == ["59", "58"]
    assert len(first.context["events"]) == 50
    second = client.get("/workspace/audit/?action=account.updated&page=2")
    assert [e.object_id for e in second.context["events"]] == [str(m) for m in range(9, -1, -1)]


def test_empty_states(login, admin, ws):
    client = login(admin)
    html = client.get("/workspace/audit/?actor_kind=system").content.decode()
    assert "No events match these filters." in html
    # A brand-new workspace's log: nothing recorded yet, no download offered.
    from .conftest import _member
    from .factories import WorkspaceFactory

    fresh = _member(WorkspaceFactory(name="Fresh", slug="fresh"), "fresh-admin", "admin", "Fumi")
    html = login(fresh).get("/workspace/audit/").content.decode()
    assert "Nothing has been recorded yet." in html
    assert "Download CSV" not in html


# --- roles and tenancy ------------------------------------------------------------------------------
@pytest.mark.parametrize("role,allowed", [("admin", True), ("manager", True), ("csm", False), ("viewer", False)])
def test_roles(request, login, api_for, log, role, allowed):
    member = request.getfixturevalue(role)
    page = login(member).get("/workspace/audit/")
    api = api_for(member).get("/api/v1/audit-events/")
    export = login(member).get("/workspace/audit/export.csv")
    nav = login(member).get("/").content.decode()
    if allowed:
        assert (page.status_code, api.status_code, export.status_code) == (200, 200, 200)
        assert 'href="/workspace/audit/"' in nav
    else:
        assert (page.status_code, api.status_code, export.status_code) == (403, 403, 403)
        assert "managers and admins" in api.json()["detail"]
        assert 'href="/workspace/audit/"' not in nav


def test_another_workspace_sees_and_counts_nothing(login, api_for, outsider, ws, log):
    rows = api_for(outsider).get("/api/v1/audit-events/").json()
    assert {r["object_repr"] for r in rows["results"]} >= {"Sakura Secret B"}
    assert all(r["object_repr"] != "Sakura Logistics KK" for r in rows["results"])
    assert rows["count"] == AuditEvent.objects.for_workspace(outsider.workspace).count()
    assert api_for(outsider).get(f"/api/v1/audit-events/{log['e1'].pk}/").status_code == 404
    page = login(outsider).get("/workspace/audit/?q=Sakura")
    assert [e.object_repr for e in page.context["events"]] == ["Sakura Secret B"]
    export = login(outsider).get("/workspace/audit/export.csv").content.decode("utf-8-sig")
    assert "Sakura Secret B" in export and "Sakura Logistics" not in export and "Fuji" not in export


def test_naming_another_workspaces_member_is_a_400_not_a_leak(api_for, outsider, csm, log):
    response = api_for(outsider).get(f"/api/v1/audit-events/?actor={csm.pk}")
    assert response.status_code == 400 and "actor" in response.json()


def test_the_api_has_no_write_operation(api_for, admin, log):
    api = api_for(admin)
    assert api.post("/api/v1/audit-events/", {"action": "x"}).status_code == 405
    url = f"/api/v1/audit-events/{log['e1'].pk}/"
    assert api.patch(url, {"action": "x"}).status_code == 405
    assert api.delete(url).status_code == 405
    assert AuditEvent.all_workspaces.get(pk=log["e1"].pk).action == "account.updated"


def test_the_api_names_the_token_and_the_system(api_for, admin, log):
    rows = {r["id"]: r for r in api_for(admin).get("/api/v1/audit-events/?page_size=100").json()["results"]}
    through_token = rows[log["e2"].pk]
    assert through_token["actor_kind"] == "token"
    assert through_token["token"] == {"id": log["token"].pk, "name": "CRM sync"}
    assert through_token["actor"]["name"] == "Kenji Test"
    nightly = rows[log["e3"].pk]
    assert (nightly["actor_kind"], nightly["actor"], nightly["system_actor"]) == ("system", None, "nightly")
    assert rows[log["e1"].pk]["changes"] == {"plan": ["Growth", "Enterprise"]}


def test_writes_through_the_api_are_audited_as_the_token(api_for, manager, ws, account):
    api = api_for(manager)
    assert api.patch(f"/api/v1/accounts/{account.pk}/", {"plan": "Enterprise"}).status_code == 200
    row = api.get(f"/api/v1/audit-events/?object_type=account&object_id={account.pk}").json()["results"][0]
    assert (row["action"], row["actor_kind"], row["token"]["name"]) == ("account.updated", "token", "test")


# --- the download -----------------------------------------------------------------------------------
def read_csv(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_export_has_the_filtered_rows_guarded(login, manager, log):
    response = login(manager).get("/workspace/audit/export.csv?actor_kind=member&ordering=at&q=sakura")
    assert 'filename="audit-log-acme-cs-' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["When", "Who", "Actor", "Member ID", "API token", "Action", "Object type", "Object ID",
                       "Object", "Changes"]
    assert [r[7] for r in rows[1:]] == ["11", "7", "31"]  # e1, e4, e6: oldest first, as asked
    assert rows[1] == ["2026-03-01T09:00:00+09:00", "A member", "Kenji Test", str(log["e1"].actor_id), "",
                       "account.updated", "account", "11", "Sakura Logistics KK", "plan: Growth → Enterprise"]
    assert rows[3][8] == "'=HYPERLINK(\"http://x.example\",\"Sakura\")"  # never a formula


def test_csv_export_names_tokens_and_the_system(login, admin, log):
    rows = read_csv(login(admin).get("/workspace/audit/export.csv?date_from=2026-03-01&date_to=2026-03-02"))
    by_id = {r[7]: r for r in rows[1:]}
    assert by_id["12"][1:5] == ["A member's API token", "Kenji Test (API token “CRM sync”)",
                                str(log["e2"].actor_id), "CRM sync"]
    assert by_id[str(log["e3"].object_id)][1:5] == ["The platform (rules, nightly)", "system: nightly", "", ""]
    assert by_id[str(log["e3"].object_id)][9] == "day: 2026-03-02; steps: usage, tiers, segments"


def test_xlsx_export_has_the_same_rows_as_text(login, manager, log):
    response = login(manager).get("/workspace/audit/export.xlsx?q=sakura")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[7] for r in rows[1:]] == ["31", "7", "11"]
    formula_cell = sheet.cell(row=2, column=9)
    assert formula_cell.value == "=HYPERLINK(\"http://x.example\",\"Sakura\")"
    assert formula_cell.data_type == "s"  # text, not a formula


def test_export_rejects_bad_filters_and_formats(login, manager, outsider, csm, log):
    client = login(manager)
    assert client.get("/workspace/audit/export.pdf").status_code == 404
    response = client.get("/workspace/audit/export.csv?date_from=yesterday")
    assert response.status_code == 400 and "date_from" in response.json()["errors"]


def test_a_service_write_appears_on_the_page(login, manager, csm, account):
    update_account(account=account, actor=csm, plan="Enterprise")
    response = login(manager).get(f"/workspace/audit/?object_type=account&object_id={account.pk}")
    (event,) = response.context["events"]
    assert (event.action, event.actor, event.lines) == ("account.updated", csm, [("plan", "—", "Enterprise")])
