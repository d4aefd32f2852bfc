"""Plain-row INSERTs for the platform's large batch writes (a first night's tens of thousands of runs,
tasks and their audit events), where building a model instance per row costs more than the insert.

`insert_rows(model, columns, rows)` takes plain tuples in the order of `columns` (attribute names:
`account_id`, not `account`); JSON, date and decimal columns are encoded as the field itself would.
With `returning` (column names) it returns those columns of the rows it inserted: a row skipped by
`on_conflict_do_nothing` (a concurrent writer's, a duplicate) is not among them, so a caller learns
exactly what it wrote without reading the table back.

- PostgreSQL: the rows go in through COPY, the fastest way in. Where a row may conflict or the new
  ids are wanted, COPY fills a temporary table of the same column types and one INSERT … SELECT …
  ON CONFLICT DO NOTHING RETURNING moves them over.
- SQLite: pages of multi-row VALUES (with RETURNING where asked).

`copy_rows` is `insert_rows` for rows that cannot conflict with any (an append-only log).
"""

import csv
import io
import json

from django.db import connections
from django.db.models import DateField, DecimalField, JSONField

PAGE = 1000
STAGE = "insert_rows_stage"  # a temporary table: private to the connection, dropped after each use
MAX_SQLITE_VARIABLES = 32766  # the most parameters one SQLite statement takes
NULL = "\\N"  # COPY's NULL marker here: an empty field is an empty text, not a NULL


def insert_rows(model, columns, rows, *, on_conflict_do_nothing=False, returning=None, using="default"):
    """Insert `rows`; the number inserted, or with `returning` the inserted rows' `returning` columns."""
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in columns]
    rows = list(rows)
    if connection.vendor == "postgresql":
        return _insert_by_copy(connection, model, fields, rows, on_conflict_do_nothing=on_conflict_do_nothing,
                               returning=returning)
    return _insert_by_values(connection, model, fields, rows, on_conflict_do_nothing=on_conflict_do_nothing,
                             returning=returning)


def copy_rows(model, columns, rows, *, using="default"):
    return insert_rows(model, columns, rows, using=using)


def _columns(connection, model, names):
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in names)


def _insert_by_copy(connection, model, fields, rows, *, on_conflict_do_nothing, returning):
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    cols = ", ".join(quote(field.column) for field in fields)
    buffer = _csv(fields, rows)
    with connection.cursor() as cursor:
        if not on_conflict_do_nothing and not returning:
            cursor.cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
            return len(rows)
        # The stage has the target's column types (CREATE TABLE AS copies no constraints, so COPY
        # refuses nothing the INSERT would accept). Dropped first too: an earlier call on this
        # connection that failed outside a transaction may have left it behind.
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} AS SELECT {cols} FROM {table} WITH NO DATA")
        cursor.cursor.copy_expert(f"COPY {STAGE} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')", buffer)
        conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
        back = f" RETURNING {_columns(connection, model, returning)}" if returning else ""
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {STAGE}{conflict}{back}")
        result = [tuple(row) for row in cursor.fetchall()] if returning else cursor.rowcount
        cursor.execute(f"DROP TABLE {STAGE}")
    return result


def _csv(fields, rows):
    json_columns = [(index, field.encoder) for index, field in enumerate(fields) if isinstance(field, JSONField)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        if json_columns:
            row = list(row)
            for index, encoder in json_columns:
                row[index] = json.dumps(row[index], cls=encoder)
        writer.writerow([NULL if value is None else value.isoformat() if hasattr(value, "isoformat") else value
                         for value in row])
    buffer.seek(0)
    return buffer


def _insert_by_values(connection, model, fields, rows, *, on_conflict_do_nothing, returning):
    # Values the driver cannot take as they are (JSON, and on SQLite dates, times and decimals in the
    # text form Django stores them in) are encoded as the field itself would; ids, numbers and texts
    # pass through. (DateTimeField is a DateField.)
    encoders = [(index, field) for index, field in enumerate(fields)
                if isinstance(field, (JSONField, DateField, DecimalField))]
    if encoders:
        prepared = []
        for row in rows:
            row = list(row)
            for index, field in encoders:
                row[index] = field.get_db_prep_save(row[index], connection)
            prepared.append(row)
        rows = prepared
    quote = connection.ops.quote_name
    head = "INSERT INTO {table} ({cols}) VALUES ".format(
        table=quote(model._meta.db_table), cols=", ".join(quote(field.column) for field in fields))
    tail = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted = [] if returning else 0
    per_page = min(PAGE, MAX_SQLITE_VARIABLES // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_page):
            page = rows[start:start + per_page]
            if returning:
                # One statement per page: RETURNING needs it (executemany returns nothing).
                cursor.execute(head + ", ".join([marks] * len(page)) + tail
                               + f" RETURNING {_columns(connection, model, returning)}",
                               [value for row in page for value in row])
                inserted += [tuple(row) for row in cursor.fetchall()]
            else:
                cursor.executemany(head + marks + tail, page)
                inserted += cursor.rowcount  # summed over the page; a skipped conflict adds nothing
    return inserted
