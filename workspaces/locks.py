"""PostgreSQL session advisory locks: "someone is working on this", visible to every process.

The database releases a session lock when the session ends, also when the process holding it is
killed: so a lock tells a running piece of work from one whose worker died, which a status column
alone cannot. Keys are (namespace << 32) + an id; each user of these locks has its own namespace.

SQLite has no such locks and serialises writers itself; there, and with the embedded eager
Celery, nothing runs concurrently and `advisory_lock` always yields True.
"""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(namespace, number):
    """Hold the lock (namespace, number) for the block; yields False, holding nothing, when another
    session holds it. Released at the end of the block, or by the database if this process dies."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (namespace << 32) + number
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
