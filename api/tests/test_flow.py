"""What a new user does with curl, end to end over real HTTP (a live server): get a token,
list dermatologists, read a doctor's free slots, book twice with one Idempotency-Key (one
appointment), cancel."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests
from pytest_django.live_server_helper import LiveServer

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PASSWORD, DoctorFactory
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory


@pytest.fixture
def dermatologist(transactional_db: None) -> DoctorProfile:
    """Dr. Dora Skin, a dermatologist with consultations every weekday at 09:00."""
    dora = DoctorFactory(full_name="Dora Skin").doctor_profile
    dora.specialty.name, dora.specialty.slug = "Dermatologist", "dermatologist"
    dora.specialty.save()
    for weekday in range(5):
        SlotFactory(doctor=dora, weekday=weekday, start_time=dt.time(9))
    DoctorFactory(full_name="Carl Heart")  # another specialty: not listed below
    return dora


def test_token_dermatologists_free_slots_book_twice_cancel(
    live_server: LiveServer, dermatologist: DoctorProfile, patient: User
) -> None:
    api = f"{live_server.url}/api/v1"
    http = requests.Session()

    # 1. A token.
    token = http.post(
        f"{api}/auth/token",
        json={"national_id": patient.national_id, "password": PASSWORD},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access']}"

    # 2. The dermatologists.
    listed = http.get(f"{api}/doctors", params={"specialty": "dermatologist"}, timeout=10)
    assert listed.status_code == 200
    assert [d["name"] for d in listed.json()["items"]] == ["Dr. Dora Skin"]
    slug = listed.json()["items"][0]["slug"]

    # 3. Her free slots.
    availability = http.get(
        f"{api}/doctors/{slug}/availability", params={"free_only": "true"}, timeout=10
    )
    assert availability.status_code == 200
    free = [o for day in availability.json()["days"] for o in day["openings"]]
    assert free
    assert {o["state"] for o in free} == {"free"}
    chosen = free[0]

    # 4. Book, and send the same request again (a retry after a lost answer).
    key = str(uuid.uuid4())
    body = {"doctor": slug, "slot": chosen["slot"], "date": chosen["date"], "reason": "Rash"}
    first = http.post(
        f"{api}/appointments", json=body, headers={"Idempotency-Key": key}, timeout=10
    )
    again = http.post(
        f"{api}/appointments", json=body, headers={"Idempotency-Key": key}, timeout=10
    )
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["starts_at"] == chosen["starts_at"]
    assert Appointment.objects.count() == 1
    mine = http.get(f"{api}/appointments", timeout=10).json()
    assert [a["id"] for a in mine["items"]] == [first.json()["id"]]

    # The slot is no longer free.
    after = http.get(f"{api}/doctors/{slug}/availability", timeout=10).json()
    states = {(o["slot"], o["date"]): o["state"] for day in after["days"] for o in day["openings"]}
    assert states[(chosen["slot"], chosen["date"])] == "taken"

    # 5. Cancel.
    cancelled = http.post(f"{api}/appointments/{first.json()['id']}/cancel", timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_by"] == "patient"
    assert Appointment.objects.get().status == "cancelled"
