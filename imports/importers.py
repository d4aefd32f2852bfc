"""Set-based import of one sheet: parse every cell, look everything up once, validate, then write.

An importer works in three passes so that a 10,000-row file costs a handful of queries, not one
per row: (1) parse cells into Python values, (2) prefetch what the rows refer to (members, stages,
existing rows by external ID or natural key) in chunked `IN` queries, (3) match each row to an
existing object or a new one, apply the same rules and `full_clean()` the services apply, and
remember what changed. Writing is `bulk_create`/`bulk_update` in chunks, in the caller's
transaction.

Uniqueness and foreign keys are checked here against the prefetched sets instead of by
`full_clean()`, which would run several queries per row for them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, Contract, LifecycleStage, StageChange, Tag, Touchpoint
from accounts.services import _apply_churn_rules
from workspaces.models import Membership
from workspaces.policy import acting_member

from .columns import ACCOUNTS, CONTACTS, CONTRACTS, TOUCHPOINTS, columns_for, normalise_header
from .values import (
    CellError,
    choice_lookup,
    clean_text,
    is_blank,
    nfkc,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_json,
    parse_tags,
)

CHUNK = 1000


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
class Plan:
    """What one valid row will do: create `instance`, or update the fields in `changed`."""

    row: int
    instance: object
    created: bool
    changed: set = field(default_factory=set)
    extra: dict = field(default_factory=dict)

    @property
    def has_effect(self):
        return self.created or bool(self.changed) or bool(self.extra.get("tags_changed"))


class MemberDirectory:
    """Active members of the workspace, findable by email, username or name (case-insensitive)."""

    def __init__(self, workspace):
        self.by_key = defaultdict(set)
        self.members = {}
        for member in Membership.objects.for_workspace(workspace).filter(is_active=True).select_related("user"):
            self.members[member.pk] = member
            user = member.user
            for key in (user.email, user.username, user.get_full_name(), member.display_name,
                        f"{user.last_name} {user.first_name}", f"{user.last_name}{user.first_name}"):
                if key and key.strip():
                    self.by_key[normalise_header(key)].add(member.pk)

    def find(self, text):
        found = self.by_key.get(normalise_header(text), set())
        if not found:
            raise CellError(_("“%(value)s” is not an active member of this workspace (use their email or name).")
                            % {"value": text})
        if len(found) > 1:
            raise CellError(_("“%(value)s” matches several members; use their email.") % {"value": text})
        return self.members[next(iter(found))]

    @staticmethod
    def export_value(member):
        if member is None:
            return ""
        return member.user.email or member.user.username


class BaseImporter:
    object_type = None
    model = None
    required = ()  # canonical columns that must be mapped and filled
    fk_fields = ()  # resolved from prefetched, workspace-scoped sets; excluded from full_clean()

    def __init__(self, *, workspace, actor, headers, mapping):
        self.workspace = workspace
        self.actor = actor
        self.headers = headers
        self.columns = {column.name: column for column in columns_for(self.object_type)}
        self.mapping = {int(index): name for index, name in mapping.items() if name in self.columns}
        self.header_of = {name: headers[index] or name for index, name in self.mapping.items()}
        self.mapped = set(self.mapping.values())
        self.choice_lookups = {
            column.name: choice_lookup(column.name, column.choices)
            for column in self.columns.values() if column.kind == "choice"
        }
        self.members = None
        self._cache = {}
        self.errors = []
        self.error_rows = set()

    # --- mapping ---------------------------------------------------------------------------
    def mapping_errors(self):
        """Whole-file problems with the mapping, in plain words (nothing row-level)."""
        problems = []
        seen = {}
        for index, name in sorted(self.mapping.items()):
            if name in seen:
                problems.append(_("Columns “%(a)s” and “%(b)s” are both mapped to %(field)s.") % {
                    "a": self.headers[seen[name]], "b": self.headers[index], "field": self.columns[name].label})
            seen[name] = index
        for name in self.required:
            if name not in self.mapped:
                problems.append(_("No column is mapped to “%(field)s”, which is required.")
                                % {"field": self.columns[name].label})
        return problems

    # --- errors ----------------------------------------------------------------------------
    def column_label(self, name):
        if name in self.header_of:
            return self.header_of[name]
        if name in self.columns:
            return str(self.columns[name].label)
        try:
            return str(self.model._meta.get_field(name).verbose_name)
        except Exception:
            return name

    def add_error(self, row, name, message):
        self.errors.append({"row": row, "column": self.column_label(name) if name else "", "field": name or "",
                            "message": str(message)})
        self.error_rows.add(row)

    def add_validation_error(self, row, exc):
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(row, None if name == "__all__" else name, message)
        else:
            for message in exc.messages:
                self.add_error(row, None, message)

    # --- pass 1: cells -----------------------------------------------------------------------
    def parse_cell(self, column, raw):
        kind = column.kind
        if kind in ("text", "account_name_ref"):
            return clean_text(raw)
        if kind in ("id", "account_ref"):
            # IDs, emails and domains typed with full-width characters are the same IDs.
            return nfkc(clean_text(raw))
        if kind == "decimal":
            return parse_decimal(raw)
        if kind == "int":
            return parse_int(raw)
        if kind == "date":
            return parse_date(raw)
        if kind == "datetime":
            return parse_datetime(raw, tz=self.workspace.tz)
        if kind == "bool":
            return parse_bool(raw)
        if kind == "tags":
            return parse_tags(raw)
        if kind == "json":
            return parse_json(raw)
        if kind == "choice":
            value = self.choice_lookups[column.name].get(normalise_header(clean_text(raw)))
            if value is None:
                allowed = ", ".join(str(label) for label in column.choices.labels)
                raise CellError(_("“%(value)s” is not one of: %(allowed)s.") % {"value": clean_text(raw),
                                                                              "allowed": allowed})
            return value
        if kind == "member":
            if self.members is None:
                self.members = MemberDirectory(self.workspace)
            return self.members.find(clean_text(raw))
        if kind == "stage":
            return self.find_stage(clean_text(raw))
        raise ValueError(kind)

    def blank_value(self, name):
        """What an empty cell means: the field's empty value (None, "" or its default)."""
        column = self.columns[name]
        if column.kind == "tags":
            return []
        try:
            model_field = self.model._meta.get_field(name)
        except Exception:
            return None
        if model_field.null:
            return None
        if model_field.has_default():
            return model_field.get_default()
        return "" if model_field.get_internal_type() in ("CharField", "TextField", "EmailField") else None

    # Kinds whose parsed value depends only on the cell and is never mutated: parse each distinct
    # cell once (sheets repeat the same owner, stage, dates and amounts thousands of times).
    CACHED_KINDS = {"decimal", "int", "date", "datetime", "bool", "choice", "member", "stage", "tags"}

    def parse_row(self, row, cells):
        values = {}
        ok = True
        for index, name in self.mapping.items():
            raw = cells[index] if index < len(cells) else None
            if is_blank(raw):
                if name in self.required:
                    self.add_error(row, name, _("A value is required."))
                    ok = False
                values[name] = self.blank_value(name)
                continue
            column = self.columns[name]
            cache = self._cache.setdefault(name, {}) if column.kind in self.CACHED_KINDS else None
            try:
                if cache is None:
                    values[name] = self.parse_cell(column, raw)
                else:
                    key = (type(raw), raw)
                    if key not in cache:
                        try:
                            cache[key] = self.parse_cell(column, raw)
                        except CellError as exc:
                            cache[key] = exc
                    if isinstance(cache[key], CellError):
                        raise cache[key]
                    values[name] = cache[key]
            except CellError as exc:
                self.add_error(row, name, exc.message)
                ok = False
        return values if ok else None

    def find_stage(self, text):
        if not hasattr(self, "_stages"):
            self._stages = {
                normalise_header(stage.name): stage for stage in LifecycleStage.objects.for_workspace(self.workspace)
            }
        stage = self._stages.get(normalise_header(text))
        if stage is None:
            known = ", ".join(stage.name for stage in self._stages.values())
            raise CellError(_("“%(value)s” is not a lifecycle stage of this workspace (%(known)s).")
                            % {"value": text, "known": known})
        return stage

    # --- pass 3: matching and validation -------------------------------------------------------
    def assign(self, plan, values, fields):
        """Set `fields` from `values` on the instance, recording which ones really change."""
        instance = plan.instance
        for name in fields:
            if name not in values:
                continue
            new = values[name]
            model_field = instance._meta.get_field(name)
            if model_field.is_relation:
                old_id = getattr(instance, model_field.attname)
                if old_id != (new.pk if new is not None else None):
                    plan.changed.add(name)
                setattr(instance, name, new)
                continue
            old = getattr(instance, name)
            if isinstance(old, str) and isinstance(new, str):
                differs = old.strip() != new.strip()
            else:
                differs = old != new
            if differs:
                plan.changed.add(name)
                setattr(instance, name, new)

    def validate(self, plan):
        exclude = [name for name in self.fk_fields]
        try:
            plan.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self.add_validation_error(plan.row, exc)
            return False
        return True

    def claim(self, row, key, seen, label):
        """Each object may be matched by one row only: a second row with the same key is an error."""
        if key in seen:
            self.add_error(row, label, _("Same record as row %(row)s; each record may appear once.")
                           % {"row": seen[key]})
            return False
        seen[key] = row
        return True

    def run(self, sheet, *, progress=None):
        """Validate every row; return the plans of the valid ones. Errors collect in self.errors."""
        parsed = []
        for position, (row, cells) in enumerate(sheet.rows, start=1):
            values = self.parse_row(row, cells)
            if values is not None:
                parsed.append((row, values))
            if progress and position % CHUNK == 0:
                progress(position // 2)
        self.prefetch([values for _, values in parsed])
        plans = []
        seen = {}
        for position, (row, values) in enumerate(parsed, start=1):
            plan = self.plan_row(row, values, seen)
            # An existing row the file does not change was valid when it was saved: skip its check.
            if plan is not None and (not plan.has_effect or self.validate(plan)):
                plans.append(plan)
            if progress and position % CHUNK == 0:
                progress(len(sheet.rows) // 2 + position // 2)
        if progress:
            progress(len(sheet.rows))
        return plans

    # --- writing ---------------------------------------------------------------------------------
    def write(self, plans):
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

    def before_write(self, plans):
        pass

    def after_write(self, plans):
        pass

    def prefetch(self, rows):
        raise NotImplementedError

    def plan_row(self, row, values, seen):
        raise NotImplementedError


class AccountRefMixin:
    """Contacts, touchpoints and contracts name their account by external ID or by name."""

    def mapping_errors(self):
        problems = super().mapping_errors()
        if not {"account_external_id", "account"} & self.mapped:
            problems.append(_("Map a column to the account's external ID or to the account name."))
        return problems

    def prefetch_accounts(self, rows):
        accounts = Account.objects.for_workspace(self.workspace).only("id", "name", "external_id", "workspace_id")
        ext_ids = {values.get("account_external_id") for values in rows} - {None, ""}
        names = {values.get("account") for values in rows if not values.get("account_external_id")} - {None, ""}
        self.accounts_by_ext = {}
        for chunk in chunks(ext_ids):
            self.accounts_by_ext.update({a.external_id: a for a in accounts.filter(external_id__in=chunk)})
        self.accounts_by_name = defaultdict(list)
        for chunk in chunks(names):
            for account in accounts.filter(name__in=chunk):
                self.accounts_by_name[account.name].append(account)

    def resolve_account(self, row, values):
        ext = values.get("account_external_id")
        if ext:
            account = self.accounts_by_ext.get(ext)
            if account is None:
                self.add_error(row, "account_external_id",
                               _("No account with external ID “%(value)s” in this workspace.") % {"value": ext})
            return account
        name = values.get("account")
        if not name:
            self.add_error(row, "account" if "account" in self.mapped else "account_external_id",
                           _("Say which account this row belongs to (its external ID or name)."))
            return None
        found = self.accounts_by_name.get(name, [])
        if len(found) == 1:
            return found[0]
        if not found:
            self.add_error(row, "account", _("No account named “%(value)s” in this workspace.") % {"value": name})
        else:
            self.add_error(row, "account", _("Several accounts are named “%(value)s”; use the account's external "
                                             "ID instead.") % {"value": name})
        return None

    def plan_account_row(self, row, values, seen, *, account, natural_key, natural_label, new):
        """Match the row's record (external ID, else natural key), claim it for this row, plan the write.

        `new()` builds the unsaved instance when nothing matches.
        """
        ext = values.get("external_id") or ""
        existing = _match(self.by_ext, self.natural, ext, natural_key)
        key = ("pk", existing.pk) if existing else (("ext", ext) if ext else natural_key)
        if not self.claim(row, key, seen, "external_id" if ext else natural_label):
            return None
        plan = Plan(row=row, instance=existing or new(), created=existing is None)
        if ext and plan.instance.external_id != ext:
            plan.instance.external_id = ext
            plan.changed.add("external_id")
        if plan.instance.account_id != account.pk:
            plan.instance.account = account
            plan.changed.add("account")
        self.assign(plan, values, self.FIELDS)
        return plan


def _match(instance_by_ext, natural, ext, natural_key):
    """By external ID; else by natural key, adopting only a record without an external ID of its own."""
    if ext and ext in instance_by_ext:
        return instance_by_ext[ext]
    candidate = natural.get(natural_key) if natural_key is not None else None
    if candidate is not None and (not ext or not candidate.external_id):
        return candidate
    return None


class AccountImporter(BaseImporter):
    object_type = ACCOUNTS
    model = Account
    required = ("name",)
    fk_fields = ("workspace", "owner", "stage")
    FIELDS = ("name", "domain", "owner", "arr", "plan", "licensed_seats", "contract_start", "renewal_date",
              "status", "churned_on", "churn_reason", "churn_note", "attributes")

    def prefetch(self, rows):
        accounts = Account.objects.for_workspace(self.workspace)
        ext_ids = {values.get("external_id") for values in rows} - {None, ""}
        self.by_ext = {}
        for chunk in chunks(ext_ids):
            self.by_ext.update({a.external_id: a for a in accounts.filter(external_id__in=chunk)})
        # Names matter only for rows that did not match by external ID.
        names = {values.get("name") for values in rows if values.get("external_id") not in self.by_ext} - {None, ""}
        self.by_name = defaultdict(list)
        for chunk in chunks(names):
            for account in accounts.filter(name__in=chunk):
                self.by_name[account.name].append(self.by_ext.get(account.external_id, account))
        self.current_tags = defaultdict(set)
        if "tags" in self.mapped:
            ids = {a.pk for a in self.by_ext.values()} | {a.pk for group in self.by_name.values() for a in group}
            through = Account.tags.through.objects
            for chunk in chunks(ids):
                for account_id, name in through.filter(account_id__in=chunk).values_list("account_id", "tag__name"):
                    self.current_tags[account_id].add(name)

    def plan_row(self, row, values, seen):
        ext = values.get("external_id") or ""
        name = values["name"]
        same_name = self.by_name.get(name, [])
        existing = self.by_ext.get(ext) if ext else None
        if existing is None:
            candidates = [a for a in same_name if not ext or not a.external_id]
            if len(candidates) > 1 and not ext:
                self.add_error(row, "name", _("Several accounts are named “%(value)s”; add an external ID column "
                                              "to tell them apart.") % {"value": name})
                return None
            existing = candidates[0] if len(candidates) == 1 else None
        key = ("pk", existing.pk) if existing else (("ext", ext) if ext else ("name", name))
        if not self.claim(row, key, seen, "external_id" if ext else "name"):
            return None
        created = existing is None
        plan = Plan(row=row, instance=existing or Account(workspace=self.workspace), created=created)
        if ext and plan.instance.external_id != ext:
            plan.instance.external_id = ext
            plan.changed.add("external_id")
        old_stage_id = plan.instance.stage_id
        self.assign(plan, values, self.FIELDS)
        before = (plan.instance.churned_on, plan.instance.churn_reason)
        _apply_churn_rules(plan.instance)
        if (plan.instance.churned_on, plan.instance.churn_reason) != before and not created:
            plan.changed.update({"churned_on", "churn_reason"})
        if "stage" in values:
            stage = values["stage"]
            if created and stage is not None or not created and (stage.pk if stage else None) != old_stage_id:
                plan.instance.stage = stage
                plan.instance.stage_entered_at = timezone.now()
                plan.changed.update({"stage", "stage_entered_at"})
                plan.extra["stage_change"] = (old_stage_id, stage)
            else:
                plan.changed.discard("stage")
        if "tags" in values:
            wanted = set(values["tags"])
            plan.extra["tags"] = wanted
            plan.extra["tags_changed"] = wanted != (set() if created else self.current_tags.get(existing.pk, set()))
        return plan

    def before_write(self, plans):
        names = set().union(*(plan.extra.get("tags", set()) for plan in plans)) if plans else set()
        if names:
            Tag.objects.bulk_create([Tag(workspace=self.workspace, name=n) for n in sorted(names)],
                                    ignore_conflicts=True, batch_size=CHUNK)
            self.tags = {t.name: t.pk for t in Tag.objects.for_workspace(self.workspace).filter(name__in=names)}

    def after_write(self, plans):
        now = timezone.now()
        StageChange.objects.bulk_create(
            [StageChange(workspace=self.workspace, account=plan.instance, from_stage_id=plan.extra["stage_change"][0],
                         to_stage=plan.extra["stage_change"][1], changed_at=now, changed_by=acting_member(self.actor))
             for plan in plans if "stage_change" in plan.extra],
            batch_size=CHUNK,
        )
        tag_plans = [plan for plan in plans if plan.extra.get("tags_changed")]
        through = Account.tags.through
        for chunk in chunks(tag_plans):
            through.objects.filter(account_id__in=[plan.instance.pk for plan in chunk if not plan.created]).delete()
            insert_pairs(
                through._meta.db_table, ["account_id", "tag_id"],
                [(plan.instance.pk, self.tags[name]) for plan in chunk for name in sorted(plan.extra["tags"])],
            )


class ContactImporter(AccountRefMixin, BaseImporter):
    object_type = CONTACTS
    model = Contact
    required = ("name",)
    fk_fields = ("workspace", "account")
    FIELDS = ("name", "email", "title", "role", "is_key_person", "left_on")

    def prefetch(self, rows):
        self.prefetch_accounts(rows)
        contacts = Contact.objects.for_workspace(self.workspace)
        ext_ids = {values.get("external_id") for values in rows} - {None, ""}
        self.by_ext = {}
        for chunk in chunks(ext_ids):
            self.by_ext.update({c.external_id: c for c in contacts.filter(external_id__in=chunk)})
        account_ids = {a.pk for a in self.accounts_by_ext.values()}
        account_ids |= {a.pk for group in self.accounts_by_name.values() for a in group}
        self.natural = {}
        for chunk in chunks(account_ids):
            for contact in contacts.filter(account_id__in=chunk):
                contact = self.by_ext.get(contact.external_id, contact) if contact.external_id else contact
                self.natural.setdefault(self.natural_key(contact.account_id, contact.email, contact.name), contact)

    @staticmethod
    def natural_key(account_id, email, name):
        email = (email or "").strip().lower()
        return (account_id, "email", email) if email else (account_id, "name", (name or "").strip())

    def plan_row(self, row, values, seen):
        account = self.resolve_account(row, values)
        if account is None:
            return None
        email = values.get("email") or ""
        values["email"] = email.strip()
        return self.plan_account_row(
            row, values, seen, account=account, natural_key=self.natural_key(account.pk, email, values["name"]),
            natural_label="email" if email else "name",
            new=lambda: Contact(workspace=self.workspace, account=account),
        )


class TouchpointImporter(AccountRefMixin, BaseImporter):
    object_type = TOUCHPOINTS
    model = Touchpoint
    required = ("occurred_at", "channel")
    fk_fields = ("workspace", "account", "author")
    FIELDS = ("occurred_at", "channel", "summary", "sentiment", "author")

    def parse_cell(self, column, raw):
        value = super().parse_cell(column, raw)
        if column.name == "author" and not value.can_log_touchpoints:
            raise CellError(_("“%(value)s” is a viewer; viewers cannot log touchpoints.") % {"value": clean_text(raw)})
        return value

    def prefetch(self, rows):
        self.prefetch_accounts(rows)
        touchpoints = Touchpoint.objects.for_workspace(self.workspace)
        ext_ids = {values.get("external_id") for values in rows} - {None, ""}
        self.by_ext = {}
        for chunk in chunks(ext_ids):
            self.by_ext.update({t.external_id: t for t in touchpoints.filter(external_id__in=chunk)})
        account_ids = {a.pk for a in self.accounts_by_ext.values()}
        account_ids |= {a.pk for group in self.accounts_by_name.values() for a in group}
        moments = [values["occurred_at"] for values in rows if values.get("occurred_at")]
        self.natural = {}
        if moments:
            for chunk in chunks(account_ids):
                candidates = touchpoints.filter(account_id__in=chunk, occurred_at__range=(min(moments), max(moments)))
                for touchpoint in candidates:
                    touchpoint = self.by_ext.get(touchpoint.external_id, touchpoint)
                    self.natural.setdefault(self.natural_key(touchpoint.account_id, touchpoint.occurred_at,
                                                             touchpoint.channel, touchpoint.summary), touchpoint)

    @staticmethod
    def natural_key(account_id, occurred_at, channel, summary):
        return (account_id, occurred_at, channel, (summary or "").strip())

    def plan_row(self, row, values, seen):
        account = self.resolve_account(row, values)
        if account is None:
            return None
        return self.plan_account_row(
            row, values, seen, account=account,
            natural_key=self.natural_key(account.pk, values["occurred_at"], values["channel"], values.get("summary")),
            natural_label="occurred_at",
            new=lambda: Touchpoint(workspace=self.workspace, account=account,
                                   author=acting_member(self.actor) if "author" not in self.mapped else None),
        )


class ContractImporter(AccountRefMixin, BaseImporter):
    object_type = CONTRACTS
    model = Contract
    required = ("product", "start_date")
    fk_fields = ("workspace", "account")
    FIELDS = ("product", "mrr", "seats", "start_date", "end_date")

    def mapping_errors(self):
        problems = super().mapping_errors()
        if not {"mrr", "arr"} & self.mapped:
            problems.append(_("Map a column to MRR or to ARR (ARR is divided by 12)."))
        return problems

    def prefetch(self, rows):
        self.prefetch_accounts(rows)
        contracts = Contract.objects.for_workspace(self.workspace)
        ext_ids = {values.get("external_id") for values in rows} - {None, ""}
        self.by_ext = {}
        for chunk in chunks(ext_ids):
            self.by_ext.update({c.external_id: c for c in contracts.filter(external_id__in=chunk)})
        account_ids = {a.pk for a in self.accounts_by_ext.values()}
        account_ids |= {a.pk for group in self.accounts_by_name.values() for a in group}
        self.natural = {}
        for chunk in chunks(account_ids):
            for contract in contracts.filter(account_id__in=chunk):
                contract = self.by_ext.get(contract.external_id, contract)
                self.natural.setdefault((contract.account_id, contract.product.strip(), contract.start_date), contract)

    def plan_row(self, row, values, seen):
        account = self.resolve_account(row, values)
        if account is None:
            return None
        if values.get("mrr") is None:
            if values.get("arr") is None:
                self.add_error(row, "mrr" if "mrr" in self.mapped else "arr", _("MRR or ARR is required."))
                return None
            values["mrr"] = (values["arr"] / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return self.plan_account_row(
            row, values, seen, account=account,
            natural_key=(account.pk, values["product"].strip(), values["start_date"]), natural_label="start_date",
            new=lambda: Contract(workspace=self.workspace, account=account),
        )

    def validate(self, plan):
        contract = plan.instance
        if contract.end_date and contract.start_date and contract.end_date < contract.start_date:
            self.add_error(plan.row, "end_date", _("A contract cannot end before it starts."))
            return False
        return super().validate(plan)


IMPORTERS = {
    ACCOUNTS: AccountImporter,
    CONTACTS: ContactImporter,
    TOUCHPOINTS: TouchpointImporter,
    CONTRACTS: ContractImporter,
}
