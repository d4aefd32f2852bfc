"""Moving one workspace's rows to another workspace, possibly of another deployment: the pieces.

The archive (a zip with a manifest and one JSON Lines file per table) belongs to the composition
floor (`cs_platform.portability`). What travels is each app's to say, in its `portability.py`, with
the pieces here:

- `Table(model)`: a model's rows of one workspace, every concrete column but the workspace, read
  in primary-key order (so that rows keep their relative order, and with it every tie-break on
  `id`). Foreign keys travel as the old ids and are rewritten through the `IdMap` on the way in;
  `export_rows(workspace, context)` and `import_rows(workspace, rows, context)` stream, a chunk at
  a time.
- hooks for what a column cannot say by itself: `out(row, context)` on the way out (drop a secret,
  attach a file), `into(row, context)` on the way in (ids inside JSON, credentials that must not
  work again, a job that cannot resume).
- `Part(name, tables, defaults)`: what an app contributes, its tables in the order they are read.

Ids: the target deployment gives every row a new id. `IdMap` remembers old → new per model; a
reference to a row the source no longer had (an id inside JSON, e.g. a deleted segment in a stored
coverage row) becomes the negative of its old id: it still names nothing, and two such references
stay told apart, as they were.
"""

import datetime as dt
import decimal
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import models

from .models import WorkspaceOwned

CHUNK = 2000


class TransferError(Exception):
    """The archive cannot be imported as it is; the message says which table and row, and why."""


def model_key(model):
    """The IdMap's key of a model (or of a model label such as "segments.Segment")."""
    return model.lower() if isinstance(model, str) else model._meta.label_lower


class IdMap:
    """Old id → new id, per model, filled as the tables are imported."""

    def __init__(self):
        self._ids = defaultdict(dict)

    def add(self, model, old, new):
        self._ids[model_key(model)][old] = new

    def find(self, model, old):
        """The new id, or None when the archive had no such row."""
        return self._ids[model_key(model)].get(old)

    def get(self, model, old, *, table=""):
        new = self.find(model, old)
        if new is None:
            raise TransferError(f"{table}: refers to {model_key(model)} {old}, which the archive does not contain.")
        return new

    def json_ref(self, model, old):
        """An id held inside a JSON value: the new id, or (a row the source no longer had) -old."""
        new = self.find(model, old)
        if new is not None:
            return new
        return -abs(int(old)) if old else 0


