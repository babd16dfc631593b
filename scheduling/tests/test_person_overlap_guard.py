"""The database's per-person overlap guard (scheduling.person_overlap) outlives migrations.

On SQLite it is two triggers on the appointment table, and SQLite alters a table by building
a new one and copying the rows over: the triggers of the old table are gone with it. The
second test runs the real `manage.py migrate` on a throwaway SQLite file, with one migration
more than the project has: an AlterField on the appointment table that forces that rebuild.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from scheduling import person_overlap

# After the project's last scheduling migration: cancellation_reason one character longer.
# SQLite cannot change a column's type in place, so Django rebuilds the table.
REBUILD = """
from django.db import migrations
from django.utils.module_loading import import_string

from scheduling.models import Appointment

name, path, args, kwargs = Appointment._meta.get_field("cancellation_reason").deconstruct()
kwargs["max_length"] += 1


class Migration(migrations.Migration):
    dependencies = [("scheduling", "{leaf}")]
    operations = [
        migrations.AlterField("appointment", "cancellation_reason", import_string(path)(**kwargs))
    ]
"""

SETTINGS = """
from clinic.settings_test import *  # noqa: F403

MIGRATION_MODULES = {"scheduling": "rebuild_migrations"}
"""


@pytest.mark.django_db
def test_the_test_database_has_the_guard_and_ensure_adds_nothing_to_it() -> None:
    assert person_overlap.present(connection)

    assert person_overlap.ensure(connection) is False
    assert person_overlap.present(connection)


def _project_with_a_rebuild(tmp_path: Path) -> Path:
    """A package of scheduling's migrations plus the rebuilding one, and settings that use
    it; returns the directory to put on PYTHONPATH."""
    base = Path(settings.BASE_DIR)
    package = tmp_path / "rebuild_migrations"
    shutil.copytree(
        base / "scheduling" / "migrations", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("scheduling")
    (package / "9999_rebuild_appointment.py").write_text(REBUILD.format(leaf=leaf[1]))
    (tmp_path / "rebuild_settings.py").write_text(SETTINGS)
    return tmp_path


def _insert(db: sqlite3.Connection, *, slot_id: int, starts: str, ends: str) -> None:
    """An open appointment row of patient 1, past every rule but the database's own (foreign
    keys are not enforced by a plain sqlite3 connection): each required column gets a value
    of its type."""
    given = {
        "patient_id": 1,
        "dependant_id": None,
        "doctor_id": 1,
        "slot_id": slot_id,
        "date": starts[:10],
        "starts_at": starts,
        "ends_at": ends,
        "status": "scheduled",
        "public_id": uuid.uuid4().hex,
    }
    row: dict[str, object] = {}
    for _cid, name, kind, notnull, default, pk in db.execute(
        f"PRAGMA table_info({person_overlap.TABLE})"
    ):
        if pk:
            continue
        if name in given:
            row[name] = given[name]
        elif notnull and default is None:
            kind = kind.lower()
            row[name] = (
                1
                if kind.startswith(("integer", "bool", "bigint", "smallint"))
                else "2030-01-01 00:00:00"
                if "date" in kind
                else "0"
                if "decimal" in kind
                else ""
            )
    # The table's own column names and placeholders: no value is spliced into the SQL.
    columns, marks = ", ".join(row), ", ".join("?" for _ in row)
    sql = f"INSERT INTO {person_overlap.TABLE} ({columns}) VALUES ({marks})"  # noqa: S608
    db.execute(sql, list(row.values()))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the triggers are SQLite's")
def test_a_migration_that_rebuilds_the_appointment_table_keeps_the_guard(tmp_path: Path) -> None:
    extra = _project_with_a_rebuild(tmp_path)
    db_path = tmp_path / "throwaway.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_SETTINGS_MODULE": "rebuild_settings",
        "PYTHONPATH": os.pathsep.join([str(extra), str(settings.BASE_DIR)]),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "1"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "9999_rebuild_appointment... OK" in migrate.stdout

    db = sqlite3.connect(db_path)
    try:
        (table_sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
            [person_overlap.TABLE],
        ).fetchone()
        # The migration did rebuild the table: the column's new length is in its definition.
        assert '"cancellation_reason" varchar(301)' in table_sql
        triggers = {
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                [person_overlap.TABLE],
            )
        }
        assert set(person_overlap.TRIGGERS) <= triggers

        # And they refuse: one person, two open appointments at overlapping times.
        _insert(db, slot_id=1, starts="2030-01-07 08:00:00", ends="2030-01-07 08:30:00")
        with pytest.raises(sqlite3.IntegrityError, match=person_overlap.NAME):
            _insert(db, slot_id=2, starts="2030-01-07 08:15:00", ends="2030-01-07 08:45:00")
        _insert(db, slot_id=3, starts="2030-01-07 08:30:00", ends="2030-01-07 09:00:00")
    finally:
        db.close()
