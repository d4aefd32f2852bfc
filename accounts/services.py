"""Writes to accounts, contacts, touchpoints and contracts. Pages, API, imports and commands call these."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError, NotAllowed, RowErrors
from workspaces.models import Membership
from workspaces.policy import acting_member, authorize

from .models import (
    Account,
    AccountStatus,
    Contact,
    Contract,
    LifecycleStage,
    StageChange,
    Tag,
    Touchpoint,
)
from .signals import account_deleting

DEFAULT_STAGES = [
    # name, target share of accounts (%)
    ("Onboarding", 15),
    ("Adoption", 25),
    ("Established", 35),
    ("Expansion", 15),
    ("Renewal", 10),
]

ACCOUNT_FIELDS = [
    "name", "external_id", "domain", "owner", "arr", "plan", "licensed_seats", "contract_start",
    "renewal_date", "status", "churned_on", "churn_reason", "churn_note", "attributes",
]


def ensure_defaults(*, workspace):
    """A new workspace's lifecycle stages (renamed freely afterwards); idempotent."""
    if LifecycleStage.objects.for_workspace(workspace).exists():
        return
    LifecycleStage.objects.bulk_create(
        LifecycleStage(workspace=workspace, name=name, position=i, target_share=share)
        for i, (name, share) in enumerate(DEFAULT_STAGES)
    )


def _check_same_workspace(workspace, **related):
    """Guard every foreign object a caller hands us: it must belong to the same workspace."""
    for field, obj in related.items():
        if obj is not None and obj.workspace_id != workspace.pk:
            raise DomainError(_("Not found in this workspace."), field=field)


def _check_owner(workspace, owner):
    _check_same_workspace(workspace, owner=owner)
    if owner is not None and not owner.is_active:
        raise DomainError(_("The owner must be an active member of the workspace."), field="owner")


def _apply_churn_rules(account):
    if account.status == AccountStatus.CHURNED and account.churned_on is None:
        account.churned_on = timezone.localdate()
    if account.status == AccountStatus.ACTIVE:
        account.churned_on = None
        account.churn_reason = ""


@transaction.atomic
def create_account(*, workspace, actor, stage=None, tags=None, **fields):
    if fields.get("owner") is None and isinstance(actor, Membership) and not actor.is_manager:
        fields["owner"] = actor  # a CSM's new account is theirs
    _check_owner(workspace, fields.get("owner"))
    _check_same_workspace(workspace, stage=stage)
    account = Account(workspace=workspace, **fields)
    authorize(actor, "accounts.create", account)
    _apply_churn_rules(account)
    if stage is not None:
        account.stage = stage
        account.stage_entered_at = timezone.now()
    account.full_clean()
    account.save()
    if tags is not None:
        set_tags(account=account, names=tags)
    if stage is not None:
        StageChange.objects.create(workspace=workspace, account=account, to_stage=stage, changed_by=acting_member(actor))
    record_audit(workspace=workspace, actor=actor, action="account.created", obj=account)
    return account


@transaction.atomic
def update_account(*, account, actor, tags=None, **fields):
    workspace = account.workspace
    authorize(actor, "accounts.change", account)
    if "owner" in fields:
        _check_owner(workspace, fields["owner"])
        if fields["owner"] != account.owner:
            authorize(actor, "accounts.reassign", account)
    stage = fields.pop("stage", account.stage)
    _check_same_workspace(workspace, stage=stage)
    changes = model_changes(account, fields)
    for field, value in fields.items():
        setattr(account, field, value)
    _apply_churn_rules(account)
    account.full_clean()
    account.save()
    if stage != account.stage:
        changes["stage"] = [str(account.stage) if account.stage else None, str(stage) if stage else None]
        _move_stage(account=account, stage=stage, actor=actor)
    if tags is not None:
        set_tags(account=account, names=tags)
    if changes:
        record_audit(workspace=workspace, actor=actor, action="account.updated", obj=account, changes=changes)
    return account


