"""One write path: the API (single and bulk upserts), the pages and imports write accounts and what
hangs off them through the same writer, with the same rules, side effects and audit."""

import datetime as dt

import pytest

from accounts.models import Account, StageChange, Touchpoint
from tests.factories import AccountFactory, TouchpointFactory
from workspaces.models import AuditEvent

from .imports_helpers import csv_bytes, run_import

pytestmark = pytest.mark.django_db


def _effects(ws, external_id):
    account = Account.objects.for_workspace(ws).select_related("stage").get(external_id=external_id)
    return {
        "stage": account.stage.name,
        "stage_changes": StageChange.objects.for_workspace(ws).filter(account=account).count(),
        "tags": sorted(account.tags.values_list("name", flat=True)),
        "churned_on": account.churned_on,
        "churn_reason": account.churn_reason,
        "audit": list(AuditEvent.objects.for_workspace(ws).filter(object_type="account", object_id=str(account.pk))
                      .values_list("action", flat=True)),
    }


def test_api_single_api_bulk_and_import_write_the_same_rows_and_side_effects(ws, manager, api_for):
    api = api_for(manager)
    row = {"name": "Churned Co", "stage_name": "Adoption", "tags": ["vip", "kanto"], "status": "churned",
           "churn_reason": "price"}
    assert api.put("/api/v1/accounts/by-external-id/one/", row).status_code == 201
    assert api.post("/api/v1/accounts/bulk-upsert/", [{"external_id": "bulk", **row}]).status_code == 200
    data = csv_bytes([["external_id", "name", "stage", "tags", "status", "churn_reason"],
                      ["sheet", "Churned Co", "Adoption", "vip, kanto", "churned", "Price"]])
    assert run_import(data, workspace=ws, actor=manager).committed
    expected = {"stage": "Adoption", "stage_changes": 1, "tags": ["kanto", "vip"], "churned_on": ws.today(),
                "churn_reason": "price", "audit": ["account.created"]}
    assert [_effects(ws, key) for key in ("one", "bulk", "sheet")] == [expected] * 3


def test_every_changed_record_is_audited_once_and_an_unchanged_one_not_at_all(ws, manager, api_for):
    data = csv_bytes([["external_id", "name", "arr"], *[[f"a-{i}", f"Account {i}", "100"] for i in range(5)]])
    run_import(data, workspace=ws, actor=manager)
    events = AuditEvent.objects.for_workspace(ws)
    assert events.filter(action="account.created").count() == 5
    assert events.filter(action="import.accounts").count() == 1
    changed = csv_bytes([["external_id", "name", "arr"], *[[f"a-{i}", f"Account {i}", "100" if i else "900"]
                                                            for i in range(5)]])
    run_import(changed, workspace=ws, actor=manager)
    updates = events.filter(action="account.updated")
    assert [(e.object_repr, e.changes, e.actor) for e in updates] == [("Account 0", {"arr": ["100.00", "900"]},
                                                                       manager)]
    response = api_for(manager).post("/api/v1/accounts/bulk-upsert/", [
        {"external_id": "a-0", "name": "Account 0", "arr": "900"},  # as it is: nothing to write
        {"external_id": "a-1", "name": "Account 1", "plan": "Gold"},
    ])
    assert response.json()["updated"] == 2
    assert events.filter(action="account.updated").count() == 2  # one more: only a-1 changed


def test_an_import_applies_the_touchpoint_rules_of_the_api(ws, csm, csm2, manager, account):
    """A CSM cannot, by a sheet, log a touch as someone else or take over someone else's touch."""
    theirs = TouchpointFactory(account=account, author=csm2, external_id="t-9", channel="phone",
                               occurred_at=dt.datetime(2026, 5, 1, 10, tzinfo=ws.tz))
    as_someone_else = csv_bytes([["account", "occurred_at", "channel", "author"],
                                 [account.name, "2026-05-02 10:00", "phone", csm2.user.username]])
    result = run_import(as_someone_else, workspace=ws, actor=csm, object_type="touchpoints")
    assert not result.committed and result.errors[0]["field"] == "author"
    take_over = csv_bytes([["account", "external_id", "occurred_at", "channel", "author"],
                           [account.name, "t-9", "2026-05-01 10:00", "phone", csm.user.username]])
    result = run_import(take_over, workspace=ws, actor=csm, object_type="touchpoints")
    assert not result.committed and "manager" in result.errors[0]["message"]
    theirs.refresh_from_db()
    assert theirs.author == csm2
    result = run_import(as_someone_else, workspace=ws, actor=manager, object_type="touchpoints")
    assert result.committed and Touchpoint.objects.for_workspace(ws).filter(author=csm2).count() == 2


def test_a_csm_page_edit_and_an_api_update_follow_the_same_owner_rules(ws, csm, csm2, login, api_for):
    mine = AccountFactory(workspace=ws, owner=csm, name="Mine")
    theirs = AccountFactory(workspace=ws, owner=csm2, name="Theirs")
    assert api_for(csm).patch(f"/api/v1/accounts/{theirs.pk}/", {"plan": "Gold"}).status_code == 403
    assert login(csm).post(f"/accounts/{theirs.pk}/edit/", {"name": "Theirs", "arr": "0"}).status_code == 403
    data = csv_bytes([["name", "plan"], ["Theirs", "Gold"]])
    # (CSMs do not import accounts at all: loading a book of business is a manager's act.)
    from workspaces.errors import NotAllowed

    with pytest.raises(NotAllowed):
        run_import(data, workspace=ws, actor=csm)
    assert api_for(csm).patch(f"/api/v1/accounts/{mine.pk}/", {"plan": "Gold"}).status_code == 200


@pytest.mark.parametrize("writer_class, values", [
    ("ContactWriter", {"external_id": "n-1", "name": "Aiko"}),
    ("ContractWriter", {"external_id": "n-1", "product": "Pro", "start_date": dt.date(2026, 1, 1)}),
    ("TouchpointWriter", {"external_id": "n-1", "channel": "phone", "summary": "Call"}),
])
def test_a_new_child_row_without_its_account_names_the_field(ws, manager, writer_class, values):
    """Whatever caller forgets the account (the serializers check it first), the writer says so per row."""
    import accounts.writes as writes

    writer = getattr(writes, writer_class)(workspace=ws, actor=manager)
    with pytest.raises(writes.RowErrors) as caught:
        writes.save_rows(writer, [writes.Row(index=0, values=values)])
    assert list(caught.value.errors[0]["errors"]) == ["account"]
