"""The doctor's dashboard: today's queue and its actions, the accepting toggle, weekly slots,
time off and the doctor's own patients.

Clock: Monday 1 June 2026, 10:00 Berlin. Dora sees Alice at 09:00 (started), Bob at 11:00
and Carl at 14:00 today.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.conftest import NEXT_MONDAY, NOW, TODAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import assert_no_integer_ids, booked, html, is_fragment, slot_at

pytestmark = pytest.mark.django_db

Status = Appointment.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def carl(now: dt.datetime) -> User:
    return PatientFactory(full_name="Carl Patient")


@pytest.fixture
def today(
    dora: DoctorProfile, monday_9: Slot, patient: User, other_patient: User, carl: User
) -> dict[str, Appointment]:
    """Today's three appointments, made out of slot order."""
    at_14 = booked(slot_at(dora, 0, dt.time(14)), TODAY, patient=carl)
    at_9 = booked(monday_9, TODAY, patient=patient)
    at_11 = booked(slot_at(dora, 0, dt.time(11)), TODAY, patient=other_patient)
    return {"alice": at_9, "bob": at_11, "carl": at_14}


@pytest.fixture
def dora_in(client: Client, doctor: User, dora: DoctorProfile) -> DoctorProfile:
    client.force_login(doctor)
    return dora


def action(appointment: Appointment, name: str) -> str:
    return f"/dashboard/appointments/{appointment.public_id}/{name}/"


def status_of(appointment: Appointment) -> str:
    appointment.refresh_from_db()
    return appointment.status


# --- Who gets in ----------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client: Client, now: dt.datetime) -> None:
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


@pytest.mark.parametrize("who", ["patient", "admin_user"])
def test_the_dashboard_is_for_doctors_only(
    client: Client, request: pytest.FixtureRequest, now: dt.datetime, who: str
) -> None:
    client.force_login(request.getfixturevalue(who))

    for path in (
        "/dashboard/",
        "/dashboard/slots/",
        "/dashboard/time-off/",
        "/dashboard/patients/",
    ):
        assert client.get(path).status_code == 403


def test_a_doctor_without_a_profile_is_refused(client: Client, now: dt.datetime) -> None:
    bare = PatientFactory(role=User.Role.DOCTOR, profile=None)
    client.force_login(bare)

    assert client.get("/dashboard/").status_code == 403


# --- Today's queue --------------------------------------------------------------------------


@pytest.mark.usefixtures("dora_in")
def test_todays_queue_is_in_slot_order(client: Client, today: dict[str, Appointment]) -> None:
    NEXT_WEEK = booked(today["alice"].slot, NEXT_MONDAY, patient=PatientFactory(full_name="Zoe"))

    response = client.get("/dashboard/")

    assert response.status_code == 200
    assert response.context["queue"] == [today["alice"], today["bob"], today["carl"]]
    page = html(response)
    queue, upcoming = page.split('id="upcoming-h"')
    assert queue.index("Alice Patient") < queue.index("Bob Patient") < queue.index("Carl Patient")
    assert "Zoe" not in queue
    assert "Zoe" in upcoming
    assert f"/appointments/{NEXT_WEEK.public_id}/" in upcoming
    assert_no_integer_ids(page)


@pytest.mark.usefixtures("dora_in")
def test_check_in_redirects_and_numbers_patients_in_arrival_order(
    client: Client, today: dict[str, Appointment]
) -> None:
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        first = client.post(action(today["carl"], "check-in"))
    with time_machine.travel(NOW + dt.timedelta(minutes=9), tick=False):
        second = client.post(action(today["bob"], "check-in"))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == "/dashboard/"
    assert status_of(today["carl"]) == status_of(today["bob"]) == Status.CHECKED_IN
    assert today["carl"].checked_in_at == NOW + dt.timedelta(minutes=5)
    queue = client.get("/dashboard/").context["queue"]
    assert [(a.patient.full_name, a.queue_number) for a in queue] == [
        ("Alice Patient", None),
        ("Bob Patient", 2),
        ("Carl Patient", 1),
    ]