def _move_stage(*, account, stage, actor, at=None):
    at = at or timezone.now()
    StageChange.objects.create(
        workspace=account.workspace, account=account, from_stage=account.stage, to_stage=stage,
        changed_at=at, changed_by=acting_member(actor),
    )
    account.stage = stage
    account.stage_entered_at = at
    account.save(update_fields=["stage", "stage_entered_at", "updated_at"])


def set_tags(*, account, names):
    names = sorted({name.strip() for name in names if name and name.strip()})
    existing = {t.name: t for t in Tag.objects.for_workspace(account.workspace).filter(name__in=names)}
    missing = [Tag(workspace=account.workspace, name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.for_workspace(account.workspace).filter(name__in=names)}
    account.tags.set(existing.values())


@transaction.atomic
def delete_account(*, account, actor):
    authorize(actor, "accounts.delete", account)
    record_audit(workspace=account.workspace, actor=actor, action="account.deleted", obj=account)
    # Apps built on accounts drop what they derived from it (e.g. its share of the coverage totals).
    account_deleting.send(sender=Account, account=account)
    account.delete()


@transaction.atomic
def upsert_account(*, workspace, actor, external_id, stage=None, tags=None, **fields):
    """Create or update the account with this external_id. Sending the same payload twice is a no-op.

    Returns (account, created).
    """
    if not external_id:
        raise DomainError(_("external_id is required to upsert."), field="external_id")
    account = (
        Account.objects.for_workspace(workspace).select_related("owner", "stage").filter(external_id=external_id).first()
    )
    if account is None:
        account = create_account(
            workspace=workspace, actor=actor, external_id=external_id, stage=stage, tags=tags, **fields
        )
        return account, True
    if _unchanged(account, fields=fields, stage=stage, tags=tags):
        # CRMs re-send whole books nightly; an identical row costs two reads and writes nothing.
        return account, False
    if stage is not None:
        fields["stage"] = stage
    update_account(account=account, actor=actor, tags=tags, **fields)
    return account, False


def _unchanged(account, *, fields, stage, tags):
    if model_changes(account, fields) or (stage is not None and stage != account.stage):
        return False
    if tags is None:
        return True
    wanted = sorted({name.strip() for name in tags if name and name.strip()})
    return wanted == sorted(account.tags.values_list("name", flat=True))


@transaction.atomic
def bulk_upsert_accounts(*, workspace, actor, rows):
    """Upsert many accounts in one transaction: all of them or, if any row fails, none.

    `rows` are dicts of already-parsed fields. Raises RowErrors listing every failing row.
    """
    return _bulk_upsert(workspace=workspace, actor=actor, rows=rows, upsert=upsert_account, key="accounts")


def _row_errors(exc):
    """{field: [messages]} for a failed row, whatever kind of validation said no."""
    if isinstance(exc, DomainError | NotAllowed):
        return {exc.field or "non_field_errors": [exc.message]}
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if f == NON_FIELD_ERRORS else f): m for f, m in exc.message_dict.items()}
    return {"non_field_errors": exc.messages}


def _bulk_upsert(*, workspace, actor, rows, upsert, key):
    """Run `upsert` for every row inside the caller's transaction, collecting every row's errors.

    Each row runs in a savepoint so that one failure does not hide the next row's; any failure
    raises RowErrors at the end, which rolls the whole batch back.
    """
    created = updated = 0
    errors = []
    results = []
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                obj, was_created = upsert(workspace=workspace, actor=actor, **row)
        except (DomainError, NotAllowed, ValidationError) as exc:
            errors.append({"index": index, "errors": _row_errors(exc)})
            continue
        except IntegrityError:
            errors.append({"index": index, "errors": {"non_field_errors": [
                _("This conflicts with existing data (a unique value is already taken).")
            ]}})
            continue
        results.append((obj, was_created))
        created += was_created
        updated += not was_created
    if errors:
        raise RowErrors(errors)
    return {"created": created, "updated": updated, key: [obj for obj, _c in results], "rows": results}


