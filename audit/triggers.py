"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL.

Created by migration 0002. SQLite changes a table the way it can, by building a new one and
copying the rows over, and the old table's triggers go with it: a later migration that
rebuilds the audit table would drop them silently. So the app runs `ensure()` after every
migrate (AuditConfig, on post_migrate): it creates what is missing and nothing else.
`suspended()` exists for one caller: the test suite's flush between transactional tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditentry"
# The migration that first creates the triggers: before it there is nothing to keep.
MIGRATION = ("audit", "0002_append_only")
_SQLITE_TRIGGERS = ("audit_entry_no_update", "audit_entry_no_delete")
_POSTGRES_TRIGGERS = ("audit_entry_no_change", "audit_entry_no_truncate")

_SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]

_POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
    f"""CREATE OR REPLACE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    f"""CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_entry_no_change ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_entry_no_truncate ON {TABLE}",
]


def _statements(connection: BaseDatabaseWrapper, *, create: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return _SQLITE_CREATE if create else _SQLITE_DROP
    if connection.vendor == "postgresql":
        return _POSTGRES_CREATE if create else _POSTGRES_DROP
    raise NotImplementedError(f"No append-only triggers for {connection.vendor}.")


def create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=True):
            cursor.execute(sql)


def drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=False):
            cursor.execute(sql)


def present(connection: BaseDatabaseWrapper) -> bool:
    """Whether every append-only trigger is on the table."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            names = _SQLITE_TRIGGERS
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
                " AND name IN (%s, %s)",
                [TABLE, *names],
            )
        else:
            names = _POSTGRES_TRIGGERS
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass"
                " AND tgname IN (%s, %s)",
                [TABLE, *names],
            )
        return bool(cursor.fetchone()[0] == len(names))


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Creates the triggers where they are missing; returns whether it had to. Idempotent:
    triggers in place are left as they are."""
    if present(connection):
        return False
    create(connection)
    return True


@contextmanager
def suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    drop(connection)
    try:
        yield
    finally:
        create(connection)
