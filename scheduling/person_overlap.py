"""The database's own guard of the overlap rule: one person never holds two open
appointments that overlap in time. The person is the patient, or the family member the
patient booked for (`dependant`): a parent may take two children to two doctors at once,
but not one child to two.

The booking service checks the rule first (under the patient's lock) for a clear message;
this guard makes it hold whatever the path (admin, a script, a race the lock missed).
PostgreSQL: an exclusion constraint over the patient, the dependant (0 for none) and the
time range (btree_gist). SQLite, which has none, refuses the row in BEFORE INSERT and
BEFORE UPDATE triggers; every SQLite writer takes its turn, so a trigger cannot be raced.

Created by scheduling's migration 0006, and made sure of after every `migrate` (scheduling's
AppConfig runs `ensure()` on post_migrate): SQLite changes a table the way it can, by building
a new one and copying the rows over, and the triggers of the old table go with it; any later
migration that alters the appointment table (a field's type, a check constraint) would drop
them silently. `ensure()` creates what is missing and nothing else, so it may run any number
of times; test_person_overlap_guard runs such a migration and fails if they are missing.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

NAME = "scheduling_appointment_person_no_overlap"
TABLE = "scheduling_appointment"
_OPEN = "('scheduled', 'checked_in')"

# Constants of ours only, no input: the f-string builds fixed DDL.
_SQLITE_CLASH = f"""
    SELECT RAISE(ABORT, '{NAME}')
    WHERE EXISTS (
        SELECT 1 FROM {TABLE} other
        WHERE other.patient_id = NEW.patient_id
          AND COALESCE(other.dependant_id, 0) = COALESCE(NEW.dependant_id, 0)
          AND other.status IN {_OPEN}
          AND other.starts_at < NEW.ends_at AND other.ends_at > NEW.starts_at
          AND other.id IS NOT NEW.id
    );"""  # noqa: S608

_SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS {NAME}_insert BEFORE INSERT ON {TABLE}
        WHEN NEW.status IN {_OPEN}
        BEGIN {_SQLITE_CLASH} END""",
    f"""CREATE TRIGGER IF NOT EXISTS {NAME}_update BEFORE UPDATE ON {TABLE}
        WHEN NEW.status IN {_OPEN}
        BEGIN {_SQLITE_CLASH} END""",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {NAME}_insert", f"DROP TRIGGER IF EXISTS {NAME}_update"]

_POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE {TABLE} ADD CONSTRAINT {NAME} EXCLUDE USING gist (
        patient_id WITH =,
        (COALESCE(dependant_id, 0)) WITH =,
        tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN {_OPEN})""",
]
_POSTGRES_DROP = [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {NAME}"]

TRIGGERS = (f"{NAME}_insert", f"{NAME}_update")
# The migration that first creates the guard: before it (or once it is unapplied) there is
# nothing to keep.
MIGRATION = ("scheduling", "0006_person_overlap_guard")


def _statements(connection: BaseDatabaseWrapper, *, create: bool) -> list[str]:
    if connection.vendor == "sqlite":
        return _SQLITE_CREATE if create else _SQLITE_DROP
    if connection.vendor == "postgresql":
        return _POSTGRES_CREATE if create else _POSTGRES_DROP
    raise NotImplementedError(f"No person overlap guard for {connection.vendor}.")


def create(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=True):
            cursor.execute(sql)


def drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=False):
            cursor.execute(sql)


def present(connection: BaseDatabaseWrapper) -> bool:
    """Whether the whole guard is in place: both triggers (SQLite), the constraint
    (PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
                " AND name IN (%s, %s)",
                [TABLE, *TRIGGERS],
            )
            return bool(cursor.fetchone()[0] == len(TRIGGERS))
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
            [NAME, TABLE],
        )
        return bool(cursor.fetchone()[0] == 1)


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Creates the guard where it is missing (after a migration rebuilt the table on SQLite);
    returns whether it had to. Idempotent: a present guard is left as it is."""
    if present(connection):
        return False
    # On SQLite each CREATE TRIGGER says IF NOT EXISTS: a trigger still there is left alone.
    create(connection)
    return True


def refused(exc: Exception) -> bool:
    """Whether a database error is this guard's refusal."""
    return NAME in str(exc)
