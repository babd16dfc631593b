"""What the API tells a doctor and a patient about the doctor's day: the queue number a
check-in gets, no free openings while the doctor is paused, extra hours and part-day
absences as the pages show them.

Clock: Monday 1 June 2026, 10:00 Berlin.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import DoctorProfile, User
from api.tests.conftest import ApiClient
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NOW, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_a_check_in_answers_with_its_queue_number(
    as_dora: ApiClient, dora: DoctorProfile, patient: User, other_patient: User
) -> None:
    afternoon = [SlotFactory(doctor=dora, weekday=0, start_time=dt.time(h)) for h in (14, 15)]
    late, early = (
        AppointmentFactory(patient=who, slot=slot, date=TODAY)
        for who, slot in zip((patient, other_patient), reversed(afternoon), strict=True)
    )

    first = as_dora.post(f"/appointments/{late.public_id}/check-in")
    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        second = as_dora.post(f"/appointments/{early.public_id}/check-in")

    assert (first.status_code, first.json()["queue_number"]) == (200, 1)
    assert (second.status_code, second.json()["queue_number"]) == (200, 2)
    queue = as_dora.get("/doctor/queue").json()
    assert [(a["id"], a["queue_number"]) for a in queue] == [
        (str(early.public_id), 2),
        (str(late.public_id), 1),
    ]


def test_a_paused_doctor_has_no_free_openings(
    anonymous: ApiClient, dora: DoctorProfile, monday_9: Slot
) -> None:
    services.set_accepting_bookings(doctor=dora, accepting=False)

    free = anonymous.get(f"/doctors/{dora.slug}/availability?free_only=true").json()
    every = anonymous.get(f"/doctors/{dora.slug}/availability").json()

    assert free["accepting_bookings"] is False
    assert [o for d in free["days"] for o in d["openings"]] == []
    states = {o["state"] for d in every["days"] for o in d["openings"]}
    assert states == {"paused", "past"}  # this morning's 09:00 is past

    services.set_accepting_bookings(doctor=dora, accepting=True)
    again = anonymous.get(f"/doctors/{dora.slug}/availability?free_only=true").json()
    assert {o["state"] for d in again["days"] for o in d["openings"]} == {"free"}
