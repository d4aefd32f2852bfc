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

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from workspaces.errors import DomainError, RowErrors

from .accounts import AccountWriter, apply_churn_rules
from .base import BY_EXTERNAL_ID, BY_EXTERNAL_ID_OR_NATURAL_KEY, NEW, Plan, RecordWriter, Row
from .children import ContactWriter, ContractWriter, TouchpointWriter
from .sql import chunks

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



__all__ = [
    "BY_EXTERNAL_ID", "BY_EXTERNAL_ID_OR_NATURAL_KEY", "NEW", "WRITERS", "AccountWriter", "ContactWriter",
    "ContractWriter", "Plan", "RecordWriter", "Row", "TouchpointWriter", "apply_churn_rules", "chunks", "save_one",
    "save_rows",
]