def _authorize_child(actor, model, child, account):
    """A contact or contract is written by whoever may edit its account (both, when it moves)."""
    if child is not None and child.pk:
        authorize(actor, "accounts.change_child", child)
    authorize(actor, "accounts.change_child", model(workspace_id=account.workspace_id, account=account))


def _validate_contacts(workspace, account, contacts):
    for contact in contacts:
        if contact.workspace_id != workspace.pk or contact.account_id != account.pk:
            raise DomainError(_("Contacts must belong to this account."), field="contacts")


@transaction.atomic
def log_touchpoint(*, account, actor, channel, author=None, occurred_at=None, summary="", sentiment="neutral",
                   contacts=(), external_id=""):
    """Record a call, meeting, email or programme touch on the account's timeline.

    The author is the member who logs it unless another is named, which only managers may do.
    """
    workspace = account.workspace
    authorize(actor, "touchpoints.log", account)
    if author is None and isinstance(actor, Membership):
        author = actor
    if author is not None and author != actor:
        authorize(actor, "touchpoints.log_for_others", account)
    if author is not None and not author.can_log_touchpoints:
        raise DomainError(_("Viewers cannot log touchpoints."), field="author")
    _check_same_workspace(workspace, author=author)
    _validate_contacts(workspace, account, contacts)
    touchpoint = Touchpoint(
        workspace=workspace, account=account, author=author, channel=channel,
        occurred_at=occurred_at or timezone.now(), summary=summary, sentiment=sentiment, external_id=external_id,
    )
    touchpoint.full_clean()
    touchpoint.save()
    if contacts:
        touchpoint.contacts.set(contacts)
    return touchpoint


@transaction.atomic
def update_touchpoint(*, touchpoint, actor, contacts=None, **fields):
    authorize(actor, "touchpoints.change", touchpoint)
    if "author" in fields and fields["author"] != touchpoint.author:
        # Naming someone else, or taking over someone else's touchpoint, is a manager's act.
        authorize(actor, "touchpoints.log_for_others", touchpoint)
        _check_same_workspace(touchpoint.workspace, author=fields["author"])
    changes = model_changes(touchpoint, fields)
    for field, value in fields.items():
        setattr(touchpoint, field, value)
    touchpoint.full_clean()
    touchpoint.save()
    if contacts is not None:
        _validate_contacts(touchpoint.workspace, touchpoint.account, contacts)
        touchpoint.contacts.set(contacts)
    if changes:
        record_audit(
            workspace=touchpoint.workspace, actor=actor, action="touchpoint.updated", obj=touchpoint, changes=changes
        )
    return touchpoint


@transaction.atomic
def save_contact(*, workspace, actor, contact=None, account, **fields):
    _check_same_workspace(workspace, account=account)
    _authorize_child(actor, Contact, contact, account)
    created = contact is None
    if created:
        contact = Contact(workspace=workspace, account=account)
        changes = {}
    else:
        changes = model_changes(contact, {"account": account, **fields})
        contact.account = account
    for field, value in fields.items():
        setattr(contact, field, value)
    contact.full_clean()
    contact.save()
    if created or changes:
        record_audit(
            workspace=workspace, actor=actor, action="contact.created" if created else "contact.updated",
            obj=contact, changes=changes,
        )
    return contact


@transaction.atomic
def upsert_contact(*, workspace, actor, external_id, account=None, **fields):
    """Create or update the contact with this external_id; `account` may be left out on update."""
    return _upsert_account_child(
        model=Contact, save=save_contact, workspace=workspace, actor=actor, external_id=external_id,
        account=account, missing_account=_("A new contact needs an account."), **fields,
    )


