"""The columns each object type accepts on import and writes on export, with their header aliases.

Canonical names (the first column of each tuple) are what exports write, so an exported file
imports back without any mapping. Aliases are the headers teams actually use in their sheets,
English and Japanese; they are compared after `normalise_header()`, so case, spaces, underscores
and full-width characters do not matter.
"""

import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

ACCOUNTS, CONTACTS, TOUCHPOINTS, CONTRACTS = "accounts", "contacts", "touchpoints", "contracts"
OBJECT_TYPES = {
    ACCOUNTS: _("Accounts"),
    CONTACTS: _("Contacts"),
    TOUCHPOINTS: _("Touchpoints"),
    CONTRACTS: _("Contracts"),
}


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # how the cell is parsed: see imports.values.PARSERS and the importers
    aliases: tuple = field(default=())
    choices: type | None = None
    export: bool = True  # False for import-only alternatives such as ARR on contracts


def normalise_header(text):
    """'  Contract_Start ' → 'contractstart'; 'ＡＲＲ（円）' → 'arr(円)'; '会社名' stays '会社名'."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    for char in " _-.\u3000・/":
        text = text.replace(char, "")
    return text.rstrip("*")


def _account_choices():
    from accounts.models import AccountStatus, Channel, ContactRole, Sentiment

    return AccountStatus, Channel, ContactRole, Sentiment


ACCOUNT_REF = Column(
    "account_external_id", _("Account external ID"), "account_ref",
    ("account id", "account external id", "company id", "顧客id", "取引先id", "会社id", "顧客コード", "取引先コード"),
)
ACCOUNT_NAME_REF = Column(
    "account", _("Account name"), "account_name_ref",
    ("account name", "company", "company name", "customer", "会社名", "企業名", "顧客名", "取引先名", "取引先"),
)


def columns_for(object_type):
    """The ordered columns of one object type (built lazily: choices live in accounts.models)."""
    AccountStatus, Channel, ContactRole, Sentiment = _account_choices()
    if object_type == ACCOUNTS:
        return [
            Column("external_id", _("External ID"), "id",
                   ("id", "crm id", "account id", "顧客id", "取引先id", "会社id", "外部id", "顧客コード", "取引先コード")),
            Column("name", _("Name"), "text",
                   ("account", "account name", "company", "company name", "customer", "会社名", "企業名", "顧客名",
                    "取引先名", "取引先")),
            Column("domain", _("Domain"), "id", ("website", "url", "ドメイン", "ウェブサイト", "url")),
            Column("owner", _("Owner (email or name)"), "member",
                   ("csm", "account owner", "owner email", "担当者", "担当csm", "担当", "csm担当", "担当者メール")),
            Column("arr", _("ARR"), "decimal",
                   ("annual recurring revenue", "acv", "年間契約金額", "年間契約額", "年額", "契約金額(年額)")),
            Column("plan", _("Plan"), "text", ("プラン", "契約プラン")),
            Column("licensed_seats", _("Licensed seats"), "int",
                   ("seats", "licenses", "licences", "ライセンス数", "id数", "契約id数", "席数", "アカウント数")),
            Column("contract_start", _("Contract start"), "date",
                   ("start date", "customer since", "契約開始日", "利用開始日", "開始日")),
            Column("renewal_date", _("Renewal date"), "date",
                   ("renewal", "renews on", "更新日", "契約更新日", "次回更新日")),
            Column("stage", _("Lifecycle stage"), "stage", ("lifecycle stage", "phase", "ステージ", "フェーズ")),
            Column("status", _("Status"), "choice", ("ステータス", "状態", "契約状態"), AccountStatus),
            Column("churned_on", _("Churn date"), "date", ("churn date", "churned at", "解約日")),
            # The workspace's own reasons: a code, or a name in English or Japanese (imports.values).
            Column("churn_reason", _("Churn reason"), "churn_reason", ("reason", "churn reason code", "解約理由",
                                                                       "解約理由コード")),
            Column("churn_note", _("Churn note"), "text", ("解約メモ", "解約詳細")),
            Column("tags", _("Tags (comma-separated)"), "tags", ("tag", "labels", "タグ", "ラベル")),
            Column("attributes", _("Custom attributes (JSON)"), "json", ("カスタム属性",)),
        ]
    if object_type == CONTACTS:
        return [
            Column("external_id", _("External ID"), "id", ("id", "contact id", "外部id", "担当者id", "コンタクトid")),
            ACCOUNT_REF,
            ACCOUNT_NAME_REF,
            Column("name", _("Name"), "text",
                   ("contact", "contact name", "full name", "氏名", "名前", "担当者名", "お名前")),
            Column("email", _("Email"), "id",
                   ("e-mail", "email address", "mail", "メール", "メールアドレス", "eメール")),
            Column("title", _("Title"), "text", ("job title", "position", "役職", "肩書", "部署・役職")),
            Column("role", _("Role"), "choice", ("contact role", "役割", "ロール"), ContactRole),
            Column("is_key_person", _("Key person"), "bool", ("key person", "キーパーソン", "キーマン")),
            Column("left_on", _("Left on"), "date", ("left", "退職日", "異動日")),
        ]
    if object_type == TOUCHPOINTS:
        return [
            Column("external_id", _("External ID"), "id", ("id", "activity id", "外部id", "活動id")),
            ACCOUNT_REF,
            ACCOUNT_NAME_REF,
            Column("occurred_at", _("When"), "datetime",
                   ("date", "datetime", "occurred", "when", "日時", "日付", "実施日", "実施日時", "接触日")),
            Column("channel", _("Channel"), "choice", ("type", "チャネル", "チャネル種別", "接点", "種別"), Channel),
            Column("summary", _("Summary"), "text",
                   ("notes", "note", "memo", "description", "内容", "メモ", "概要", "議事録")),
            Column("sentiment", _("Sentiment"), "choice", ("温度感", "反応", "所感"), Sentiment),
            Column("author", _("Author (email or name)"), "member",
                   ("csm", "owner", "logged by", "担当者", "担当csm", "実施者", "記録者")),
        ]
    if object_type == CONTRACTS:
        return [
            Column("external_id", _("External ID"), "id", ("id", "contract id", "外部id", "契約id", "契約番号")),
            ACCOUNT_REF,
            ACCOUNT_NAME_REF,
            Column("product", _("Product"), "text", ("product name", "item", "商品", "プロダクト", "製品", "商品名")),
            Column("mrr", _("MRR"), "decimal",
                   ("monthly recurring revenue", "monthly", "月額", "月額料金", "月額金額")),
            Column("arr", _("ARR (converted to MRR)"), "decimal",
                   ("annual recurring revenue", "acv", "年額", "年間契約金額", "年間契約額"), export=False),
            Column("quantity", _("Quantity"), "int",
                   ("seats", "licenses", "licences", "数量", "ライセンス数", "id数", "席数")),
            Column("unit", _("Unit"), "text", ("単位",)),
            Column("start_date", _("Start date"), "date", ("start", "開始日", "契約開始日")),
            Column("end_date", _("End date (exclusive)"), "date", ("end", "終了日", "契約終了日")),
            Column("renewal_date", _("Renewal date"), "date", ("renewal", "更新日", "契約更新日")),
        ]
    raise KeyError(object_type)


def export_columns(object_type):
    return [column for column in columns_for(object_type) if column.export]


def suggest_mapping(object_type, headers, saved=None):
    """{column index: canonical name} from the saved mapping first, then the aliases.

    `saved` maps normalised headers to canonical names. A canonical name is used at most once:
    the first header that claims it wins, the others are left unmapped for the user to decide.
    """
    columns = columns_for(object_type)
    by_alias = {}
    for column in columns:
        for alias in (column.name, str(column.label), *column.aliases):
            by_alias.setdefault(normalise_header(alias), column.name)
    valid = {column.name for column in columns}
    saved = {key: value for key, value in (saved or {}).items() if value in valid or value == ""}
    mapping, taken = {}, set()
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        name = saved[key] if key in saved else by_alias.get(key)
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping
