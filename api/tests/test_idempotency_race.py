"""Two requests with one Idempotency-Key at the same moment (a client's retry racing its
first try) book once, on SQLite and PostgreSQL alike: the key's unique index decides."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory
from api.models import IdempotencyKey
from api.tests.conftest import bearer
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory, next_weekday


@pytest.fixture
def clinic(transactional_db: None) -> tuple[User, DoctorProfile]:
    doctor = DoctorFactory(full_name="Dora Race").doctor_profile
    return PatientFactory(full_name="Alice Race"), doctor


def test_one_key_sent_twice_at_once_books_once(clinic: tuple[User, DoctorProfile]) -> None:
    patient, doctor = clinic
    slot = SlotFactory(doctor=doctor, weekday=2)
    body = {
        "doctor": doctor.slug,
        "slot": str(slot.public_id),
        "date": next_weekday(2, days_ahead=3).isoformat(),
    }
    headers = bearer(patient) | {"Idempotency-Key": "same-key"}
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        try:
            start.wait(timeout=10)
            response = Client().post(
                "/api/v1/appointments", body, content_type="application/json", headers=headers
            )
            answers.append((response.status_code, response.json().get("id", response.content)))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _ in answers] == [201, 201], answers
    assert answers[0][1] == answers[1][1]
    assert Appointment.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
