"""Plain multi-row INSERTs for the platform's large batch writes (a first night's tens of thousands of
tasks and their audit events), where building a model instance per row costs more than the insert.

`insert_rows(model, columns, rows)` takes plain tuples in the order of `columns` (attribute names:
`account_id`, not `account`); JSON, date and decimal columns are encoded as the field itself would. PostgreSQL gets
pages of multi-row VALUES (psycopg2's execute_values), SQLite executemany. Nothing is returned: a
caller that needs the new ids reads them back by what identifies its batch.

`copy_rows` is the same for rows that cannot conflict with any (an append-only log): PostgreSQL's
COPY, the fastest way in; elsewhere `insert_rows`.
"""

import csv
import io
import json

from django.db import connections
from django.db.models import DateField, DecimalField, JSONField

PAGE = 1000


def insert_rows(model, columns, rows, *, on_conflict_do_nothing=False, using="default"):
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    # Values the driver cannot take as they are (JSON, and on SQLite dates, times and decimals in the
    # text form Django stores them in) are encoded as the field itself would; ids, numbers and texts
    # pass through. (DateTimeField is a DateField.)
    encoders = [(index, field) for index, field in enumerate(fields)
                if isinstance(field, (JSONField, DateField, DecimalField))]
    rows = list(rows)
    if encoders:
        prepared = []
        for row in rows:
            row = list(row)
            for index, field in encoders:
                row[index] = field.get_db_prep_save(row[index], connection)
            prepared.append(row)
        rows = prepared
    head = "INSERT INTO {table} ({cols}) VALUES ".format(
        table=quote(model._meta.db_table), cols=", ".join(quote(field.column) for field in fields))
    tail = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            for start in range(0, len(rows), PAGE):
                execute_values(cursor.cursor, head + "%s" + tail, rows[start:start + PAGE], page_size=PAGE)
        else:
            marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
            for start in range(0, len(rows), PAGE):
                cursor.executemany(head + marks + tail, rows[start:start + PAGE])
    return len(rows)


def copy_rows(model, columns, rows, *, using="default"):
    connection = connections[using]
    if connection.vendor != "postgresql":
        return insert_rows(model, columns, rows, using=using)
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    json_columns = [(index, field.encoder) for index, field in enumerate(fields) if isinstance(field, JSONField)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    count = 0
    for row in rows:
        row = list(row)
        for index, encoder in json_columns:
            row[index] = json.dumps(row[index], cls=encoder)
        writer.writerow([NULL if value is None else value.isoformat() if hasattr(value, "isoformat") else value
                         for value in row])
        count += 1
    buffer.seek(0)
    sql = "COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '{null}')".format(
        table=quote(model._meta.db_table), cols=", ".join(quote(field.column) for field in fields), null=NULL)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, buffer)
    return count


NULL = "\\N"  # COPY's NULL marker here: an empty field is an empty text, not a NULL
