"""/doctors/<slug>/book/: the confirm page, the booking, and every way it can say no.

Clock: Monday 1 June 2026, 10:00 Berlin. Dora works Mondays 09:00-09:30.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorProfileFactory
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import assert_no_integer_ids, book_url, booked, html, slot_at

pytestmark = pytest.mark.django_db

MONDAY_15 = dt.date(2026, 6, 15)


def url(doctor: DoctorProfile) -> str:
    return f"/doctors/{doctor.slug}/book/"


def opening(slot: Slot, date: dt.date = NEXT_MONDAY) -> dict[str, str]:
    return {"date": f"{date:%Y-%m-%d}", "slot": str(slot.public_id)}


@pytest.fixture
def alice(client: Client, patient: User, now: dt.datetime) -> User:
    client.force_login(patient)
    return patient


@pytest.mark.usefixtures("alice")
def test_confirm_page_shows_doctor_date_time_fee_and_reason_field(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    response = client.get(url(dora), opening(monday_9))

    assert response.status_code == 200
    page = html(response)
    assert "Dr. Dora Doctor" in page
    assert dora.specialty.name in page
    assert "Monday 8 June 2026" in page
    assert "09:00–09:30" in page
    assert "80.00" in page
    assert '<textarea name="reason"' in page
    assert f'name="slot" value="{monday_9.public_id}"' in page
    assert 'name="date" value="2026-06-08"' in page
    assert f'<form method="post" action="{url(dora)}"' in page
    assert f'href="/doctors/{dora.slug}/">← Choose another time' in page
    assert "Booking for" not in page
    assert_no_integer_ids(page)
    assert not Appointment.objects.exists()


def test_post_books_and_redirects_to_the_appointment(
    client: Client, alice: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    response = client.post(url(dora), {**opening(monday_9), "reason": "  Chest pain  "})

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.public_id}/"
    assert appointment.patient == alice
    assert appointment.doctor == dora
    assert appointment.slot == monday_9
    assert appointment.date == NEXT_MONDAY
    assert appointment.status == Appointment.Status.SCHEDULED
    assert appointment.reason == "Chest pain"
    assert appointment.starts_at == dt.datetime(2026, 6, 8, 9, tzinfo=dt.UTC) - dt.timedelta(
        hours=2
    )
    followed = client.get(response["Location"])
    assert "Your appointment is booked." in html(followed)


@pytest.mark.usefixtures("alice")
def test_posting_the_same_booking_twice_books_once(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    first = client.post(url(dora), opening(monday_9))
    second = client.post(url(dora), opening(monday_9))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date": "2026-06-08"},
        {"slot": "SLOT"},
        {"date": "next monday", "slot": "SLOT"},
        {"date": "2026-02-30", "slot": "SLOT"},
        {"date": "1800-06-08", "slot": "SLOT"},
        {"date": "99999-06-08", "slot": "SLOT"},
        {"date": "2026-06-08", "slot": "42"},
        {"date": "2026-06-08", "slot": "not-a-uuid"},
        {"date": "2026-06-08", "slot": "00000000-0000-0000-0000-000000000000"},
    ],
    ids=[
        "nothing",
        "no-slot",
        "no-date",
        "words",
        "feb-30",
        "long-ago",
        "far-future",
        "integer-slot",
        "bad-uuid",
        "unknown-uuid",
    ],
)
def test_bad_or_missing_date_or_slot_is_a_clear_400(
    client: Client, dora: DoctorProfile, monday_9: Slot, method: str, params: dict[str, str]
) -> None:
    params = {k: str(monday_9.public_id) if v == "SLOT" else v for k, v in params.items()}

    response = getattr(client, method)(url(dora), params)

    assert response.status_code == 400
    page = html(response)
    assert "This time cannot be booked" in page
    assert (
        "This link does not name a time" in page
        or "That time is not one of this doctor&#x27;s slots" in page
    )
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_doctors_slot_is_refused(
    client: Client, dora: DoctorProfile, monday_9: Slot, method: str
) -> None:
    ottos_slot = slot_at(DoctorProfileFactory(), 0, dt.time(9))

    response = getattr(client, method)(url(dora), opening(ottos_slot))

    assert response.status_code == 400
    assert "That time is not one of this doctor&#x27;s slots" in html(response)
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    ("arrange", "date", "status", "message"),
    [
        ("time_off", NEXT_MONDAY, 409, "Dr. Dora Doctor is not seeing patients on 8 June 2026."),
        ("nothing", TODAY, 422, "This time has already passed."),
        (
            "not_accepting",
            NEXT_MONDAY,
            409,
            "Dr. Dora Doctor is not taking bookings at the moment.",
        ),
        (
            "nothing",
            dt.date(2026, 6, 9),
            422,
            "This slot is on Mondays, but 9 June 2026 is a Tuesday.",
        ),
        ("nothing", dt.date(2026, 8, 3), 422, "Appointments can be booked up to 60 days ahead."),
        (
            "retired",
            NEXT_MONDAY,
            422,
            "That time is not one of the consultation slots of Dr. Dora Doctor.",
        ),
    ],
    ids=["time-off", "past", "not-accepting", "wrong-weekday", "beyond-horizon", "retired"],
)
def test_a_broken_rule_answers_the_status_and_message_of_the_api(
    client: Client,
    dora: DoctorProfile,
    monday_9: Slot,
    method: str,
    arrange: str,
    date: dt.date,
    status: int,
    message: str,
) -> None:
    """The page answers the status the API gives the same refusal (scheduling.errors)."""
    if arrange == "time_off":
        TimeOffFactory(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)
    elif arrange == "not_accepting":
        DoctorProfile._base_manager.filter(pk=dora.pk).update(accepting_bookings=False)
    elif arrange == "retired":
        Slot._base_manager.filter(pk=monday_9.pk).update(is_active=False)

    response = getattr(client, method)(url(dora), opening(monday_9, date))

    assert response.status_code == status
    assert message in html(response)
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("alice")
def test_a_doctor_not_taking_bookings_offers_no_alternatives(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    DoctorProfile._base_manager.filter(pk=dora.pk).update(accepting_bookings=False)

    response = client.get(url(dora), opening(monday_9))

    assert response.status_code == 409
    # No link to book (the language switcher's form does name this page to come back to).
    assert 'href="/doctors/' + dora.slug + "/book/?" not in html(response)


@pytest.mark.usefixtures("alice")
def test_too_short_notice_is_refused(client: Client, dora: DoctorProfile) -> None:
    soon = slot_at(dora, 0, dt.time(10, 30))

    response = client.post(url(dora), opening(soon, TODAY))

    assert response.status_code == 422
    assert "Appointments must be booked at least 60 minutes ahead." in html(response)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_slot_someone_else_holds_is_a_409_with_alternatives(
    client: Client,
    alice: User,
    other_patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    method: str,
) -> None:
    bobs = booked(monday_9, NEXT_MONDAY, patient=other_patient)

    response = getattr(client, method)(url(dora), opening(monday_9))

    assert response.status_code == 409
    page = html(response)
    assert "this slot was just taken" in page
    assert "The nearest free times with Dr. Dora Doctor" in page
    assert book_url(dora, MONDAY_15, monday_9) in page
    assert f'href="{book_url(dora, NEXT_MONDAY, monday_9)}"' not in page
    assert list(Appointment.objects.all()) == [bobs]
    assert not Appointment.objects.filter(patient=alice).exists()


@pytest.mark.usefixtures("alice")
def test_a_cancelled_appointment_does_not_hold_the_slot(
    client: Client, other_patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    booked(
        monday_9,
        NEXT_MONDAY,
        patient=other_patient,
        status=Appointment.Status.CANCELLED,
        cancelled_at=dt.datetime(2026, 5, 30, tzinfo=dt.UTC),
    )

    response = client.post(url(dora), opening(monday_9))

    assert response.status_code == 302
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_log_in(
    client: Client, dora: DoctorProfile, monday_9: Slot, method: str
) -> None:
    response = getattr(client, method)(url(dora), opening(monday_9))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/doctors/")
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("who", ["doctor", "other_doctor", "admin_user"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_doctors_and_admins_cannot_book(
    client: Client,
    request: pytest.FixtureRequest,
    dora: DoctorProfile,
    monday_9: Slot,
    who: str,
    method: str,
) -> None:
    client.force_login(request.getfixturevalue(who))

    response = getattr(client, method)(url(dora), opening(monday_9))

    assert response.status_code == 403
    assert not Appointment.objects.exists()


@pytest.mark.usefixtures("alice")
def test_an_over_long_reason_is_refused_on_the_confirm_page(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    response = client.post(url(dora), {**opening(monday_9), "reason": "x" * 1001})

    assert response.status_code == 400
    page = html(response)
    assert "Confirm your appointment" in page
    assert "Ensure this value has at most 1000 characters" in page
    assert not Appointment.objects.exists()
