"""Writes to accounts, contacts, touchpoints and contracts. Pages, API, imports and commands call these.

Every one of them goes through the writers of accounts.writes — the one write path, for one row or
ten thousand — so that who may, what is valid, what follows and what is audited cannot differ with
the door a write came in by.
"""

from django.db import connection, transaction
from django.utils.translation import pgettext_lazy

from workspaces.audit import record_audit
from workspaces.policy import authorize

from .models import Account, LifecycleStage
from .signals import account_deleting
from .writes import (
    BY_EXTERNAL_ID,
    NEW,
    AccountWriter,
    ContactWriter,
    ContractWriter,
    Row,
    TouchpointWriter,
    save_one,
    save_rows,
)

DEFAULT_STAGES = [
    # name, target share of accounts (%)
    (pgettext_lazy("lifecycle stage", "Onboarding"), 15),
    (pgettext_lazy("lifecycle stage", "Adoption"), 25),
    (pgettext_lazy("lifecycle stage", "Established"), 35),
    (pgettext_lazy("lifecycle stage", "Expansion"), 15),
    (pgettext_lazy("lifecycle stage", "Renewal"), 10),
]


def ensure_defaults(*, workspace):
    """A new workspace's lifecycle stages (renamed freely afterwards); idempotent."""
    if LifecycleStage.objects.for_workspace(workspace).exists():
        return
    LifecycleStage.objects.bulk_create(
        # Stored in the language active here (provisioning: the deployment's), renamed freely afterwards.
        LifecycleStage(workspace=workspace, name=str(name), position=i, target_share=share)
        for i, (name, share) in enumerate(DEFAULT_STAGES)
    )


# --- one record at a time: the one-row case of the writers -----------------------------------------
def _create(writer_class, *, workspace, actor, **values):
    return save_one(writer_class(workspace=workspace, actor=actor, match=NEW), Row(0, values)).instance


def _update(writer_class, *, instance, actor, **values):
    return save_one(writer_class(workspace=instance.workspace, actor=actor, match=NEW),
                    Row(0, values, instance=instance)).instance


def _upsert(writer_class, *, workspace, actor, external_id, **values):
    """Create or update the record with this external_id; (record, created). The same payload twice
    writes once: an identical row changes nothing and is not audited."""
    plan = save_one(writer_class(workspace=workspace, actor=actor, match=BY_EXTERNAL_ID),
                    Row(0, {"external_id": external_id, **values}))
    return plan.instance, plan.created


def _bulk_upsert(writer_class, *, workspace, actor, rows, key):
    """Upsert many rows by external_id: all of them or, if any row fails, none (RowErrors)."""
    plans = save_rows(writer_class(workspace=workspace, actor=actor, match=BY_EXTERNAL_ID),
                      [Row(index, dict(values)) for index, values in enumerate(rows)])
    created = sum(plan.created for plan in plans)
    return {"created": created, "updated": len(plans) - created, key: [plan.instance for plan in plans],
            "rows": [(plan.instance, plan.created) for plan in plans]}


def _given(**values):
    """The values a caller actually gave (None means "not given" for these optional arguments)."""
    return {name: value for name, value in values.items() if value is not None}


# --- accounts --------------------------------------------------------------------------------------
@transaction.atomic
def create_account(*, workspace, actor, **fields):
    return _create(AccountWriter, workspace=workspace, actor=actor, **fields)


@transaction.atomic
def update_account(*, account, actor, **fields):
    return _update(AccountWriter, instance=account, actor=actor, **fields)


@transaction.atomic
def upsert_account(*, workspace, actor, external_id, **fields):
    return _upsert(AccountWriter, workspace=workspace, actor=actor, external_id=external_id, **fields)


@transaction.atomic
def bulk_upsert_accounts(*, workspace, actor, rows):
    """`rows` are dicts of already-parsed fields. Raises RowErrors listing every failing row."""
    return _bulk_upsert(AccountWriter, workspace=workspace, actor=actor, rows=rows, key="accounts")


@transaction.atomic
def delete_account(*, account, actor):
    authorize(actor, "accounts.delete", account)
    record_audit(workspace=account.workspace, actor=actor, action="account.deleted", obj=account)
    # Apps built on accounts drop what they derived from it (e.g. its share of the coverage totals).
    account_deleting.send(sender=Account, account=account)
    account.delete()


@transaction.atomic
def save_stage(*, workspace, actor, stage=None, **fields):
    authorize(actor, "accounts.manage_stages")
    created = stage is None
    stage = stage or LifecycleStage(workspace=workspace)
    for field, value in fields.items():
        setattr(stage, field, value)
    stage.full_clean()
    stage.save()
    record_audit(workspace=workspace, actor=actor, action="stage.created" if created else "stage.updated", obj=stage)
    return stage