# --- values as JSON --------------------------------------------------------------------------------
def encode(value):
    """`json.dumps(default=encode)`: the column types JSON has no word for, losslessly."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()  # full precision (DjangoJSONEncoder would cut microseconds)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"{type(value).__name__} is not exported")


def _decode(model_field, value):
    if value is None or isinstance(model_field, models.JSONField):
        return value
    if isinstance(model_field, models.BinaryField):
        return bytes.fromhex(value)
    return model_field.to_python(value)


# --- contexts given to the hooks -------------------------------------------------------------------
@dataclass
class ExportContext:
    workspace: object
    # (name in the archive, storage, name in that storage) of the files that travel with the rows.
    files: list = field(default_factory=list)

    def add_file(self, archive_name, storage, storage_name):
        self.files.append((archive_name, storage, storage_name))


@dataclass
class ImportContext:
    workspace: object
    now: dt.datetime
    idmap: IdMap = field(default_factory=IdMap)
    open_file: object = None  # open_file(archive name) → a binary file object, or None if absent
    # Files written to the storage during the import: removed again if it fails (see cs_platform).
    stored_files: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what an operator should know afterwards

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)


# --- tables ----------------------------------------------------------------------------------------
@contextmanager
def stored_timestamps(model):
    """Let `created_at`/`updated_at` (auto_now_add / auto_now) keep the archive's values on insert.

    Django sets those columns itself on every insert; a restore must keep the times the rows had.
    The switch is per model class, so it lasts only for one bulk insert of the import command.
    """
    switched = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in switched]
    for f in switched:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Table:
    """One model's rows of a workspace. See the module's docstring.

    `scope(workspace)`: the queryset of a model that is not WorkspaceOwned (a token, a many-to-many
    link), narrowed through its parent. `keep_ids=False` for large tables nothing refers to
    (events, snapshots): their old → new ids are not kept in memory. `exclude`: columns that do not
    travel (they take the model's default, or what `into` sets).
    """

    def __init__(self, model, *, scope=None, keep_ids=True, exclude=(), out=None, into=None, name=None):
        self.model = model
        self.name = name or model._meta.label_lower
        self.keep_ids = keep_ids
        self.scope = scope
        self.out, self.into = out, into
        if scope is None and not issubclass(model, WorkspaceOwned):
            raise TypeError(f"{self.name} is not WorkspaceOwned: give the Table a scope(workspace).")
        self.fields = [f for f in model._meta.concrete_fields
                       if not f.primary_key and f.name != "workspace" and f.name not in exclude]
        self.by_attname = {f.attname: f for f in self.fields}

    def __repr__(self):
        return f"Table({self.name})"

    def queryset(self, workspace):
        if self.scope is not None:
            return self.scope(workspace)
        return self.model.objects.for_workspace(workspace)

    # --- out ---
    def export_rows(self, workspace, context):
        """The workspace's rows as JSON-ready dicts {"id": old id, column attname: value}, by id."""
        columns = ["pk", *self.by_attname]
        rows = self.queryset(workspace).order_by("pk").values_list(*columns)
        for values in rows.iterator(chunk_size=CHUNK):
            row = dict(zip(["id", *self.by_attname], values, strict=True))
            if self.out is not None:
                row = self.out(row, context)
            yield row

    # --- in ---
    def import_rows(self, workspace, rows, context):
        """Insert `rows` (dicts as exported) into `workspace`, a chunk at a time; returns how many."""
        count = 0
        rows = iter(rows)
        while chunk := list(islice(rows, CHUNK)):
            objects = [self.build(workspace, row, context) for row in chunk]
            with stored_timestamps(self.model):
                created = self.model._default_manager.bulk_create(objects, batch_size=CHUNK)
            if self.keep_ids:
                for row, obj in zip(chunk, created, strict=True):
                    if obj.pk is None:  # a backend that cannot return ids of a bulk insert
                        raise TransferError(f"{self.name}: the database did not return the new ids.")
                    context.idmap.add(self.model, row["id"], obj.pk)
            count += len(objects)
        return count

    def build(self, workspace, row, context):
        """The unsaved instance of `row` in `workspace`."""
        values = self.values(row, context)
        if issubclass(self.model, WorkspaceOwned):
            values["workspace_id"] = workspace.pk
        return self.model(**values)

    def values(self, row, context):
        """{attname: value} of an exported row: decoded, references renamed, `into` applied."""
        unknown = set(row) - set(self.by_attname) - {"id"}
        if unknown:
            raise TransferError(f"{self.name}: unknown column(s) {', '.join(sorted(unknown))} "
                                "(an archive of a newer version of the platform?).")
        values = {}
        for attname, model_field in self.by_attname.items():
            if attname not in row:
                continue  # a column added after the archive was made: the model's default
            try:
                value = _decode(model_field, row[attname])
            except (ValidationError, ValueError, TypeError) as error:
                raise TransferError(f"{self.name} row {row.get('id')}: {attname}: {error}") from None
            if model_field.is_relation and value is not None:
                value = context.idmap.get(model_field.related_model, value, table=f"{self.name} row {row.get('id')}")
            values[attname] = value
        if self.into is not None:
            values = self.into(values, context)
        return values


@dataclass
class Part:
    """What one app contributes to an archive: its tables, in the order they are imported (a
    table after every table it refers to). `defaults(workspace=)`: run instead, when an archive made
    before this part existed is imported (the app's `ensure_defaults`)."""

    name: str
    tables: list
    defaults: object = None

    def table(self, name):
        return next((t for t in self.tables if t.name == name), None)
