"""The audit table's append-only triggers (audit.triggers) outlive migrations.

On SQLite they are triggers on the table, and SQLite alters a table by building a new one and
copying the rows over: the old table's triggers are gone with it. The second test runs the
real `manage.py migrate` on a throwaway SQLite file, with one migration more than the project
has: an AlterField on the audit table that forces that rebuild.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from audit import triggers

# After the project's last audit migration: `detail` one character longer. SQLite cannot
# change a column's type in place, so Django rebuilds the table.
REBUILD = """
from django.db import migrations
from django.utils.module_loading import import_string

from audit.models import AuditEntry

name, path, args, kwargs = AuditEntry._meta.get_field("detail").deconstruct()
kwargs["max_length"] += 1


class Migration(migrations.Migration):
    dependencies = [("audit", "{leaf}")]
    operations = [migrations.AlterField("auditentry", "detail", import_string(path)(**kwargs))]
"""

SETTINGS = """
from clinic.settings_test import *  # noqa: F403

MIGRATION_MODULES = {"audit": "rebuild_audit_migrations"}
"""


@pytest.mark.django_db
def test_the_test_database_has_the_triggers_and_ensure_adds_nothing() -> None:
    assert triggers.present(connection)

    assert triggers.ensure(connection) is False
    assert triggers.present(connection)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a rebuilt table is SQLite's")
def test_a_migration_that_rebuilds_the_audit_table_keeps_it_append_only(tmp_path: Path) -> None:
    base = Path(settings.BASE_DIR)
    package = tmp_path / "rebuild_audit_migrations"
    shutil.copytree(
        base / "audit" / "migrations", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    (leaf,) = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("audit")
    (package / "9999_rebuild_auditentry.py").write_text(REBUILD.format(leaf=leaf[1]))
    (tmp_path / "rebuild_settings.py").write_text(SETTINGS)
    db_path = tmp_path / "throwaway.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_SETTINGS_MODULE": "rebuild_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(base)]),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "1"],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "9999_rebuild_auditentry... OK" in migrate.stdout

    db = sqlite3.connect(db_path)
    try:
        (table_sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [triggers.TABLE]
        ).fetchone()
        # The migration did rebuild the table: the column's new length is in its definition.
        assert '"detail" varchar(301)' in table_sql

        # And the table still refuses to change what it holds.
        db.execute(
            f"INSERT INTO {triggers.TABLE} (at, action, actor_label, object_type,"  # noqa: S608
            " object_key, object_repr, source, user_agent, request, detail)"
            " VALUES ('2030-01-01 00:00:00', 'x', 'x', '', '', '', 'x', '', '', '')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
            db.execute(f"UPDATE {triggers.TABLE} SET detail = 'changed'")  # noqa: S608
        with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
            db.execute(f"DELETE FROM {triggers.TABLE}")  # noqa: S608
    finally:
        db.close()
