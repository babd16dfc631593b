"""The doctor's own calendar: the week view, a day to print, the appointment page with the
doctor's notes, and the doctor-facing answers of the API.

Clock: Monday 1 June 2026, 10:00 Berlin (see conftest).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from audit.models import AuditEntry
from common import phones
from scheduling import services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.view_helpers import assert_no_integer_ids, booked, html, slot_at

pytestmark = pytest.mark.django_db

T = dt.time
Status = Appointment.Status


@pytest.fixture
def dora_in(client: Client, dora: DoctorProfile) -> DoctorProfile:
    client.force_login(dora.user)
    return dora


@pytest.fixture
def week_scene(dora: DoctorProfile, patient: User, other_patient: User) -> dict[str, Appointment]:
    """Dora's week of 8 June: Monday mornings, a Wednesday afternoon off, a Saturday clinic."""
    services.set_working_hours(
        doctor=dora, hours={d: [(T(9), T(10))] for d in range(5)}, visit_minutes=30
    )
    (saturday,) = services.add_extra_hours(
        doctor=dora, date=dt.date(2026, 6, 13), ranges=[(T(9), T(9, 30))], visit_minutes=30
    )
    services.add_time_off(
        doctor=dora,
        start_date=dt.date(2026, 6, 10),
        end_date=dt.date(2026, 6, 10),
        start_time=T(13),
        end_time=T(18),
        reason="School play",
    )
    monday_9 = Slot.objects.get(doctor=dora, weekday=0, start_time=T(9))
    return {
        "alice": services.book(
            patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, reason="Chest pain"
        ),
        "bob": services.book(
            patient=other_patient, doctor=dora, slot=saturday, date=dt.date(2026, 6, 13)
        ),
    }


def test_the_week_shows_hours_absences_and_appointments(
    client: Client, dora_in: DoctorProfile, week_scene: dict[str, Appointment], patient: User
) -> None:
    response = client.get("/dashboard/week/?date=2026-06-10")

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Week of 8 June 2026</h1>" in page
    for label in ("Mon 8 Jun", "Sun 14 Jun"):
        assert label in page
    assert "09:00–10:00" in page
    assert "extra 09:00–09:30" in page  # the Saturday clinic
    assert "Off 13:00–18:00: School play" in page
    alices = week_scene["alice"]
    assert f'href="/appointments/{alices.public_id}/"><strong>09:00</strong> Alice Patient' in page
    assert "Chest pain" in page
    assert "Bob Patient" in page
    # The chosen day (Wednesday) in full, its neighbours and the week's in the URL.
    assert "Wednesday 10 June 2026" in page
    for link in ("?date=2026-06-09", "?date=2026-06-11", "?date=2026-06-03", "?date=2026-06-17"):
        assert f'href="{link}"' in page
    assert 'href="/dashboard/print/?date=2026-06-10"' in page
    assert_no_integer_ids(page)


def test_the_chosen_day_lists_phones_as_tel_links(
    client: Client, dora_in: DoctorProfile, week_scene: dict[str, Appointment], patient: User
) -> None:
    page = html(client.get("/dashboard/week/?date=2026-06-08"))

    assert f'<a href="tel:{patient.phone}" dir="ltr">{phones.for_humans(patient.phone)}</a>' in page


def test_today_links_to_the_queue(client: Client, dora_in: DoctorProfile) -> None:
    page = html(client.get("/dashboard/week/"))

    assert "Monday 1 June 2026" in page
    assert "Today's queue" in page
    assert "This week" not in page
    assert "Today's queue" not in html(client.get("/dashboard/week/?date=2026-06-02"))


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "1999-01-01"])
def test_a_bad_date_is_a_400(client: Client, dora_in: DoctorProfile, bad: str) -> None:
    assert client.get(f"/dashboard/week/?date={bad}").status_code == 400
    assert client.get(f"/dashboard/print/?date={bad}").status_code == 400


