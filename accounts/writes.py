"""The one write path of accounts, contacts, contracts and touchpoints, one row or ten thousand.

Every write of these rows — a page's form, the API's create, update and upsert (one or a thousand
by external ID), a CSV/XLSX import — goes through a writer here, so the same rules apply whoever
writes: who may (workspaces.policy, per row), what is valid, what follows (the churn rules, stage
history, tags) and what is audited (one row per changed record).

A writer works on a batch of rows in two passes, a handful of queries whatever its size:

1. `plan(rows)`: look up everything the rows refer to at once (existing records by external ID or
   by natural key), match each row to an existing record or a new one, apply the rules, validate,
   and remember what changes. Nothing is written; errors are collected per row and field.
2. `write(plans)`: insert and update in bulk, in the caller's transaction, with their side effects.

A row is a dict of already-parsed values (model instances for related objects, inside the
workspace) holding only the fields it sets: fields left out keep their value.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import audit_event
from workspaces.errors import DomainError, NotAllowed, RowErrors
from workspaces.models import AuditEvent
from workspaces.policy import acting_member, authorize

from .models import Account, AccountStatus, Contact, Contract, StageChange, Tag, Touchpoint

CHUNK = 1000

# How a row finds the record it writes (besides an `instance` the caller already holds):
BY_EXTERNAL_ID = "external_id"  # upsert: the external ID is required and is the key
BY_EXTERNAL_ID_OR_NATURAL_KEY = "import"  # a sheet: the external ID, else a natural key (e.g. the name)
NEW = "new"  # always a new record (an external ID, if given, must be free)


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def update_rows(model, instances, fields, *, workspace):
    """UPDATE many rows, each with its own values, as one prepared statement run with executemany.

    `bulk_update()` builds a CASE expression per field over the whole batch, which is slow to build
    and to execute for thousands of rows; this is plain portable SQL. Values go through each field's
    own `get_db_prep_save()`, exactly as `save()` would send them, and the workspace is part of the
    WHERE clause so that an id can never reach another tenant's row.
    """
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = "UPDATE {table} SET {sets} WHERE {pk} = %s AND {ws} = %s".format(
        table=quote(meta.db_table), sets=", ".join(f"{quote(c.column)} = %s" for c in columns),
        pk=quote(meta.pk.column), ws=quote(meta.get_field("workspace").column),
    )
    with connection.cursor() as cursor:
        for chunk in chunks(instances):
            cursor.executemany(sql, [
                [c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns] + [obj.pk, workspace.pk]
                for obj in chunk
            ])


def insert_pairs(table, columns, pairs, *, using="default"):
    """INSERT rows of plain ids (M2M links) with executemany: no model instance per link."""
    connection = connections[using]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {table} ({cols}) VALUES ({marks})".format(
        table=quote(table), cols=", ".join(quote(c) for c in columns), marks=", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        for chunk in chunks(pairs):
            cursor.executemany(sql, chunk)


@dataclass
class Row:
    """One row of a batch: `index` is what errors name (a list position, a sheet's row number)."""

    index: int
    values: dict
    instance: object = None  # the record to update, when the caller holds it already (a page, a PATCH)


@dataclass
class Plan:
    """What one valid row will do: create `instance`, or update the fields in `changed`."""

    row: Row
    instance: object
    created: bool
    changed: dict = field(default_factory=dict)  # field -> old value, for the audit
    extra: dict = field(default_factory=dict)

    @property
    def has_effect(self):
        return self.created or bool(self.changed) or bool(self.extra.get("tags_changed")) or \
            "contacts" in self.extra


class RowRefused(Exception):
    """Internal: ends the planning of one row (its errors are already recorded)."""


class RecordWriter:
    model = None
    kind = None  # the audit's object type and action prefix
    FIELDS = ()  # plain fields a row may set
    natural_label = None  # the field an error on the natural key names

    def __init__(self, *, workspace, actor, match=BY_EXTERNAL_ID):
        self.workspace = workspace
        self.actor = actor
        self.match = match
        self.errors = {}  # row index -> {field: [messages]}
        self.refusals = {}  # row index -> the NotAllowed of the policy

    # --- errors -----------------------------------------------------------------------------
    def add_error(self, row, name, message):
        self.errors.setdefault(row.index, {}).setdefault(name or NON_FIELD_ERRORS, []).append(str(message))

    def refuse(self, row, exc):
        self.refusals[row.index] = exc
        self.add_error(row, exc.field, exc.message)
        raise RowRefused

    def fail(self, row, name, message):
        self.add_error(row, name, message)
        raise RowRefused

    def allowed(self, row, action, obj=None):
        try:
            authorize(self.actor, action, obj)
        except NotAllowed as exc:
            self.refuse(row, exc)

    # --- planning -----------------------------------------------------------------------------
    def plan(self, rows):
        """Plans of the valid rows; errors of the others are in `self.errors`."""
        rows = list(rows)
        self.prefetch(rows)
        plans, seen = [], {}
        for row in rows:
            try:
                plan = self.plan_row(row, seen)
                if plan.has_effect:
                    self.check(plan)
                    self.validate(plan)
            except RowRefused:
                continue
            plans.append(plan)
        return plans

    def existing_by_external_id(self, rows):
        ext_ids = {row.values.get("external_id") for row in rows} - {None, ""}
        found = {}
        scoped = self.model.objects.for_workspace(self.workspace)
        for chunk in chunks(ext_ids):
            found.update({obj.external_id: obj for obj in self.select(scoped.filter(external_id__in=chunk))})
        return found

    def select(self, queryset):
        return queryset

    def find(self, row, seen):
        """The existing record the row writes, or None for a new one; claims it for this row."""
        ext = row.values.get("external_id") or ""
        if row.instance is not None:
            existing = row.instance
        elif self.match == BY_EXTERNAL_ID:
            if not ext:
                self.fail(row, "external_id", _("external_id is required to upsert."))
            existing = self.by_ext.get(ext)
        elif self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            existing = self.by_ext.get(ext) if ext else None
            if existing is None:
                existing = self.match_natural(row, ext)
        else:
            existing = None
        if existing is not None:
            key = ("pk", existing.pk)
        elif ext:
            key = ("ext", ext)
        elif self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            key = ("natural", self.natural_key_of(row))  # two rows of a sheet for one new record
        else:
            key = ("row", row.index)
        if key in seen:
            self.fail(row, "external_id" if ext else self.natural_label,
                      _("Same record as row %(row)s; each record may appear once.") % {"row": seen[key]})
        seen[key] = row.index
        if ext and ext in self.by_ext and self.by_ext[ext].pk != getattr(existing, "pk", None):
            self.fail(row, "external_id", _("Another record of this workspace already has this external ID."))
        return existing

    def match_natural(self, row, ext):
        return None

    def natural_key_of(self, row):
        return None

    def assign(self, plan, values, fields):
        """Set `fields` from `values` on the instance, recording the old value of each that changes."""
        instance = plan.instance
        for name in fields:
            if name not in values:
                continue
            new = values[name]
            model_field = instance._meta.get_field(name)
            if model_field.is_relation:
                if getattr(instance, model_field.attname) != (new.pk if new is not None else None):
                    plan.changed.setdefault(name, getattr(instance, name))
                    setattr(instance, name, new)
                continue
            old = getattr(instance, name)
            differs = old.strip() != new.strip() if isinstance(old, str) and isinstance(new, str) else old != new
            if differs:
                plan.changed.setdefault(name, old)
                setattr(instance, name, new)

    def same_workspace(self, row, **related):
        for name, obj in related.items():
            if obj is not None and obj.workspace_id != self.workspace.pk:
                self.fail(row, name, _("Not found in this workspace."))

    def check(self, plan):
        """The row's rules that need the whole plan (beyond the model's own validation)."""

    fk_fields = ("workspace",)

    def validate(self, plan):
        # Uniqueness and foreign keys were checked against the prefetched, workspace-scoped sets;
        # full_clean() would run queries per row for them.
        try:
            plan.instance.full_clean(exclude=list(self.fk_fields), validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(plan.row, None if name == NON_FIELD_ERRORS else name, message)
            raise RowRefused from None

    # --- writing ------------------------------------------------------------------------------
    def write(self, plans):
        """Write the plans in the caller's transaction: inserts, updates, side effects, audit rows."""
        plans = [plan for plan in plans if plan.has_effect]
        now = timezone.now()
        self.before_write(plans)
        new = [plan.instance for plan in plans if plan.created]
        if new:
            self.model.objects.bulk_create(new, batch_size=CHUNK)
        changed = [plan for plan in plans if not plan.created and plan.changed]
        if changed:
            fields = set().union(*(plan.changed for plan in changed))
            if any(f.name == "updated_at" for f in self.model._meta.fields):
                fields.add("updated_at")
                for plan in changed:
                    plan.instance.updated_at = now
            update_rows(self.model, [plan.instance for plan in changed], sorted(fields), workspace=self.workspace)
        self.after_write(plans)
        AuditEvent.objects.bulk_create([self.audit(plan) for plan in plans], batch_size=CHUNK)
        return plans

    def before_write(self, plans):
        pass

    def after_write(self, plans):
        pass

    def audit(self, plan):
        changes = {} if plan.created else {
            name: [_text(old), _text(getattr(plan.instance, name))] for name, old in plan.changed.items()
        }
        changes.update(plan.extra.get("audit_changes", {}))
        return audit_event(workspace=self.workspace, actor=self.actor, obj=plan.instance,
                           action=f"{self.kind}.{'created' if plan.created else 'updated'}", changes=changes)


def _text(value):
    return None if value is None else str(value)


# --- accounts ----------------------------------------------------------------------------------------
def apply_churn_rules(account, *, today):
    """A churned account has a churn date (today unless given); an active one has neither date nor reason."""
    if account.status == AccountStatus.CHURNED and account.churned_on is None:
        account.churned_on = today
    if account.status == AccountStatus.ACTIVE:
        account.churned_on = None
        account.churn_reason = ""


class AccountWriter(RecordWriter):
    model = Account
    kind = "account"
    FIELDS = ("name", "domain", "owner", "arr", "plan", "licensed_seats", "contract_start", "renewal_date",
              "status", "churned_on", "churn_reason", "churn_note", "attributes")
    fk_fields = ("workspace", "owner", "stage")
    natural_label = "name"

    def select(self, queryset):
        return queryset.select_related("owner__user", "stage")  # the audit names the old owner and stage

    def natural_key_of(self, row):
        return row.values.get("name")

    def prefetch(self, rows):
        self.today = self.workspace.today()
        self.by_ext = self.existing_by_external_id(rows)
        self.by_name = defaultdict(list)
        if self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            # Names matter only for rows that did not match by external ID.
            names = {row.values.get("name") for row in rows if row.values.get("external_id") not in self.by_ext}
            scoped = Account.objects.for_workspace(self.workspace)
            for chunk in chunks(names - {None, ""}):
                for account in self.select(scoped.filter(name__in=chunk)):
                    self.by_name[account.name].append(self.by_ext.get(account.external_id, account))
        self.current_tags = defaultdict(set)
        if any("tags" in row.values for row in rows):
            ids = {a.pk for a in self.by_ext.values()} | {a.pk for group in self.by_name.values() for a in group}
            ids |= {row.instance.pk for row in rows if row.instance is not None}
            through = Account.tags.through.objects
            for chunk in chunks(ids):
                for account_id, name in through.filter(account_id__in=chunk).values_list("account_id", "tag__name"):
                    self.current_tags[account_id].add(name)

    def match_natural(self, row, ext):
        name = row.values.get("name")
        candidates = [a for a in self.by_name.get(name, []) if not ext or not a.external_id]
        if len(candidates) > 1 and not ext:
            self.fail(row, "name", _("Several accounts are named “%(value)s”; add an external ID column to tell "
                                     "them apart.") % {"value": name})
        return candidates[0] if len(candidates) == 1 else None

    def plan_row(self, row, seen):
        values = dict(row.values)
        existing = self.find(row, seen)
        created = existing is None
        account = existing if existing is not None else Account(workspace=self.workspace)
        plan = Plan(row=row, instance=account, created=created)
        if created and values.get("owner") is None and not getattr(self.actor, "is_manager", True):
            values["owner"] = self.actor  # a CSM's new account is theirs (a manager's stays unowned)
        owner, stage = values.get("owner"), values.get("stage")
        self.same_workspace(row, owner=owner, stage=stage)
        if "owner" in values and owner is not None and owner.pk != account.owner_id and not owner.is_active:
            self.fail(row, "owner", _("The owner must be an active member of the workspace."))
        ext = values.get("external_id") or ""
        if ext and account.external_id != ext:
            plan.changed["external_id"] = account.external_id
            account.external_id = ext
        old_stage_id = account.stage_id
        if not created:
            self.allowed(row, "accounts.change", account)  # as it is: a CSM edits the accounts they own
        self.assign(plan, values, self.FIELDS)
        if created:
            self.allowed(row, "accounts.create", account)  # with its owner: a CSM creates their own
        elif "owner" in plan.changed:
            self.allowed(row, "accounts.reassign", account)
        before = (account.churned_on, account.churn_reason)
        apply_churn_rules(account, today=self.today)
        if not created:
            for name, old in zip(("churned_on", "churn_reason"), before, strict=True):
                if getattr(account, name) != old:
                    plan.changed.setdefault(name, old)
        if "stage" in values and (stage.pk if stage else None) != old_stage_id:
            account.stage = stage
            account.stage_entered_at = timezone.now()
            if not created:
                plan.changed.setdefault("stage", existing.stage if old_stage_id else None)
                plan.changed.setdefault("stage_entered_at", None)
            plan.extra["stage_move"] = (old_stage_id, stage)
        if "tags" in values:
            wanted = {name.strip() for name in values["tags"] or () if name and name.strip()}
            before_tags = set() if created else self.current_tags.get(account.pk, set())
            plan.extra["tags"] = wanted
            plan.extra["tags_changed"] = wanted != before_tags
            if plan.extra["tags_changed"] and not created:
                plan.extra["audit_changes"] = {"tags": [", ".join(sorted(before_tags)), ", ".join(sorted(wanted))]}
        return plan

    def audit(self, plan):
        event = super().audit(plan)
        event.changes.pop("stage_entered_at", None)  # the stage's move says it
        return event

    def before_write(self, plans):
        names = set().union(*(plan.extra.get("tags", set()) for plan in plans)) if plans else set()
        if names:
            Tag.objects.bulk_create([Tag(workspace=self.workspace, name=n) for n in sorted(names)],
                                    ignore_conflicts=True, batch_size=CHUNK)
            self.tags = {t.name: t.pk for t in Tag.objects.for_workspace(self.workspace).filter(name__in=names)}

    def after_write(self, plans):
        moves = [plan for plan in plans if "stage_move" in plan.extra]
        StageChange.objects.bulk_create(
            [StageChange(workspace=self.workspace, account=plan.instance, from_stage_id=plan.extra["stage_move"][0],
                         to_stage=plan.extra["stage_move"][1], changed_at=plan.instance.stage_entered_at,
                         changed_by=acting_member(self.actor))
             for plan in moves],
            batch_size=CHUNK,
        )
        through = Account.tags.through
        for chunk in chunks([plan for plan in plans if plan.extra.get("tags_changed")]):
            through.objects.filter(account_id__in=[plan.instance.pk for plan in chunk if not plan.created]).delete()
            insert_pairs(
                through._meta.db_table, ["account_id", "tag_id"],
                [(plan.instance.pk, self.tags[name]) for plan in chunk for name in sorted(plan.extra["tags"])],
            )


# --- what hangs off an account ---------------------------------------------------------------------
class AccountChildWriter(RecordWriter):
    """Contacts, contracts and touchpoints: each row names its account (an instance in the workspace)."""

    fk_fields = ("workspace", "account")

    def select(self, queryset):
        return queryset.select_related("account")

    def natural_key_of(self, row):
        account = row.values.get("account")
        return self.natural_key(account.pk if account is not None else None, row.values)

    def prefetch(self, rows):
        self.by_ext = self.existing_by_external_id(rows)
        self.natural = {}
        if self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            self.natural = self.existing_by_natural_key(rows)

    def natural_key(self, account_id, values):
        raise NotImplementedError

    def existing_by_natural_key(self, rows):
        raise NotImplementedError

    def match_natural(self, row, ext):
        """By natural key, adopting only a record without an external ID of its own."""
        account = row.values.get("account")
        if account is None:
            return None
        candidate = self.natural.get(self.natural_key(account.pk, row.values))
        if candidate is not None and (not ext or not candidate.external_id):
            return candidate
        return None

    def plan_row(self, row, seen):
        values = row.values
        existing = self.find(row, seen)
        account = values.get("account") or (existing.account if existing is not None else None)
        if account is None:
            self.fail(row, "account", self.missing_account_message())
        self.same_workspace(row, account=account)
        created = existing is None
        plan = Plan(row=row, instance=existing or self.new(account), created=created)
        instance = plan.instance
        if not created and instance.account_id != account.pk:
            plan.changed["account"] = instance.account
            self.authorize_on(row, instance)  # moving it is a write on the old account too
        instance.account = account
        ext = values.get("external_id") or ""
        if ext and instance.external_id != ext:
            plan.changed.setdefault("external_id", instance.external_id)
            instance.external_id = ext
        self.assign(plan, values, self.FIELDS)
        self.authorize_on(row, instance)
        return plan

    def new(self, account):
        return self.model(workspace=self.workspace, account=account)

    def authorize_on(self, row, instance):
        self.allowed(row, "accounts.change_child", instance)


class ContactWriter(AccountChildWriter):
    model = Contact
    kind = "contact"
    FIELDS = ("name", "email", "title", "role", "is_key_person", "left_on")

    natural_label = "name"

    @staticmethod
    def natural_key(account_id, values):
        email = (values.get("email") or "").strip().lower()
        return (account_id, "email", email) if email else (account_id, "name", (values.get("name") or "").strip())

    def existing_by_natural_key(self, rows):
        natural = {}
        account_ids = {row.values["account"].pk for row in rows if row.values.get("account") is not None}
        for chunk in chunks(account_ids):
            for contact in self.select(Contact.objects.for_workspace(self.workspace).filter(account_id__in=chunk)):
                contact = self.by_ext.get(contact.external_id, contact) if contact.external_id else contact
                natural.setdefault(self.natural_key(contact.account_id, {"email": contact.email, "name": contact.name}),
                                   contact)
        return natural

    def plan_row(self, row, seen):
        if "email" in row.values:
            row.values["email"] = (row.values["email"] or "").strip()
        return super().plan_row(row, seen)

    @staticmethod
    def missing_account_message():
        return _("A new contact needs an account.")


class ContractWriter(AccountChildWriter):
    model = Contract
    kind = "contract"
    FIELDS = ("product", "mrr", "seats", "start_date", "end_date")
    natural_label = "start_date"

    @staticmethod
    def natural_key(account_id, values):
        return (account_id, (values.get("product") or "").strip(), values.get("start_date"))

    def existing_by_natural_key(self, rows):
        natural = {}
        account_ids = {row.values["account"].pk for row in rows if row.values.get("account") is not None}
        for chunk in chunks(account_ids):
            for contract in self.select(Contract.objects.for_workspace(self.workspace).filter(account_id__in=chunk)):
                contract = self.by_ext.get(contract.external_id, contract)
                natural.setdefault(self.natural_key(contract.account_id, {
                    "product": contract.product, "start_date": contract.start_date}), contract)
        return natural

    def check(self, plan):
        contract = plan.instance
        if contract.end_date and contract.start_date and contract.end_date < contract.start_date:
            self.fail(plan.row, "end_date", _("A contract cannot end before it starts."))

    @staticmethod
    def missing_account_message():
        return _("A new contract needs an account.")


class TouchpointWriter(AccountChildWriter):
    model = Touchpoint
    kind = "touchpoint"
    FIELDS = ("occurred_at", "channel", "summary", "sentiment", "author")
    fk_fields = ("workspace", "account", "author")
    natural_label = "occurred_at"

    def select(self, queryset):
        return queryset.select_related("account", "author__user")

    @staticmethod
    def natural_key(account_id, values):
        return (account_id, values.get("occurred_at"), values.get("channel"), (values.get("summary") or "").strip())

    def existing_by_natural_key(self, rows):
        natural = {}
        account_ids = {row.values["account"].pk for row in rows if row.values.get("account") is not None}
        moments = [row.values["occurred_at"] for row in rows if row.values.get("occurred_at")]
        if not moments:
            return natural
        for chunk in chunks(account_ids):
            candidates = self.select(Touchpoint.objects.for_workspace(self.workspace).filter(
                account_id__in=chunk, occurred_at__range=(min(moments), max(moments))))
            for touchpoint in candidates:
                touchpoint = self.by_ext.get(touchpoint.external_id, touchpoint)
                natural.setdefault(self.natural_key(touchpoint.account_id, {
                    "occurred_at": touchpoint.occurred_at, "channel": touchpoint.channel,
                    "summary": touchpoint.summary}), touchpoint)
        return natural

    def new(self, account):
        # The member who logs it is its author, unless another is named (a manager's right).
        return Touchpoint(workspace=self.workspace, account=account, author=acting_member(self.actor),
                          occurred_at=timezone.now())

    def authorize_on(self, row, touchpoint):
        if touchpoint.pk is None:
            self.allowed(row, "touchpoints.log", touchpoint)
        else:
            self.allowed(row, "touchpoints.change", touchpoint)

    def plan_row(self, row, seen):
        plan = super().plan_row(row, seen)
        touchpoint, values = plan.instance, row.values
        author = touchpoint.author
        self.same_workspace(row, author=author)
        if "author" in plan.changed or (plan.created and author != acting_member(self.actor)):
            # Naming someone else, or taking over someone else's touchpoint, is a manager's act.
            self.allowed(row, "touchpoints.log_for_others", touchpoint)
        if author is not None and "author" in values and not author.can_log_touchpoints:
            self.fail(row, "author", _("“%(name)s” is a viewer; viewers cannot log touchpoints.")
                      % {"name": author.display_name})
        if "contacts" in values:
            contacts = list(values["contacts"] or ())
            if any(c.workspace_id != self.workspace.pk or c.account_id != touchpoint.account_id for c in contacts):
                self.fail(row, "contacts", _("Contacts must belong to the touchpoint's account."))
            plan.extra["contacts"] = contacts
        return plan

    def after_write(self, plans):
        through = Touchpoint.contacts.through
        with_contacts = [plan for plan in plans if "contacts" in plan.extra]
        for chunk in chunks(with_contacts):
            through.objects.filter(touchpoint_id__in=[p.instance.pk for p in chunk if not p.created]).delete()
            insert_pairs(through._meta.db_table, ["touchpoint_id", "contact_id"],
                         [(p.instance.pk, c.pk) for p in chunk for c in p.extra["contacts"]])


WRITERS = {"accounts": AccountWriter, "contacts": ContactWriter, "contracts": ContractWriter,
           "touchpoints": TouchpointWriter}


# --- the calls the services make -----------------------------------------------------------------
def save_rows(writer, rows):
    """Plan and write a batch, all or nothing: the plans (one per row, in order), or RowErrors
    listing every bad row and nothing written."""
    plans = writer.plan(rows)
    if writer.errors:
        raise RowErrors([{"index": index, "errors": errors} for index, errors in sorted(writer.errors.items())])
    writer.write(plans)
    return plans


def save_one(writer, row):
    """Plan and write one row; its refusal raises NotAllowed (403), its errors ValidationError or
    DomainError naming the field (400, or the form's field), exactly as a single write always did."""
    plans = writer.plan([row])
    if row.index in writer.refusals:
        raise writer.refusals[row.index]
    errors = writer.errors.get(row.index)
    if errors:
        fields = [name for name in errors if name != NON_FIELD_ERRORS]
        if len(errors) == 1 and fields and len(errors[fields[0]]) == 1:
            raise DomainError(errors[fields[0]][0], field=fields[0])
        raise ValidationError(errors)
    writer.write(plans)
    return plans[0]

