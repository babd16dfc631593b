"""The database's own guard of the overlap rule: one person never holds two open
appointments that overlap in time. The person is the patient, or the family member the
patient booked for (`dependant`): a parent may take two children to two doctors at once,
but not one child to two.

The booking service checks the rule first (under the patient's lock) for a clear message;
this guard makes it hold whatever the path (admin, a script, a race the lock missed).
PostgreSQL: an exclusion constraint over the patient, the dependant (0 for none) and the
time range (btree_gist). SQLite, which has none, refuses the row in BEFORE INSERT and
BEFORE UPDATE triggers; every SQLite writer takes its turn, so a trigger cannot be raced.

Created by scheduling's migration 0006. A later migration that rebuilds the appointment
table on SQLite (adding a check constraint does) drops its triggers and must run
`create()` again; test_family_members fails if they are missing.
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


def refused(exc: Exception) -> bool:
    """Whether a database error is this guard's refusal."""
    return NAME in str(exc)
