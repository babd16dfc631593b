"""Booking through the API: the Idempotency-Key, the rules' answers and their codes."""

from __future__ import annotations

import uuid

from django.utils import timezone

from accounts.models import DoctorProfile
from api.models import IdempotencyKey
from api.tests.conftest import ApiClient
from notifications.models import Event
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY
from scheduling.tests.factories import AppointmentFactory


def booking(opening: Slot, **overrides: object) -> dict:
    return {
        "doctor": "dora-doctor",
        "slot": str(opening.public_id),
        "date": NEXT_MONDAY.isoformat(),
        "reason": "Itchy rash",
    } | overrides


def test_same_idempotency_key_twice_books_once(as_alice: ApiClient, monday_10: Slot) -> None:
    key = str(uuid.uuid4())

    first = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": key})
    second = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": key})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert Appointment.objects.count() == 1
    # One appointment, one "booked" event: the replay told nobody anything twice.
    assert Event.objects.filter(type="appointment.booked").count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.key, stored.appointment.public_id) == (key, uuid.UUID(first.json()["id"]))


def test_a_replay_answers_even_after_the_slot_was_retired(
    as_alice: ApiClient, monday_10: Slot
) -> None:
    first = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": "k"})
    Slot._base_manager.filter(pk=monday_10.pk).update(is_active=False)
    DoctorProfile._base_manager.filter(pk=monday_10.doctor_id).update(accepting_bookings=False)

    again = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": "k"})

    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


def test_a_key_reused_for_another_request_is_refused(
    as_alice: ApiClient, monday_9: Slot, monday_10: Slot
) -> None:
    key = "order-42"
    as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": key})

    other = as_alice.post("/appointments", booking(monday_9), **{"Idempotency-Key": key})

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1


def test_keys_belong_to_their_user(
    as_alice: ApiClient, as_bob: ApiClient, monday_9: Slot, monday_10: Slot
) -> None:
    alice = as_alice.post("/appointments", booking(monday_9), **{"Idempotency-Key": "k1"})
    bob = as_bob.post("/appointments", booking(monday_10), **{"Idempotency-Key": "k1"})

    assert alice.status_code == bob.status_code == 201
    assert alice.json()["id"] != bob.json()["id"]
    assert bob.json()["patient"]["name"] == "Bob Patient"


def test_a_failed_booking_keeps_no_key_so_the_client_may_retry(
    as_alice: ApiClient, as_bob: ApiClient, monday_10: Slot
) -> None:
    as_bob.post("/appointments", booking(monday_10))
    taken = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": "try-1"})
    assert taken.status_code == 409
    assert not IdempotencyKey.objects.exists()

    Appointment._base_manager.update(status="cancelled", cancelled_at=timezone.now())
    retried = as_alice.post("/appointments", booking(monday_10), **{"Idempotency-Key": "try-1"})
    assert retried.status_code == 201


def test_slot_taken_is_a_409_with_alternatives(
    as_alice: ApiClient, monday_9: Slot, monday_10: Slot, other_patient: object
) -> None:
    AppointmentFactory(patient=other_patient, slot=monday_10, date=NEXT_MONDAY)
    # Bob holds the slot: Alice's insert meets the partial unique index, the last word.
    response = as_alice.post("/appointments", booking(monday_10))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken"
    assert body["alternatives"]
    assert all(a["state"] == "free" for a in body["alternatives"])
    assert Appointment.objects.count() == 1


def test_the_rules_answer_with_their_codes(
    as_alice: ApiClient, as_dora: ApiClient, monday_10: Slot
) -> None:
    cases = [
        (booking(monday_10, date="2026-06-09"), 422, "wrong_weekday"),
        (booking(monday_10, date="2026-05-25"), 422, "past"),
        (booking(monday_10, date="2027-06-07"), 422, "beyond_horizon"),
        (booking(monday_10, doctor="nobody"), 422, "unknown_doctor"),
        (booking(monday_10, slot=str(uuid.uuid4())), 422, "bad_slot"),
        (booking(monday_10, date="not-a-date"), 422, "validation_error"),
        (booking(monday_10, reason="x" * 1001), 422, "validation_error"),
        (booking(monday_10, reason="nul\x00byte"), 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = as_alice.post("/appointments", body)
        assert (response.status_code, response.json()["code"]) == (status, code), body

    as_dora.put("/doctor/accepting-bookings", {"accepting": False})
    paused = as_alice.post("/appointments", booking(monday_10))
    assert (paused.status_code, paused.json()["code"]) == (409, "not_accepting")
    assert not Appointment.objects.exists()


def test_validation_errors_say_which_field(as_alice: ApiClient, monday_10: Slot) -> None:
    response = as_alice.post("/appointments", {"doctor": "dora-doctor"})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "payload", "slot")}
    assert body["detail"].startswith("body.payload.")


def test_a_body_that_is_not_json_is_a_400(as_alice: ApiClient, monday_10: Slot) -> None:
    response = as_alice.client.post(
        "/api/v1/appointments",
        "{not json",
        content_type="application/json",
        headers=as_alice.headers,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
