"""Writes to accounts, contacts, touchpoints and contracts. Pages, API, imports and commands call these.

Every one of them goes through the writers of accounts.writes — the one write path, for one row or
ten thousand — so that who may, what is valid, what follows and what is audited cannot differ with
the door a write came in by.
"""

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext, pgettext

from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError
from workspaces.policy import authorize

from . import line_history
from .models import Account, ChurnReasonCategory, Contract, ContractVersion, LifecycleStage, Touchpoint
from .signals import account_deleting, touchpoints_changed
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


def default_stages():
    """(name, target share of accounts in %), the names in the active language: provisioning writes
    them in the workspace's language, and they are plain rows, renamed freely afterwards."""
    return [
        (pgettext("lifecycle stage", "Onboarding"), 15),
        (pgettext("lifecycle stage", "Adoption"), 25),
        (pgettext("lifecycle stage", "Established"), 35),
        (pgettext("lifecycle stage", "Expansion"), 15),
        (pgettext("lifecycle stage", "Renewal"), 10),
    ]


# (code, name, description, counts as onboarding failure). The names and descriptions in the active
# language, like the stages'; the codes never change: accounts, imports, the API and reports use them.
# accounts/migrations/0006_churn_reason_categories.py writes the same ten, spelled out, for older workspaces.
def default_churn_reasons():
    return [
        ("onboarding_failure", gettext("Onboarding failure"),
         gettext("Never went live, or never reached the first value."), True),
        ("low_usage", gettext("Low usage / no value seen"),
         gettext("Live, but too few users or too little use to see the value."), False),
        ("champion_left", gettext("Champion left"),
         gettext("The person who drove the product left or changed role."), False),
        ("budget", gettext("Budget cut"), gettext("The customer cut spending; the product was not the problem."),
         False),
        ("price", gettext("Price"), gettext("The price was too high for the value they saw."), False),
        ("competitor", gettext("Moved to a competitor"), gettext("Replaced by another vendor's product."), False),
        ("product_gap", gettext("Missing features"), gettext("Needed something the product does not do."), False),
        ("support", gettext("Support experience"), gettext("Unhappy with support or service."), False),
        ("business_closed", gettext("Business closed or acquired"),
         gettext("The customer's business closed, merged or was acquired."), False),
        ("other", gettext("Other"), gettext("Any other reason: say which in the churn note."), False),
    ]


def ensure_stages(*, workspace):
    """A new workspace's lifecycle stages (renamed freely afterwards); idempotent."""
    if LifecycleStage.objects.for_workspace(workspace).exists():
        return
    LifecycleStage.objects.bulk_create(
        LifecycleStage(workspace=workspace, name=name, position=i, target_share=share)
        for i, (name, share) in enumerate(default_stages())
    )


def ensure_churn_reasons(*, workspace):
    """A new workspace's ten churn reasons (renamed, archived and added to afterwards); idempotent."""
    if ChurnReasonCategory.objects.for_workspace(workspace).exists():
        return
    ChurnReasonCategory.objects.bulk_create(
        ChurnReasonCategory(workspace=workspace, code=code, name=name, description=description,
                            counts_as_onboarding_failure=onboarding, position=i)
        for i, (code, name, description, onboarding) in enumerate(default_churn_reasons())
    )


def ensure_defaults(*, workspace):
    """A new workspace's lifecycle stages and churn reasons, and a version of every contract line
    that has none (an archive made before versions); idempotent, each on its own."""
    ensure_stages(workspace=workspace)
    ensure_churn_reasons(workspace=workspace)
    ensure_line_versions(workspace=workspace)


def ensure_line_versions(*, workspace):
    """Lines without any version (brought by an archive made before versions existed) get one, known
    from today only, as the migration that introduced versions did: their past stays unknown."""
    versions = ContractVersion.objects.for_workspace(workspace).filter(line=OuterRef("pk"))
    lines = list(Contract.objects.for_workspace(workspace).filter(~Exists(versions)))
    if lines:
        line_history.record_current_lines(workspace=workspace, lines=lines, source="migration")


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
    # Row lock first: a load of usage events naming this account holds it (FOR KEY SHARE) until it
    # commits, and the events must be there to be deleted with it (their table has no foreign key).
    list(Account.all_workspaces.select_for_update().filter(pk=account.pk).values_list("pk", flat=True))
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


# --- churn reasons --------------------------------------------------------------------------------
CHURN_REASON_FIELDS = ("code", "name", "description", "counts_as_onboarding_failure", "position", "archived")


def _free_code(workspace, name):
    """A code for a new reason named `name`: its slug (or "reason"), with a number if taken."""
    base = slugify(name).replace("-", "_")[:24] or "reason"
    taken = set(ChurnReasonCategory.objects.for_workspace(workspace).filter(code__startswith=base)
                .values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


@transaction.atomic
def save_churn_reason(*, workspace, actor, reason=None, **fields):
    """Add a churn reason (no `reason`) or change one: rename, describe, reorder, archive, restore.

    The code is set once (given, or made from the name) and never changes: accounts store it.
    Names are unique in the workspace (imports find a reason by its name)."""
    authorize(actor, "accounts.manage_churn_reasons", reason)
    unknown = set(fields) - set(CHURN_REASON_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")
    created = reason is None
    if created:
        reason = ChurnReasonCategory(workspace=workspace)
        code = (fields.pop("code", "") or "").strip()
        if not code:
            code = _free_code(workspace, fields.get("name", ""))
        reason.code = code
    elif "code" in fields:
        if (fields.pop("code") or "").strip() != reason.code:
            raise DomainError(gettext("The code of a churn reason cannot change (accounts store it). Add a new "
                                      "reason and archive this one."), field="code")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        taken = ChurnReasonCategory.objects.for_workspace(workspace).filter(name__iexact=fields["name"])
        if reason.pk:
            taken = taken.exclude(pk=reason.pk)
        if fields["name"] and taken.exists():
            raise DomainError(gettext("A churn reason with this name already exists."), field="name")
    changes = {} if created else model_changes(reason, fields)
    for field, value in fields.items():
        setattr(reason, field, value)
    reason.full_clean()
    if not created and not changes:
        return reason
    reason.save()
    record_audit(workspace=workspace, actor=actor, obj=reason, changes=changes,
                 action="churn_reason.created" if created else "churn_reason.updated")
    return reason


@transaction.atomic
def delete_churn_reason(*, reason, actor):
    """Delete a reason no account names; one in use is refused (archive it: history keeps its name)."""
    authorize(actor, "accounts.manage_churn_reasons", reason)
    used = Account.objects.for_workspace(reason.workspace).filter(churn_reason=reason.code).count()
    if used:
        raise DomainError(ngettext(
            "%(count)s account churned with this reason: archive the reason instead, so that it keeps it.",
            "%(count)s accounts churned with this reason: archive the reason instead, so that they keep it.",
            used) % {"count": used})
    record_audit(workspace=reason.workspace, actor=actor, action="churn_reason.deleted", obj=reason)
    reason.delete()


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
    touchpoints_changed.send(sender=Touchpoint, workspace=touchpoint.workspace, account_ids=[touchpoint.account_id])


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
    contract.delete()  # its versions stay, closed today (Contract.delete): it still ran on the days it was known


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