@pytest.mark.usefixtures("dora_in")
def test_an_htmx_action_returns_the_live_fragment(
    client: Client, today: dict[str, Appointment]
) -> None:
    response = client.post(action(today["bob"], "check-in"), **HTMX)

    assert response.status_code == 200
    page = html(response)
    assert is_fragment(page)
    assert page.lstrip().startswith('<div id="live"')
    assert ">Checked in</span>" in page
    assert status_of(today["bob"]) == Status.CHECKED_IN


@pytest.mark.usefixtures("dora_in")
def test_the_dashboard_refreshes_its_live_part_alone(
    client: Client, today: dict[str, Appointment]
) -> None:
    response = client.get("/dashboard/", **HTMX)

    assert response.status_code == 200
    assert is_fragment(html(response))
    assert "Carl Patient" in html(response)
    assert "HX-Request" in response["Vary"]


@pytest.mark.usefixtures("dora_in")
def test_complete_and_no_show_after_the_start(
    client: Client, today: dict[str, Appointment]
) -> None:
    client.post(action(today["alice"], "check-in"))

    completed = client.post(action(today["alice"], "complete"))
    no_show = client.post(action(today["bob"], "no-show"), **HTMX)  # 11:00: not yet

    assert completed.status_code == 302
    assert status_of(today["alice"]) == Status.COMPLETED
    assert today["alice"].completed_at == NOW
    assert no_show.status_code == 200
    assert status_of(today["bob"]) == Status.SCHEDULED
    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=10), tick=False):
        late = client.post(action(today["bob"], "no-show"))
    assert late.status_code == 302
    assert status_of(today["bob"]) == Status.NO_SHOW