def _upsert_account_child(*, model, save, workspace, actor, external_id, account, missing_account, **fields):
    """Upsert by external_id for rows that hang off an account (contacts, contracts)."""
    if not external_id:
        raise DomainError(_("external_id is required to upsert."), field="external_id")
    existing = model.objects.for_workspace(workspace).filter(external_id=external_id).first()
    created = existing is None
    if account is None:
        if created:
            raise DomainError(missing_account, field="account")
        account = existing.account
    saved = save(
        workspace=workspace, actor=actor, account=account, external_id=external_id,
        **{model._meta.model_name: existing}, **fields,
    )
    return saved, created


@transaction.atomic
def bulk_upsert_contacts(*, workspace, actor, rows):
    return _bulk_upsert(workspace=workspace, actor=actor, rows=rows, upsert=upsert_contact, key="contacts")


@transaction.atomic
def delete_contact(*, contact, actor):
    authorize(actor, "accounts.change_child", contact)
    record_audit(workspace=contact.workspace, actor=actor, action="contact.deleted", obj=contact)
    contact.delete()


@transaction.atomic
def save_contract(*, workspace, actor, contract=None, account, **fields):
    _check_same_workspace(workspace, account=account)
    _authorize_child(actor, Contract, contract, account)
    created = contract is None
    contract = contract or Contract(workspace=workspace)
    changes = {} if created else model_changes(contract, fields)
    contract.account = account
    for field, value in fields.items():
        setattr(contract, field, value)
    contract.full_clean()
    contract.save()
    if created or changes:
        record_audit(
            workspace=workspace, actor=actor, action="contract.created" if created else "contract.updated",
            obj=contract, changes=changes,
        )
    return contract


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


@transaction.atomic
def upsert_contract(*, workspace, actor, external_id, account=None, **fields):
    """Create or update the contract with this external_id; `account` may be left out on update."""
    return _upsert_account_child(
        model=Contract, save=save_contract, workspace=workspace, actor=actor, external_id=external_id,
        account=account, missing_account=_("A new contract needs an account."), **fields,
    )


@transaction.atomic
def bulk_upsert_contracts(*, workspace, actor, rows):
    return _bulk_upsert(workspace=workspace, actor=actor, rows=rows, upsert=upsert_contract, key="contracts")


@transaction.atomic
def delete_contract(*, contract, actor):
    authorize(actor, "accounts.change_child", contract)
    record_audit(workspace=contract.workspace, actor=actor, action="contract.deleted", obj=contract)
    contract.delete()


@transaction.atomic
def upsert_touchpoint(*, workspace, actor, external_id, account=None, author=None, contacts=None, **fields):
    """Create or update the touchpoint with this external_id (CRM activities synced in).

    A new touchpoint is authored by `author`, or by the caller when none is named.
    """
    if not external_id:
        raise DomainError(_("external_id is required to upsert."), field="external_id")
    _check_same_workspace(workspace, account=account, author=author)
    touchpoint = Touchpoint.objects.for_workspace(workspace).filter(external_id=external_id).first()
    if touchpoint is None:
        if account is None:
            raise DomainError(_("A new touchpoint needs an account."), field="account")
        touchpoint = log_touchpoint(
            account=account, actor=actor, author=author, external_id=external_id, contacts=contacts or (), **fields
        )
        return touchpoint, True
    if account is not None:
        fields["account"] = account
    if author is not None:
        fields["author"] = author
    update_touchpoint(touchpoint=touchpoint, actor=actor, contacts=contacts, **fields)
    return touchpoint, False


@transaction.atomic
def bulk_upsert_touchpoints(*, workspace, actor, rows):
    return _bulk_upsert(workspace=workspace, actor=actor, rows=rows, upsert=upsert_touchpoint, key="touchpoints")


@transaction.atomic
def delete_touchpoint(*, touchpoint, actor):
    authorize(actor, "touchpoints.delete", touchpoint)
    record_audit(workspace=touchpoint.workspace, actor=actor, action="touchpoint.deleted", obj=touchpoint)
    touchpoint.delete()


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
