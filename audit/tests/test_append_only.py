"""Nobody changes or removes an audit entry: not Django admin (superusers included), not the
ORM, not SQL sent to the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts.models import User
from audit import recorder
from audit.models import AppendOnly, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(db: None) -> AuditEntry:
    return recorder.record(
        "appointment.rescheduled",
        object_type="scheduling.appointment",
        object_key="5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30",
        before={"date": "2026-06-08"},
        after={"date": "2026-06-10"},
    )


def untouched(entry: AuditEntry) -> bool:
    row = AuditEntry.objects.values("action", "before", "after").get(pk=entry.pk)
    return row == {
        "action": "appointment.rescheduled",
        "before": {"date": "2026-06-08"},
        "after": {"date": "2026-06-10"},
    }


@pytest.mark.parametrize("who", ["superuser", "admin_user"])
def test_admins_read_but_cannot_add_change_or_delete(
    client: Client, request: pytest.FixtureRequest, entry: AuditEntry, who: str
) -> None:
    user: User = request.getfixturevalue(who)
    client.force_login(user)
    base = "/admin/audit/auditentry/"

    listing = client.get(base)
    page = client.get(f"{base}{entry.pk}/change/")

    assert listing.status_code == 200
    assert 'name="action"' not in listing.content.decode(), "no bulk actions (delete)"
    assert page.status_code == 200
    assert "2026-06-10" in page.content.decode()
    assert 'name="_save"' not in page.content.decode(), "a read-only page: nothing to save"
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}{entry.pk}/change/", {"action": "forged"}).status_code == 403
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert untouched(entry)


def test_patients_and_doctors_do_not_see_the_trail(
    client: Client, entry: AuditEntry, patient: User
) -> None:
    client.force_login(patient)

    response = client.get("/admin/audit/auditentry/")

    assert response.status_code == 404


def test_the_orm_refuses_to_change_or_delete(entry: AuditEntry) -> None:
    entry.action = "nothing.happened"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="nothing.happened")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert untouched(entry)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET action = 'nothing.happened'",
        "UPDATE audit_auditentry SET after = NULL WHERE id = %s",
        "DELETE FROM audit_auditentry",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_sql_that_changes_or_deletes(entry: AuditEntry, sql: str) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk] if "%s" in sql else None)

    assert untouched(entry)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate(entry: AuditEntry) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # The test's transaction holds deferred foreign key checks, which PostgreSQL would name
        # as the reason first; checked now, only the trigger is left to refuse.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditentry CASCADE")

    assert untouched(entry)


def test_new_entries_can_still_be_added(entry: AuditEntry) -> None:
    recorder.record("login.failed", object_type="accounts.user", object_key="300000001")

    assert AuditEntry.objects.count() == 2