@pytest.mark.usefixtures("dora_in")
@pytest.mark.parametrize(
    ("who", "name", "arrange", "message"),
    [
        (
            "carl",
            "complete",
            None,
            "The appointment has not started yet; it can be marked completed from 14:00.",
        ),
        (
            "bob",
            "no-show",
            None,
            "The appointment has not started yet; it can be marked no-show from 11:00.",
        ),
        (
            "alice",
            "check-in",
            Status.COMPLETED,
            "A completed appointment cannot be marked checked in.",
        ),
        (
            "alice",
            "complete",
            Status.NO_SHOW,
            "A no-show appointment cannot be marked completed.",
        ),
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_transition_that_is_not_allowed_says_why(
    client: Client,
    today: dict[str, Appointment],
    who: str,
    name: str,
    arrange: str | None,
    message: str,
    htmx: bool,
) -> None:
    appointment = today[who]
    if arrange:
        Appointment._base_manager.filter(pk=appointment.pk).update(status=arrange)
    before = status_of(appointment)

    response = client.post(action(appointment, name), **(HTMX if htmx else {}))

    assert status_of(appointment) == before
    if htmx:
        # htmx swaps only 2xx answers: the reason must come inside the fragment it swaps in.
        assert response.status_code == 200
        assert is_fragment(html(response))
        assert message in html(response)
        # ...and is not left behind to pop up again on the next full page.
        assert message not in html(client.get("/dashboard/"))
    else:
        assert response.status_code == 302
        assert response["Location"] == "/dashboard/"
        assert message in html(client.get("/dashboard/"))


@pytest.mark.usefixtures("dora_in")
def test_check_in_only_on_the_day(client: Client, today: dict[str, Appointment]) -> None:
    next_week = booked(today["alice"].slot, NEXT_MONDAY, patient=PatientFactory())

    response = client.post(action(next_week, "check-in"), follow=True)

    assert "Patients can be checked in on the day of their appointment only." in html(response)
    assert status_of(next_week) == Status.SCHEDULED


@pytest.mark.usefixtures("dora_in")
@pytest.mark.parametrize("name", ["delete", "cancel", "reschedule", "check_in", "scheduled"])
def test_an_unknown_action_is_not_found(
    client: Client, today: dict[str, Appointment], name: str
) -> None:
    response = client.post(action(today["alice"], name))

    assert response.status_code == 404
    assert status_of(today["alice"]) == Status.SCHEDULED


def test_another_doctors_appointment_is_not_found(
    client: Client, today: dict[str, Appointment], other_doctor: User
) -> None:
    client.force_login(other_doctor)

    for name in ("check-in", "complete", "no-show"):
        assert client.post(action(today["alice"], name)).status_code == 404
    assert status_of(today["alice"]) == Status.SCHEDULED
    assert today["alice"].checked_in_at is None


def test_actions_take_post_only(client: Client, dora_in: DoctorProfile, today: dict) -> None:
    assert client.get(action(today["bob"], "check-in")).status_code == 405
    assert status_of(today["bob"]) == Status.SCHEDULED


# --- Accepting bookings ---------------------------------------------------------------------


def test_the_accepting_toggle(client: Client, dora_in: DoctorProfile) -> None:
    paused = client.post("/dashboard/accepting/", {"accepting": "0"})
    dora_in.refresh_from_db()
    assert paused.status_code == 302
    assert dora_in.accepting_bookings is False
    page = html(client.get("/dashboard/"))
    assert "New bookings are paused." in page
    assert "Take bookings again" in page

    resumed = client.post("/dashboard/accepting/", {"accepting": "1"})
    dora_in.refresh_from_db()
    assert resumed.status_code == 302
    assert dora_in.accepting_bookings is True


# --- Weekly slots ---------------------------------------------------------------------------


def test_slots_page_lists_the_weekly_slots(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    free = slot_at(dora_in, 2, dt.time(15))
    booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.get("/dashboard/slots/")

    assert response.status_code == 200
    page = html(response)
    assert "Monday" in page
    assert "Wednesday" in page
    assert "15:00–15:30" in page
    assert f'action="/dashboard/slots/{free.public_id}/remove/"' in page
    assert f"/dashboard/slots/{monday_9.public_id}/remove/" not in page
    assert "Has upcoming appointments" in page
    assert_no_integer_ids(page)


def test_add_a_slot(client: Client, dora_in: DoctorProfile) -> None:
    response = client.post(
        "/dashboard/slots/", {"weekday": "2", "start_time": "10:00", "end_time": "10:45"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/slots/?weekday=2"
    slot = Slot.objects.get(doctor=dora_in)
    assert (slot.weekday, slot.start_time, slot.end_time) == (2, dt.time(10), dt.time(10, 45))


@pytest.mark.usefixtures("monday_9")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"weekday": "0", "start_time": "09:15", "end_time": "09:45"},
            "This overlaps your slot Monday 09:00-09:30.",
        ),
        (
            {"weekday": "0", "start_time": "08:00", "end_time": "12:00"},
            "This overlaps your slot Monday 09:00-09:30.",
        ),
        (
            {"weekday": "1", "start_time": "10:00", "end_time": "09:00"},
            "The slot must end after it starts.",
        ),
        ({"weekday": "9", "start_time": "10:00", "end_time": "10:30"}, "Select a valid choice."),
        ({"weekday": "1", "start_time": "25:00", "end_time": "10:30"}, "Enter a valid time."),
    ],
    ids=["overlap", "around", "backwards", "bad-weekday", "bad-time"],
)
def test_a_bad_slot_is_refused_inline(
    client: Client, dora_in: DoctorProfile, data: dict[str, str], message: str
) -> None:
    response = client.post("/dashboard/slots/", data)

    assert response.status_code == 400
    page = html(response)
    assert message in page
    assert "<h1>Single slots</h1>" in page
    assert Slot.objects.filter(doctor=dora_in).count() == 1


def test_remove_a_free_slot(client: Client, dora_in: DoctorProfile, monday_9: Slot) -> None:
    response = client.post(f"/dashboard/slots/{monday_9.public_id}/remove/", follow=True)

    monday_9.refresh_from_db()
    assert response.redirect_chain == [("/dashboard/slots/", 302)]
    assert monday_9.is_active is False
    assert monday_9.deactivated_at == NOW
    assert "Monday 09:00-09:30 is removed from your weekly hours." in html(response)


def test_a_slot_with_upcoming_appointments_cannot_be_removed(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.post(f"/dashboard/slots/{monday_9.public_id}/remove/", follow=True)

    monday_9.refresh_from_db()
    assert response.redirect_chain == [("/dashboard/slots/", 302)]
    assert "1 upcoming appointment uses this slot; cancel or move it first." in html(response)
    assert monday_9.is_active is True


def test_a_slot_used_only_in_the_past_can_be_removed(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    booked(monday_9, dt.date(2026, 5, 25), patient=patient, status=Status.COMPLETED)

    client.post(f"/dashboard/slots/{monday_9.public_id}/remove/")

    monday_9.refresh_from_db()
    assert monday_9.is_active is False


# --- Time off -------------------------------------------------------------------------------


def test_add_time_off_without_bookings(client: Client, dora_in: DoctorProfile) -> None:
    response = client.post(
        "/dashboard/time-off/",
        {"start_date": "2026-06-15", "end_date": "2026-06-16", "reason": "Conference"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/time-off/"
    period = TimeOff.objects.get(doctor=dora_in)
    assert (period.start_date, period.end_date, period.reason) == (
        dt.date(2026, 6, 15),
        dt.date(2026, 6, 16),
        "Conference",
    )
    page = html(client.get("/dashboard/time-off/"))
    assert f'action="/dashboard/time-off/{period.public_id}/remove/"' in page
    assert_no_integer_ids(page)


def test_time_off_over_bookings_lists_them_and_saves_nothing(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    alices = booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.post(
        "/dashboard/time-off/", {"start_date": "2026-06-08", "end_date": "2026-06-09"}
    )

    assert response.status_code == 409
    page = html(response)
    assert "1 appointment is booked in this time." in page
    link = f'<a href="/appointments/{alices.public_id}/">Alice Patient</a>'
    assert f"Mon 8 Jun 09:00 — {link}" in page
    assert not TimeOff.objects.exists()
    assert status_of(alices) == Status.SCHEDULED


def test_time_off_with_the_box_ticked_cancels_the_bookings(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    alices = booked(monday_9, NEXT_MONDAY, patient=patient)
    later = booked(monday_9, dt.date(2026, 6, 15), patient=patient)

    response = client.post(
        "/dashboard/time-off/",
        {"start_date": "2026-06-08", "end_date": "2026-06-09", "cancel_booked": "on"},
    )

    assert response.status_code == 302
    assert TimeOff.objects.filter(doctor=dora_in, start_date=NEXT_MONDAY).exists()
    alices.refresh_from_db()
    assert alices.status == Status.CANCELLED
    assert alices.cancelled_by == dora_in.user
    assert alices.cancellation_reason == "Dr. Dora Doctor is unavailable on that day."
    assert status_of(later) == Status.SCHEDULED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start_date": "2026-05-30", "end_date": "2026-06-02"}, "cannot start in the past"),
        ({"start_date": "2026-06-10", "end_date": "2026-06-09"}, "cannot be before the first"),
        ({"start_date": "someday", "end_date": "2026-06-09"}, "Enter a valid date."),
    ],
)
def test_bad_time_off_is_refused(
    client: Client, dora_in: DoctorProfile, data: dict[str, str], message: str
) -> None:
    response = client.post("/dashboard/time-off/", data)

    assert response.status_code == 400
    assert message in html(response)
    assert not TimeOff.objects.exists()


def test_remove_time_off(client: Client, dora_in: DoctorProfile) -> None:
    period = TimeOffFactory(doctor=dora_in)

    response = client.post(f"/dashboard/time-off/{period.public_id}/remove/")

    period.refresh_from_db()
    assert response.status_code == 302
    assert period.is_active is False
    assert client.post(f"/dashboard/time-off/{period.public_id}/remove/").status_code == 404


# --- Patients -------------------------------------------------------------------------------


def test_my_patients_shows_own_patients_with_history_and_no_one_else(
    client: Client,
    dora_in: DoctorProfile,
    monday_9: Slot,
    patient: User,
    other_patient: User,
    other_doctor: User,
    carl: User,
) -> None:
    patient.patient_profile.medical_history = "Asthma since 1999."
    patient.patient_profile.save()
    other_patient.patient_profile.medical_history = "Bob's secret history."
    other_patient.patient_profile.save()
    booked(monday_9, dt.date(2026, 5, 25), patient=patient, status=Status.COMPLETED)
    booked(slot_at(other_doctor.doctor_profile, 0, dt.time(9)), NEXT_MONDAY, patient=other_patient)
    booked(monday_9, NEXT_MONDAY, patient=carl, status=Status.CANCELLED, cancelled_at=NOW)

    response = client.get("/dashboard/patients/")

    assert response.status_code == 200
    assert response.context["patients"] == [patient]
    page = html(response)
    assert "Alice Patient" in page
    assert "Asthma since 1999." in page
    assert "Bob" not in page
    assert "Carl" not in page