# --- touchpoints -----------------------------------------------------------------------------------
@transaction.atomic
def log_touchpoint(*, account, actor, channel, author=None, occurred_at=None, summary="", sentiment="neutral",
                   contacts=(), external_id=""):
    """Record a call, meeting, email or programme touch on the account's timeline.

    The author is the member who logs it unless another is named, which only managers may do.
    """
    return _create(TouchpointWriter, workspace=account.workspace, actor=actor, account=account, channel=channel,
                   summary=summary, sentiment=sentiment, contacts=list(contacts), external_id=external_id,
                   **_given(author=author, occurred_at=occurred_at))


@transaction.atomic
def update_touchpoint(*, touchpoint, actor, contacts=None, **fields):
    return _update(TouchpointWriter, instance=touchpoint, actor=actor, **fields, **_given(contacts=contacts))


@transaction.atomic
def upsert_touchpoint(*, workspace, actor, external_id, account=None, author=None, contacts=None, **fields):
    """Create or update the touchpoint with this external_id (CRM activities synced in)."""
    return _upsert(TouchpointWriter, workspace=workspace, actor=actor, external_id=external_id, **fields,
                   **_given(account=account, author=author, contacts=contacts))


@transaction.atomic
def bulk_upsert_touchpoints(*, workspace, actor, rows):
    return _bulk_upsert(TouchpointWriter, workspace=workspace, actor=actor, rows=rows, key="touchpoints")


@transaction.atomic
def delete_touchpoint(*, touchpoint, actor):
    authorize(actor, "touchpoints.delete", touchpoint)
    record_audit(workspace=touchpoint.workspace, actor=actor, action="touchpoint.deleted", obj=touchpoint)
    touchpoint.delete()


# --- contacts and contracts ------------------------------------------------------------------------
@transaction.atomic
def save_contact(*, workspace, actor, contact=None, account, **fields):
    if contact is None:
        return _create(ContactWriter, workspace=workspace, actor=actor, account=account, **fields)
    return _update(ContactWriter, instance=contact, actor=actor, account=account, **fields)


@transaction.atomic
def upsert_contact(*, workspace, actor, external_id, account=None, **fields):
    """Create or update the contact with this external_id; `account` may be left out on update."""
    return _upsert(ContactWriter, workspace=workspace, actor=actor, external_id=external_id, **fields,
                   **_given(account=account))


@transaction.atomic
def bulk_upsert_contacts(*, workspace, actor, rows):
    return _bulk_upsert(ContactWriter, workspace=workspace, actor=actor, rows=rows, key="contacts")


@transaction.atomic
def delete_contact(*, contact, actor):
    authorize(actor, "accounts.change_child", contact)
    record_audit(workspace=contact.workspace, actor=actor, action="contact.deleted", obj=contact)
    contact.delete()


@transaction.atomic
def save_contract(*, workspace, actor, contract=None, account, **fields):
    if contract is None:
        return _create(ContractWriter, workspace=workspace, actor=actor, account=account, **fields)
    return _update(ContractWriter, instance=contract, actor=actor, account=account, **fields)


@transaction.atomic
def upsert_contract(*, workspace, actor, external_id, account=None, **fields):
    """Create or update the contract with this external_id; `account` may be left out on update."""
    return _upsert(ContractWriter, workspace=workspace, actor=actor, external_id=external_id, **fields,
                   **_given(account=account))


@transaction.atomic
def bulk_upsert_contracts(*, workspace, actor, rows):
    return _bulk_upsert(ContractWriter, workspace=workspace, actor=actor, rows=rows, key="contracts")


@transaction.atomic
def delete_contract(*, contract, actor):
    authorize(actor, "accounts.change_child", contract)
    record_audit(workspace=contract.workspace, actor=actor, action="contract.deleted", obj=contract)
    contract.delete()


# --- values the nightly jobs copy onto accounts ---------------------------------------------------
NIGHTLY_COLUMN_TYPES = {"health_score": "float8", "health_band": "text", "health_change_30d": "float8",
                        "active_users_30d": "integer"}


def copy_nightly_values(*, workspace, fields, rows, chunk=20_000):
    """Write nightly values onto the workspace's accounts: `rows` are (account id, *values in
    `fields` order). No audit: these are derived values, recomputed every night.

    On PostgreSQL one UPDATE … FROM unnest(arrays) per chunk: at 100k accounts Django's
    bulk_update spends minutes building a CASE WHEN per row and field before any SQL runs.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        Account.objects.for_workspace(workspace).bulk_update(
            [Account(pk=pk, **dict(zip(fields, values, strict=True))) for pk, *values in rows], fields, batch_size=1000
        )
        return
    table = Account._meta.db_table
    assignments = ", ".join(f"{name} = v.{name}" for name in fields)
    arrays = ", ".join(["%s::bigint[]", *(f"%s::{NIGHTLY_COLUMN_TYPES[name]}[]" for name in fields)])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            columns = [list(column) for column in zip(*rows[start:start + chunk], strict=True)]
            cursor.execute(
                f"UPDATE {table} AS a SET {assignments} FROM unnest({arrays}) AS v(id, {', '.join(fields)}) "
                "WHERE a.id = v.id AND a.workspace_id = %s",
                [*columns, workspace.pk],
            )
