"""The patient's pages: the list, one appointment, cancel and reschedule.

Clock: Monday 1 June 2026, 10:00 Berlin. Dora works Mondays 09:00-09:30; Alice holds
next Monday's (8 June).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorProfileFactory, PatientFactory
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, NOW, TODAY
from scheduling.tests.view_helpers import assert_no_integer_ids, booked, html, is_fragment, slot_at

pytestmark = pytest.mark.django_db

Status = Appointment.Status
MONDAY_15 = dt.date(2026, 6, 15)
MONDAY_22 = dt.date(2026, 6, 22)


@pytest.fixture
def alice(client: Client, patient: User, now: dt.datetime) -> User:
    client.force_login(patient)
    return patient


@pytest.fixture
def appointment(alice: User, monday_9: Slot) -> Appointment:
    return booked(monday_9, NEXT_MONDAY, patient=alice, reason="Check-up")


def detail_url(appointment: Appointment) -> str:
    return f"/appointments/{appointment.public_id}/"


def state(appointment: Appointment) -> tuple:
    appointment.refresh_from_db()
    return (
        appointment.status,
        appointment.slot_id,
        appointment.date,
        appointment.starts_at,
        appointment.cancelled_at,
    )


# --- The list -------------------------------------------------------------------------------


def test_list_shows_upcoming_and_past_with_their_status(
    client: Client, alice: User, other_patient: User, appointment: Appointment, monday_9: Slot
) -> None:
    completed = booked(monday_9, dt.date(2026, 5, 25), patient=alice, status=Status.COMPLETED)
    no_show = booked(monday_9, dt.date(2026, 5, 18), patient=alice, status=Status.NO_SHOW)
    cancelled = booked(
        monday_9, MONDAY_15, patient=alice, status=Status.CANCELLED, cancelled_at=NOW
    )
    bobs = booked(monday_9, MONDAY_22, patient=other_patient)

    response = client.get("/appointments/")

    assert response.status_code == 200
    assert response.context["upcoming"] == [appointment]
    assert response.context["past"] == [cancelled, completed, no_show]
    page = html(response)
    upcoming, history = page.split('id="past-h"')
    assert detail_url(appointment) in upcoming
    assert "Scheduled" in upcoming
    for past in (completed, no_show, cancelled):
        assert detail_url(past) in history
    for label in ("Completed", "No-show", "Cancelled"):
        assert f">{label}</span>" in history
    assert 'Monday 8 June 2026, <span dir="ltr">09:00–09:30</span>' in upcoming
    assert detail_url(bobs) not in page
    assert_no_integer_ids(page)


@pytest.mark.usefixtures("alice")
def test_an_empty_list_invites_to_book(client: Client) -> None:
    page = html(client.get("/appointments/"))

    assert "You have no upcoming appointments." in page
    assert "No past appointments yet." in page


# --- One appointment ------------------------------------------------------------------------


def test_detail_shows_the_appointment_with_its_actions(
    client: Client, appointment: Appointment
) -> None:
    response = client.get(detail_url(appointment))

    assert response.status_code == 200
    page = html(response)
    assert "Appointment with Dr. Dora Doctor" in page
    assert "Monday 8 June 2026" in page
    assert "09:00–09:30" in page
    assert "Check-up" in page
    assert f'href="/appointments/{appointment.public_id}/cancel/"' in page
    assert f'href="/appointments/{appointment.public_id}/reschedule/"' in page
    assert "Medical history" not in page
    assert_no_integer_ids(page)


def test_a_past_appointment_offers_no_changes(client: Client, alice: User, monday_9: Slot) -> None:
    done = booked(monday_9, dt.date(2026, 5, 25), patient=alice, status=Status.COMPLETED)

    page = html(client.get(detail_url(done)))

    assert ">Completed</span>" in page
    assert "/cancel/" not in page
    assert "/reschedule/" not in page


# --- Cancel ---------------------------------------------------------------------------------


def test_cancel_asks_first(client: Client, appointment: Appointment) -> None:
    response = client.get(f"{detail_url(appointment)}cancel/")

    assert response.status_code == 200
    assert "Cancel the appointment?" in html(response)
    assert state(appointment)[0] == Status.SCHEDULED


def test_cancel_frees_the_slot_for_another_patient(
    client: Client, alice: User, other_patient: User, appointment: Appointment, monday_9: Slot
) -> None:
    dora = appointment.doctor

    response = client.post(f"{detail_url(appointment)}cancel/")

    assert response.status_code == 302
    assert response["Location"] == detail_url(appointment)
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancelled_by == alice
    assert appointment.cancelled_at == NOW

    bob = Client()
    bob.force_login(other_patient)
    rebook = bob.post(
        f"/doctors/{dora.slug}/book/",
        {"date": "2026-06-08", "slot": str(monday_9.public_id)},
    )
    assert rebook.status_code == 302
    bobs = Appointment.objects.get(patient=other_patient)
    assert (bobs.slot, bobs.date, bobs.status) == (monday_9, NEXT_MONDAY, Status.SCHEDULED)


def test_cancel_after_the_start_is_refused(client: Client, alice: User, monday_9: Slot) -> None:
    started = booked(monday_9, TODAY, patient=alice)  # 09:00 today; it is 10:00
    before = state(started)

    response = client.post(f"{detail_url(started)}cancel/")

    assert response.status_code == 409
    assert "has already started and can no longer be cancelled" in html(response)
    assert state(started) == before


def test_a_completed_appointment_cannot_be_cancelled(
    client: Client, alice: User, monday_9: Slot
) -> None:
    done = booked(monday_9, dt.date(2026, 5, 25), patient=alice, status=Status.COMPLETED)
    before = state(done)

    response = client.post(f"{detail_url(done)}cancel/")

    assert response.status_code == 409
    assert "A completed appointment cannot be cancelled." in html(response)
    assert state(done) == before


# --- Reschedule -----------------------------------------------------------------------------


def reschedule_url(appointment: Appointment) -> str:
    return f"{detail_url(appointment)}reschedule/"


def test_reschedule_shows_the_grid_linking_back_to_itself(
    client: Client, appointment: Appointment, monday_9: Slot
) -> None:
    response = client.get(reschedule_url(appointment))

    assert response.status_code == 200
    page = html(response)
    here = reschedule_url(appointment)
    assert f'href="{here}?date=2026-06-15&amp;slot={monday_9.public_id}"' in page
    assert "/book/" not in page
    assert "Taken: </span>09:00" in page  # Alice's own current time
    assert f'href="{here}?start=2026-06-15"' in page
    assert_no_integer_ids(page)


def test_reschedule_grid_refreshes_alone_for_htmx(
    client: Client, appointment: Appointment, monday_9: Slot
) -> None:
    response = client.get(
        reschedule_url(appointment), {"start": "2026-06-15"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    page = html(response)
    assert is_fragment(page)
    assert f'?date=2026-06-15&amp;slot={monday_9.public_id}"' in page


def test_choosing_a_new_time_asks_to_confirm(
    client: Client, appointment: Appointment, monday_9: Slot
) -> None:
    before = state(appointment)

    response = client.get(
        reschedule_url(appointment), {"date": "2026-06-15", "slot": str(monday_9.public_id)}
    )

    assert response.status_code == 200
    page = html(response)
    assert "New time: <strong>Monday 15 June 2026 at 09:00" in page
    assert "Move my appointment to this time" in page
    assert state(appointment) == before


def test_reschedule_moves_the_same_appointment(
    client: Client, other_patient: User, appointment: Appointment, monday_9: Slot
) -> None:
    public_id, pk = appointment.public_id, appointment.pk

    response = client.post(
        reschedule_url(appointment), {"date": "2026-06-15", "slot": str(monday_9.public_id)}
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(appointment)
    moved = Appointment.objects.get()
    assert (moved.pk, moved.public_id) == (pk, public_id)
    assert moved.date == MONDAY_15
    assert moved.status == Status.SCHEDULED
    assert moved.starts_at == dt.datetime(2026, 6, 15, 7, tzinfo=dt.UTC)
    assert moved.rescheduled_at == NOW
    # The old time is free again.
    bob = Client()
    bob.force_login(other_patient)
    assert (
        bob.post(
            f"/doctors/{moved.doctor.slug}/book/",
            {"date": "2026-06-08", "slot": str(monday_9.public_id)},
        ).status_code
        == 302
    )


def test_reschedule_to_a_taken_slot_keeps_the_old_time(
    client: Client, other_patient: User, appointment: Appointment, monday_9: Slot
) -> None:
    booked(monday_9, MONDAY_15, patient=other_patient)
    before = state(appointment)

    response = client.post(
        reschedule_url(appointment), {"date": "2026-06-15", "slot": str(monday_9.public_id)}
    )

    assert response.status_code == 409
    assert "this slot was just taken" in html(response)
    assert state(appointment) == before
    assert Appointment.objects.filter(date=MONDAY_15).get().patient == other_patient


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({}, 400),
        ({"date": "2026-06-15"}, 400),
        ({"date": "2026-06-15", "slot": "42"}, 400),
        ({"date": "someday", "slot": "SLOT"}, 400),
        # A well-formed choice the rules refuse: the API's status for "wrong_weekday".
        ({"date": "2026-06-16", "slot": "SLOT"}, 422),
        ({"date": "2026-06-15", "slot": "OTHER"}, 400),
    ],
    ids=["nothing", "no-slot", "integer-slot", "bad-date", "wrong-weekday", "other-doctor"],
)
def test_reschedule_with_a_bad_choice_is_refused_and_changes_nothing(
    client: Client, appointment: Appointment, monday_9: Slot, data: dict[str, str], status: int
) -> None:
    otto_slot = slot_at(DoctorProfileFactory(), 0, dt.time(9))
    swap = {"SLOT": str(monday_9.public_id), "OTHER": str(otto_slot.public_id)}
    data = {k: swap.get(v, v) for k, v in data.items()}
    before = state(appointment)

    response = client.post(reschedule_url(appointment), data)

    assert response.status_code == status
    assert 'class="form-errors"' in html(response)
    assert state(appointment) == before


def test_the_doctor_sees_the_patients_medical_history(
    client: Client, alice: User, appointment: Appointment, doctor: User
) -> None:
    alice.patient_profile.medical_history = "Allergic to penicillin."
    alice.patient_profile.save()
    client.force_login(doctor)

    page = html(client.get(detail_url(appointment)))

    assert "Allergic to penicillin." in page


def test_a_stranger_cannot_reach_the_appointment(client: Client, appointment: Appointment) -> None:
    client.force_login(PatientFactory())
    before = state(appointment)

    assert client.get(detail_url(appointment)).status_code == 404
    for path in ("cancel/", "reschedule/"):
        assert client.get(detail_url(appointment) + path).status_code == 404
        posted = client.post(
            detail_url(appointment) + path,
            {"date": "2026-06-15", "slot": str(appointment.slot.public_id), "reason": "x"},
        )
        assert posted.status_code == 404
    assert state(appointment) == before


def test_reschedule_offers_only_the_appointments_doctor(
    client: Client, appointment: Appointment
) -> None:
    other: DoctorProfile = DoctorProfileFactory()
    slot_at(other, 0, dt.time(11))

    page = html(client.get(reschedule_url(appointment)))

    assert "11:00" not in page


def test_the_doctor_cancels_only_with_a_reason(
    client: Client, appointment: Appointment, doctor: User
) -> None:
    client.force_login(doctor)
    before = state(appointment)

    refused = client.post(f"{detail_url(appointment)}cancel/", {"reason": "  "})

    assert refused.status_code == 400
    assert "This field is required." in html(refused)
    assert state(appointment) == before

    done = client.post(f"{detail_url(appointment)}cancel/", {"reason": "Dr. Doctor is ill."})

    assert done.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancelled_by == doctor
    assert appointment.cancellation_reason == "Dr. Doctor is ill."
