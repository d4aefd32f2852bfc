"""Set-based writing helpers of the writers: portable SQL for many rows at once."""

from django.db import connections, router

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
