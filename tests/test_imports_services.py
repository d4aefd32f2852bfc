"""Imports at the service level: dry run, commit, upsert keys, Japanese sheets, encodings, tenancy."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError
from django.db.models.query import QuerySet

from accounts.models import Account, Contact, Contract, StageChange, Touchpoint
from imports.services import check_can_import
from onboarding.models import OnboardingSettings
from workspaces.errors import NotAllowed
from workspaces.models import AuditEvent

from .factories import AccountFactory, ContactFactory, ContractFactory, TouchpointFactory
from .imports_helpers import csv_bytes, export_bytes, run_import

pytestmark = pytest.mark.django_db

ACCOUNT_HEADER = ["external_id", "name", "owner", "arr", "licensed_seats", "contract_start", "renewal_date",
                  "stage", "status"]


def account_row(i, owner_email):
    return [f"crm-{i:05d}", f"Customer {i} KK", owner_email, str(10000 + i), str(i % 40 + 1), "2024-04-01",
            "2025/03/31", "Adoption", "active"]


def test_ten_thousand_rows_with_three_bad_ones_write_nothing_then_import_then_round_trip(ws, manager, csm):
    csm.user.email = "kenji@example.com"
    csm.user.save()
    rows = [account_row(i, "kenji@example.com") for i in range(10_000)]
    rows[99][3] = "12,000円の予定"  # sheet row 101
    rows[4999][5] = "2024/02/30"  # sheet row 5001
    rows[9998][2] = "nobody@example.com"  # sheet row 10000
    data = csv_bytes([ACCOUNT_HEADER, *rows])

    result = run_import(data, workspace=ws, actor=manager)

    assert not result.committed
    assert result.error_rows == 3
    assert [(e["row"], e["column"]) for e in result.errors] == [
        (101, "arr"), (5001, "contract_start"), (10000, "owner")
    ]
    assert "not a number" in result.errors[0]["message"]
    assert "not a date" in result.errors[1]["message"]
    assert "not an active member" in result.errors[2]["message"]
    assert Account.objects.for_workspace(ws).count() == 0

    rows[99][3] = "12,000"
    rows[4999][5] = "2024/02/28"
    rows[9998][2] = "kenji@example.com"
    result = run_import(csv_bytes([ACCOUNT_HEADER, *rows]), workspace=ws, actor=manager)

    assert result.committed and result.created == 10_000 and result.errors == []
    assert Account.objects.for_workspace(ws).count() == 10_000
    row_101 = Account.all_workspaces.get(workspace=ws, external_id="crm-00099")
    assert row_101.arr == Decimal("12000") and row_101.owner == csm and row_101.stage.name == "Adoption"
    assert StageChange.all_workspaces.filter(workspace=ws).count() == 10_000

    exported = export_bytes(workspace=ws, object_type="accounts")
    again = run_import(exported, workspace=ws, actor=manager)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_000)
    assert again.committed
    # One summary audit event per import, not one per row.
    assert AuditEvent.all_workspaces.filter(workspace=ws, action="import.accounts").count() == 2


def test_japanese_headers_and_values_from_a_shift_jis_file(ws, manager, csm):
    csm.user.email = "kenji@example.com"
    csm.user.save()
    data = csv_bytes([
        ["顧客ID", "会社名", "担当CSM", "年間契約金額", "ID数", "契約開始日", "契約更新日", "ステージ", "ステータス",
         "解約日", "解約理由", "タグ"],
        ["Ｃ－００１", "株式会社さくら物流", "Kenji Test", "￥１，２００，０００", "２１", "2024年4月1日", "2025/4/1",
         "adoption", "契約中", "", "", "製造、重要"],
        ["C-002", "梅田商事", "kenji@example.com", "360,000円", "5", "2023/10/01", "", "オンボーディング", "解約",
         "2024年9月30日", "競合", ""],
    ], encoding="cp932")

    result = run_import(data, workspace=ws, actor=manager, commit=False)
    assert result.errors == [{"row": 3, "column": "ステージ", "field": "stage",
                              "message": result.errors[0]["message"]}]
    assert "Onboarding" in result.errors[0]["message"]  # the known stages are listed

    fixed = data.replace("オンボーディング".encode("cp932"), b"Onboarding")
    result = run_import(fixed, workspace=ws, actor=manager)
    assert result.committed and result.created == 2

    sakura = Account.all_workspaces.get(workspace=ws, external_id="C-001")  # NFKC: full-width ID normalised
    assert sakura.name == "株式会社さくら物流"
    assert sakura.owner == csm
    assert sakura.arr == Decimal("1200000")
    assert sakura.licensed_seats == 21
    assert sakura.contract_start == dt.date(2024, 4, 1)
    assert sakura.renewal_date == dt.date(2025, 4, 1)
    assert sakura.stage.name == "Adoption"
    assert sorted(sakura.tags.values_list("name", flat=True)) == ["製造", "重要"]
    umeda = Account.all_workspaces.get(workspace=ws, external_id="C-002")
    assert (umeda.status, umeda.churned_on, umeda.churn_reason) == ("churned", dt.date(2024, 9, 30), "competitor")
    assert umeda.renewal_date is None


def test_utf8_with_and_without_bom_read_the_same(ws, manager):
    rows = [["会社名", "顧客ID"], ["東京テック", "T-1"]]
    plain = csv_bytes(rows)
    with_bom = b"\xef\xbb\xbf" + plain
    assert run_import(plain, workspace=ws, actor=manager, commit=False).created == 1
    result = run_import(with_bom, workspace=ws, actor=manager)
    assert result.created == 1
    assert Account.all_workspaces.get(workspace=ws, external_id="T-1").name == "東京テック"


def test_xlsx_round_trip_of_all_four_object_types(ws, manager, csm):
    account = AccountFactory(workspace=ws, owner=csm, name="Sakura KK", external_id="crm-1", attributes={"nps": 42})
    no_id = AccountFactory(workspace=ws, name="Name Only KK", external_id="")
    ContactFactory(account=account, external_id="", email="taro@sakura.example", title="部長", is_key_person=True)
    ContactFactory(account=no_id, external_id="p-9", email="", left_on=dt.date(2024, 6, 1))
    TouchpointFactory(account=account, author=csm, channel="video_meeting", summary="=SUM(A1) looked formula-like\n")
    TouchpointFactory(account=no_id, author=None, channel="webinar", summary="")
    ContractFactory(account=account, external_id="", product="Core", mrr=Decimal("100000.50"), quantity=None,
                    end_date=None)
    ContractFactory(account=no_id, external_id="k-1", product="Add-on", mrr=Decimal("5000"),
                    start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    counts = {model: model.all_workspaces.count() for model in (Account, Contact, Touchpoint, Contract)}

    for file_format in ("xlsx", "csv"):
        for object_type in ("accounts", "contacts", "touchpoints", "contracts"):
            data = export_bytes(workspace=ws, object_type=object_type, file_format=file_format)
            result = run_import(data, workspace=ws, actor=manager, object_type=object_type,
                                filename=f"export.{file_format}")
            assert result.errors == [], (file_format, object_type, result.errors)
            assert (result.created, result.updated) == (0, 0), (file_format, object_type)
    assert {model: model.all_workspaces.count() for model in counts} == counts


def test_round_trip_into_an_empty_workspace_recreates_everything(ws, other_ws, manager, outsider, csm):
    account = AccountFactory(workspace=ws, owner=None, name="Sakura KK", external_id="crm-1")
    ContactFactory(account=account, external_id="c-1")
    ContractFactory(account=account, external_id="k-1", mrr=Decimal("1000"))
    TouchpointFactory(account=account, author=None, external_id="t-1", channel="phone", summary="Hello")
    for object_type in ("accounts", "contacts", "contracts", "touchpoints"):
        data = export_bytes(workspace=ws, object_type=object_type, file_format="xlsx")
        result = run_import(data, workspace=other_ws, actor=outsider, object_type=object_type, filename="x.xlsx")
        assert result.created == 1, (object_type, result.errors)
    copy = Contract.all_workspaces.get(workspace=other_ws)
    assert (copy.external_id, copy.mrr, copy.account.workspace) == ("k-1", Decimal("1000"), other_ws)


def test_valid_rows_only_skips_and_reports_the_bad_rows(ws, manager):
    data = csv_bytes([["name", "arr", "status", "churn_reason"], ["Good One", "100", "active", ""],
                      ["Bad", "-5", "active", ""], ["Good Two", "200", "Churned", "budget"]])
    all_or_nothing = run_import(data, workspace=ws, actor=manager)
    assert not all_or_nothing.committed and Account.all_workspaces.count() == 0

    result = run_import(data, workspace=ws, actor=manager, valid_only=True)
    assert result.committed and (result.created, result.skipped) == (2, 1)
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "arr")]
    assert sorted(Account.all_workspaces.values_list("name", flat=True)) == ["Good One", "Good Two"]
    assert Account.all_workspaces.get(name="Good Two").churned_on is not None  # same churn rule as the services


def test_reimporting_updates_only_what_changed_by_external_id_or_name(ws, manager):
    data = csv_bytes([["name", "external_id", "arr"], ["Alpha", "a-1", "100"], ["Beta", "", "200"]])
    assert run_import(data, workspace=ws, actor=manager).created == 2
    assert run_import(data, workspace=ws, actor=manager).unchanged == 2
    changed = csv_bytes([["name", "external_id", "arr"], ["Alpha renamed", "a-1", "100"], ["Beta", "", "250"]])
    result = run_import(changed, workspace=ws, actor=manager)
    assert (result.created, result.updated) == (0, 2)
    assert Account.all_workspaces.get(external_id="a-1").name == "Alpha renamed"
    assert Account.all_workspaces.get(name="Beta").arr == Decimal("250")


def test_duplicate_rows_and_missing_required_values_are_named(ws, manager):
    data = csv_bytes([["external_id", "name"], ["x-1", "One"], ["x-1", "One again"], ["x-2", ""]])
    result = run_import(data, workspace=ws, actor=manager)
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "external_id"), (4, "name")]
    assert "row 2" in result.errors[0]["message"]
    assert "required" in result.errors[1]["message"]


def test_unmapped_required_column_is_a_mapping_error(ws, manager):
    result = run_import(csv_bytes([["foo", "arr"], ["x", "1"]]), workspace=ws, actor=manager)
    assert not result.committed and result.mapping_errors
    assert "Name" in result.mapping_errors[0]


def test_contacts_upsert_by_external_id_or_account_and_email(ws, manager, account):
    data = csv_bytes([
        ["会社名", "氏名", "メール", "役職", "役割", "キーパーソン"],
        [account.name, "山田 太郎", "Taro@Sakura.example", "部長", "決裁者", "はい"],
        [account.name, "佐藤 花子", "", "担当", "利用者", "いいえ"],
    ])
    assert run_import(data, workspace=ws, actor=manager, object_type="contacts").created == 2
    taro = Contact.all_workspaces.get(email="Taro@Sakura.example")
    assert (taro.role, taro.is_key_person, taro.title) == ("decision_maker", True, "部長")
    again = run_import(data, workspace=ws, actor=manager, object_type="contacts")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    with_ids = csv_bytes([["account_external_id", "external_id", "name", "email"],
                          [account.external_id, "hub-7", "山田 太郎", "taro@sakura.example"]])
    result = run_import(with_ids, workspace=ws, actor=manager, object_type="contacts")
    assert (result.created, result.updated) == (0, 1)  # adopted the existing contact, now with its CRM ID
    assert Contact.all_workspaces.get(pk=taro.pk).external_id == "hub-7"


def test_touchpoints_with_japanese_channels_and_times(ws, csm, account):
    data = csv_bytes([
        ["顧客名", "日時", "チャネル", "内容", "温度感"],
        [account.name, "2024/05/01 14:30", "訪問", "キックオフ", "良好"],
        [account.name, "2024-05-08", "ウェビナー", "", ""],
    ])
    result = run_import(data, workspace=ws, actor=csm, object_type="touchpoints")
    assert result.created == 2, result.errors
    visit = Touchpoint.all_workspaces.get(channel="onsite_meeting")
    assert visit.occurred_at == dt.datetime(2024, 5, 1, 14, 30, tzinfo=ws.tz)
    assert (visit.sentiment, visit.author, visit.summary) == ("positive", csm, "キックオフ")
    assert run_import(data, workspace=ws, actor=csm, object_type="touchpoints").unchanged == 2


def test_contracts_accept_arr_and_upsert_by_account_product_start(ws, manager, account):
    data = csv_bytes([["顧客ID", "商品", "年間契約金額", "ライセンス数", "開始日", "終了日"],
                      [account.external_id, "Core", "1,200,000", "20", "2024/4/1", "2025/3/31"],
                      [account.external_id, "Add-on", "100", "1", "2024/4/1", "2024/3/1"]])
    result = run_import(data, workspace=ws, actor=manager, object_type="contracts")
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "終了日")]
    fixed = data.replace(b"2024/3/1", b"2025/3/1")
    assert run_import(fixed, workspace=ws, actor=manager, object_type="contracts").created == 2
    core = Contract.all_workspaces.get(product="Core")
    assert (core.mrr, core.quantity, core.end_date) == (Decimal("100000.00"), 20, dt.date(2025, 3, 31))
    assert run_import(fixed, workspace=ws, actor=manager, object_type="contracts").unchanged == 2


def test_a_failure_in_the_middle_of_the_commit_leaves_data_as_before(ws, manager, monkeypatch):
    OnboardingSettings.objects.for_workspace(ws).update(handoff_gates_stage=False)  # not the handoff gate's test
    existing = AccountFactory(workspace=ws, name="Existing", external_id="e-1", arr=Decimal("100"))
    data = csv_bytes([["external_id", "name", "arr", "stage"], ["e-1", "Existing", "999", "Expansion"],
                      ["n-1", "New One", "5", "Adoption"]])
    original = QuerySet.bulk_create

    def failing_bulk_create(self, objs, *args, **kwargs):
        # Accounts are inserted and updated before stage changes: fail after those writes.
        if self.model is StageChange:
            raise DatabaseError("disk full")
        return original(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", failing_bulk_create)
    with pytest.raises(DatabaseError):
        run_import(data, workspace=ws, actor=manager)
    monkeypatch.undo()

    existing.refresh_from_db()
    assert existing.arr == Decimal("100") and existing.stage.name != "Expansion"
    assert list(Account.objects.for_workspace(ws)) == [existing]
    assert not AuditEvent.all_workspaces.filter(workspace=ws, action="import.accounts").exists()


def test_workspace_b_never_touches_workspace_a(ws, other_ws, manager, outsider, account, csm):
    csm.user.email = "kenji@example.com"
    csm.user.save()
    data = csv_bytes([["external_id", "name", "arr"], [account.external_id, "Taken over?", "1"]])
    result = run_import(data, workspace=other_ws, actor=outsider)
    assert result.created == 1
    account.refresh_from_db()
    assert account.name == "Sakura Logistics KK" and account.workspace == ws
    assert Account.all_workspaces.get(workspace=other_ws).name == "Taken over?"

    # A's member is not an owner B can name; A's account is not one B's contacts can point to.
    owner = csv_bytes([["external_id", "name", "owner"], ["b-1", "B corp", "kenji@example.com"]])
    assert "not an active member" in run_import(owner, workspace=other_ws, actor=outsider).errors[0]["message"]
    contact = csv_bytes([["account", "name"], ["Sakura Logistics KK", "Spy"]])
    result = run_import(contact, workspace=other_ws, actor=outsider, object_type="contacts")
    assert "No account named" in result.errors[0]["message"]
    assert not Contact.all_workspaces.exists()

    exported = export_bytes(workspace=other_ws, object_type="accounts").decode("utf-8-sig")
    assert "Sakura Logistics" not in exported and "Taken over?" in exported


def test_role_rules_for_imports(admin, manager, csm, viewer):
    for object_type in ("accounts", "contacts", "touchpoints", "contracts"):
        check_can_import(admin, object_type)
        check_can_import(manager, object_type)
        with pytest.raises(NotAllowed):
            check_can_import(viewer, object_type)
    check_can_import(csm, "touchpoints")
    for object_type in ("accounts", "contacts", "contracts"):
        with pytest.raises(NotAllowed):
            check_can_import(csm, object_type)


def test_viewer_cannot_be_named_as_touchpoint_author(ws, manager, viewer, account):
    data = csv_bytes([["account", "occurred_at", "channel", "author"], [account.name, "2024-05-01", "phone",
                                                                         "viewer"]])
    result = run_import(data, workspace=ws, actor=manager, object_type="touchpoints")
    assert "viewer" in result.errors[0]["message"] and not Touchpoint.all_workspaces.exists()


def test_account_export_honours_the_account_list_filters(ws, manager, csm):
    AccountFactory(workspace=ws, name="Active One", owner=csm)
    AccountFactory(workspace=ws, name="Gone One", status="churned", churned_on=dt.date(2024, 1, 1))
    text = export_bytes(workspace=ws, object_type="accounts", filters={"status": "churned"}).decode("utf-8-sig")
    assert "Gone One" in text and "Active One" not in text
    text = export_bytes(workspace=ws, object_type="accounts", filters={"owner": str(csm.pk)}).decode("utf-8-sig")
    assert "Active One" in text and "Gone One" not in text
