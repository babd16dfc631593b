"""On PostgreSQL the doctor page's four reads are prepared statements of the connection
(common.rows.cursor): planned once per connection, not once per request. Django's own queries
stay as they were (quoted into the text, never prepared), and the prepared reads give the same
page, the same counts and the same time zone as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import DoctorProfile
from common import rows
from scheduling.models import Slot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
]


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_the_doctor_pages_reads_are_prepared_after_a_few_requests(
    dora: DoctorProfile, monday_9: Slot
) -> None:
    client = Client()
    for _ in range(6):  # psycopg prepares a statement at its sixth run (prepare_threshold 5)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/doctors/{dora.slug}/")
        assert response.status_code == 200
        assert len(queries) == 4
        assert "09:00" in response.text
    statements = prepared()
    for table in (
        "accounts_doctorprofile d",
        "FROM scheduling_slot",
        "FROM scheduling_timeoff",
        "FROM scheduling_appointment",
    ):
        assert [s for s in statements if table in s], (table, statements)
    # Server-side parameters: the statement names no doctor, every doctor's page shares it.
    assert all(dora.slug not in s for s in statements)
    # Django's own cursors quote values into the text and are never prepared.
    for _ in range(6):
        list(DoctorProfile.objects.filter(slug=dora.slug))
    assert not [s for s in prepared() if "accounts_doctorprofile" in s and "d." not in s]


def test_a_prepared_read_gives_timestamps_in_the_connections_zone(dora: DoctorProfile) -> None:
    with rows.cursor() as cursor:
        cursor.execute("SELECT date_joined FROM accounts_user WHERE id = %s", [dora.user_id])
        (joined,) = cursor.fetchone()
    assert joined == dora.user.date_joined
    assert joined.utcoffset() == dt.timedelta(0)
