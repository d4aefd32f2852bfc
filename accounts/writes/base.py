"""What every writer shares: rows, plans, matching, rules, validation, the bulk write and its audit."""

from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import audit_event
from workspaces.errors import NotAllowed
from workspaces.models import AuditEvent
from workspaces.policy import authorize

from .sql import CHUNK, chunks, update_rows

# How a row finds the record it writes (besides an `instance` the caller already holds):
BY_EXTERNAL_ID = "external_id"  # upsert: the external ID is required and is the key
BY_EXTERNAL_ID_OR_NATURAL_KEY = "import"  # a sheet: the external ID, else a natural key (e.g. the name)
NEW = "new"  # always a new record (an external ID, if given, must be free)


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

    def history_source(self):
        """What the history rows of this write name as their source (an import, an upsert, an edit)."""
        return getattr(self, "source", None) or {BY_EXTERNAL_ID_OR_NATURAL_KEY: "import", BY_EXTERNAL_ID: "upsert"}.get(
            self.match, "edit")

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