def test_the_print_view_has_the_day_and_no_menus_or_buttons(
    client: Client, dora_in: DoctorProfile, week_scene: dict[str, Appointment], patient: User
) -> None:
    response = client.get("/dashboard/print/?date=2026-06-08")

    assert response.status_code == 200
    page = html(response)
    assert "Dr. Dora Doctor — Monday 8 June 2026" in page
    assert '<td dir="ltr">09:00–09:30</td><td>Alice Patient</td>' in page
    assert f'<a href="tel:{patient.phone}" dir="ltr">{phones.for_humans(patient.phone)}</a>' in page
    assert "Chest pain" in page
    for absent in ("<nav", "<button", "<form", "<script"):
        assert absent not in page


def test_someone_elses_week_is_not_shown(
    client: Client, other_doctor: User, week_scene: dict[str, Appointment]
) -> None:
    client.force_login(other_doctor)

    page = html(client.get("/dashboard/week/?date=2026-06-08"))

    assert "Alice Patient" not in page
    assert client.get("/dashboard/print/?date=2026-06-08").content.count(b"<tr>") == 0


# --- The appointment page for the doctor, the notes ------------------------------------------


def test_the_doctors_appointment_page_is_titled_with_the_patient(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)

    page = html(client.get(f"/appointments/{appointment.public_id}/"))

    assert '<h1 id="appt-h">Alice Patient</h1>' in page
    assert f'<a href="tel:{patient.phone}" dir="ltr">' in page
    assert '<h2 class="h3" id="notes-h">Doctor\'s notes</h2>' in page
    assert "Move to another time" in page


def test_actions_on_todays_appointment_are_named_as_actions(
    client: Client, dora_in: DoctorProfile, patient: User
) -> None:
    earlier = booked(slot_at(dora_in, 0, T(9)), TODAY, patient=patient)

    page = html(client.get(f"/appointments/{earlier.public_id}/"))
    for action in ("Check in", "Mark completed", "Mark no-show"):
        assert f">{action}</button>" in page

    response = client.post(
        f"/dashboard/appointments/{earlier.public_id}/complete/", {"back": "appointment"}
    )
    assert response["Location"] == f"/appointments/{earlier.public_id}/"
    earlier.refresh_from_db()
    assert earlier.status == Status.COMPLETED


def test_the_doctor_writes_notes_that_the_patient_never_sees(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.post(
        f"/dashboard/appointments/{appointment.public_id}/notes/",
        {"doctor_notes": "  Bring the ECG from March.  "},
        follow=True,
    )

    assert response.redirect_chain == [(f"/appointments/{appointment.public_id}/", 302)]
    assert "Bring the ECG from March." in html(response)
    appointment.refresh_from_db()
    assert appointment.doctor_notes == "Bring the ECG from March."
    entry = AuditEntry.objects.get(action="appointment.notes_changed")
    assert entry.actor == dora_in.user
    assert entry.after == {"doctor_notes": "(changed)"}
    assert "ECG" not in f"{entry.before}{entry.after}{entry.object_repr}"

    client.force_login(patient)
    assert "ECG" not in html(client.get(f"/appointments/{appointment.public_id}/"))
    refused = client.post(
        f"/dashboard/appointments/{appointment.public_id}/notes/", {"doctor_notes": "mine"}
    )
    assert refused.status_code == 404
    appointment.refresh_from_db()
    assert appointment.doctor_notes == "Bring the ECG from March."


def test_too_long_notes_are_refused_inline(
    client: Client, dora_in: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)

    response = client.post(
        f"/dashboard/appointments/{appointment.public_id}/notes/", {"doctor_notes": "x" * 5001}
    )

    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters" in html(response)
    appointment.refresh_from_db()
    assert appointment.doctor_notes == ""


def test_another_doctor_cannot_write_notes(
    client: Client, other_doctor: User, monday_9: Slot, patient: User
) -> None:
    appointment = booked(monday_9, NEXT_MONDAY, patient=patient)

    with pytest.raises(services.NotAllowed):
        services.set_doctor_notes(appointment=appointment, by=other_doctor, notes="x")
    client.force_login(other_doctor)
    response = client.post(
        f"/dashboard/appointments/{appointment.public_id}/notes/", {"doctor_notes": "x"}
    )
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.doctor_notes == ""
