"""Private calendar feeds: parsed back with `icalendar`, the same UID and SEQUENCE as the
e-mailed invitations, minimal data, cancellations as cancelled, 404 for a wrong token."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.test import Client

from accounts import services as accounts_services
from accounts.models import CalendarFeed, DoctorProfile, User, calendar_token_hash
from notifications import services as notifications_services
from notifications.emails import calendar_invitation
from notifications.models import Event
from scheduling import services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory


def feed_url(token: str) -> str:
    return f"/calendar/{token}.ics"


def events_of(response: object) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(response.content)  # type: ignore[attr-defined]
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def monday_9(now: dt.datetime, dora: DoctorProfile) -> Slot:
    return SlotFactory(doctor=dora, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30))


@pytest.fixture
def history(patient: User) -> None:
    patient.patient_profile.medical_history = "Allergic to penicillin"
    patient.patient_profile.save()


@pytest.fixture
def booked(patient: User, dora: DoctorProfile, monday_9: Slot, history: None) -> Appointment:
    dora.branch.name, dora.branch.address = "Riverside", "1 River Road"
    dora.branch.save()
    return services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, reason="Chest pain"
    )


def test_patient_feed_lists_the_appointment_with_minimal_data(
    client: Client, patient: User, booked: Appointment
) -> None:
    token = accounts_services.issue_calendar_token(user=patient)

    response = client.get(feed_url(token))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{booked.public_id}@clinic"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == booked.starts_at
    assert event.decoded("DTEND") == booked.ends_at
    assert event["DTSTAMP"]
    assert str(event["SUMMARY"]) == "Appointment with Dr. Dora Doctor (Cardiologist)"
    assert str(event["LOCATION"]) == "Riverside, 1 River Road"
    assert str(event["URL"]).endswith(f"/appointments/{booked.public_id}/")
    text = response.content.decode()
    for secret in ("Chest pain", "penicillin", patient.national_id, patient.phone):
        assert secret not in text


def test_doctor_feed_names_the_patient_by_first_name_and_initial(
    client: Client, dora: DoctorProfile, booked: Appointment
) -> None:
    token = accounts_services.issue_calendar_token(user=dora.user)

    events = events_of(client.get(feed_url(token)))

    event = events[f"{booked.public_id}@clinic"]
    assert str(event["SUMMARY"]) == "Consultation: Alice P."
    assert "Alice Patient" not in client.get(feed_url(token)).content.decode()


@pytest.mark.parametrize(
    ("language", "patients", "doctors", "calendar_name"),
    [
        (
            "de",
            "Termin bei Dr. Dora Doctor (Cardiologist)",
            "Sprechstunde: Alice P.",
            "Clinic: meine Termine",
        ),
        ("ar", "موعد مع Dr. Dora Doctor (Cardiologist)", "استشارة: Alice P.", "Clinic: مواعيدي"),
    ],
)
def test_a_feed_is_in_its_owners_language_whatever_the_calendar_app_asks(
    client: Client,
    dora: DoctorProfile,
    patient: User,
    booked: Appointment,
    settings: object,
    language: str,
    patients: str,
    doctors: str,
    calendar_name: str,
) -> None:
    """A calendar app fetches the feed with no language cookie and its own Accept-Language:
    each owner's saved language decides, as for their e-mails."""
    settings.CLINIC_NAME = "Clinic"  # type: ignore[attr-defined]
    for user in (patient, dora.user):
        user.language = language
        user.save(update_fields=["language"])
    uid = f"{booked.public_id}@clinic"

    mine = client.get(feed_url(accounts_services.issue_calendar_token(user=patient)))
    doctors_feed = client.get(
        feed_url(accounts_services.issue_calendar_token(user=dora.user)),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert str(events_of(mine)[uid]["SUMMARY"]) == patients
    assert str(events_of(doctors_feed)[uid]["SUMMARY"]) == doctors
    calendar = icalendar.Calendar.from_ical(mine.content)
    assert str(calendar["X-WR-CALNAME"]) == calendar_name
    assert "sign-in required" not in mine.content.decode()


def test_moves_and_cancellation_keep_the_uid_and_count_the_sequence_as_the_emails_do(
    client: Client, patient: User, dora: DoctorProfile, booked: Appointment
) -> None:
    token = accounts_services.issue_calendar_token(user=patient)
    later = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(11), end_time=dt.time(11, 30))
    services.reschedule(appointment=booked, by=patient, slot=later, date=NEXT_MONDAY)
    services.cancel(appointment=booked, by=patient)

    event = events_of(client.get(feed_url(token)))[f"{booked.public_id}@clinic"]

    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    # The cancellation e-mail's invitation carries the same UID and SEQUENCE.
    last = Event.objects.filter(appointment_public_id=booked.public_id).order_by("created_at")
    invitation = icalendar.Calendar.from_ical(calendar_invitation(last.last())[0])
    (emailed,) = invitation.walk("VEVENT")
    assert (emailed["UID"], emailed["SEQUENCE"]) == (event["UID"], event["SEQUENCE"])
    assert notifications_services.calendar_sequences([booked.public_id]) == {booked.public_id: 2}


def test_the_feed_shows_only_the_users_own_recent_and_upcoming_appointments(
    client: Client, patient: User, other_patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    mine = AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
    bobs = AppointmentFactory(
        patient=other_patient, slot=monday_9, date=NEXT_MONDAY + dt.timedelta(days=7)
    )
    old = AppointmentFactory(
        patient=patient, slot=monday_9, date=TODAY - dt.timedelta(days=35), status="completed"
    )
    token = accounts_services.issue_calendar_token(user=patient)

    uids = set(events_of(client.get(feed_url(token))))

    assert f"{mine.public_id}@clinic" in uids
    assert f"{bobs.public_id}@clinic" not in uids
    assert f"{old.public_id}@clinic" not in uids


def test_unknown_revoked_and_replaced_tokens_are_404(
    client: Client, patient: User, booked: Appointment
) -> None:
    first = accounts_services.issue_calendar_token(user=patient)
    second = accounts_services.issue_calendar_token(user=patient)

    assert client.get(feed_url(first)).status_code == 404
    assert client.get(feed_url(second)).status_code == 200
    assert client.get(feed_url("x" * 43)).status_code == 404

    assert accounts_services.revoke_calendar_token(user=patient) is True
    assert client.get(feed_url(second)).status_code == 404
    assert accounts_services.revoke_calendar_token(user=patient) is False


def test_only_the_tokens_hash_is_stored(patient: User, booked: Appointment) -> None:
    token = accounts_services.issue_calendar_token(user=patient)

    feed = CalendarFeed.objects.get(user=patient)
    assert feed.token_hash == calendar_token_hash(token)
    assert token not in str(CalendarFeed.objects.values().get())


def test_a_deactivated_users_feed_is_404(
    client: Client, patient: User, booked: Appointment
) -> None:
    token = accounts_services.issue_calendar_token(user=patient)
    accounts_services.deactivate(user=patient)

    assert client.get(feed_url(token)).status_code == 404


def test_admins_have_no_feed(admin_user: User) -> None:
    with pytest.raises(Exception, match="Only active patients and doctors"):
        accounts_services.issue_calendar_token(user=admin_user)
