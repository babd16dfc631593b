"""Fixtures every app's tests share: the clinic's fixed actors."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, DoctorFactory, PatientFactory

# Property-based tests (hypothesis): few examples by default so the suite stays fast;
# HYPOTHESIS_PROFILE=thorough for a long hunt. Each example runs in a savepoint rolled back at
# its end, so function-scoped fixtures (the database scene) are safe to share between them.
hypothesis_settings.register_profile(
    "clinic",
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("clinic"), max_examples=500
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "clinic"))


def pytest_configure(config: pytest.Config) -> None:
    # The SQLite test databases are files in var/ (clinic.settings_test).
    root = Path(__file__).resolve().parent
    (root / "var").mkdir(exist_ok=True)
    # The translations as scripts/bootstrap compiles them, for a run that did not start from
    # `make`: each .mo missing or older than its .po is built again (msgfmt, GNU gettext).
    if shutil.which("msgfmt"):
        for po in (root / "locale").rglob("*.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], check=True)  # noqa: S603, S607


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers() -> Iterator[None]:
    """Transactional tests end with a flush of every table, which the audit table's
    append-only triggers refuse: the flush alone lifts them, and puts them back after."""
    from audit import triggers

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        with triggers.suspended(self.connection):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters and cached doctor pages (in the caches) do not carry over from one
    test to the next: rolled-back rows reuse their ids on SQLite, and a grid cached by an
    earlier test must not answer for a doctor of this one."""
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in the clinic's default language: a request in German through the
    test client leaves German active in the thread (LocaleMiddleware activates, nothing
    deactivates), and a later test calling a service directly would read German messages."""
    translation.deactivate()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def admin_user(db: None) -> User:
    """The clinic's first admin, made the way the demo makes it (replaces pytest-django's)."""
    return services.create_admin(
        national_id="100000001",
        password=PASSWORD,
        email="admin@clinic.example",
        full_name="Ada Admin",
        phone="+49 30 2000001",
    )


@pytest.fixture
def patient(db: None) -> User:
    """Alice: an active patient."""
    return PatientFactory(full_name="Alice Patient", national_id="300000001")


@pytest.fixture
def other_patient(db: None) -> User:
    """Bob: another active patient."""
    return PatientFactory(full_name="Bob Patient", national_id="300000003")


@pytest.fixture
def doctor(db: None) -> User:
    """An active doctor with a complete profile."""
    return DoctorFactory(full_name="Dora Doctor", national_id="200000001")
