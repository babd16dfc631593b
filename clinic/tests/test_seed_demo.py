"""The demo data loads cleanly and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from time_machine import TimeMachineFixture

from accounts.models import AdminProfile, DoctorProfile, FrontDeskProfile, PatientProfile, User
from notifications.models import Event
from scheduling import clock
from scheduling.models import Appointment

DEMO_PASSWORD = "demo-pass-123"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every model of our apps, so a second run is seen to add nothing anywhere."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("accounts", "directory", "scheduling", "notifications")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def seeded(db: None) -> str:
    return seed()


def test_seed_demo_loads_the_demo_clinic(seeded: str) -> None:
    specialty = apps.get_model("directory", "Specialty")
    branch = apps.get_model("directory", "Branch")
    assert specialty.objects.count() == 4
    assert branch.objects.count() == 2
    assert DoctorProfile.objects.count() == 12
    assert User.objects.doctors().active().count() == 12
    assert DoctorProfile.objects.filter(specialty__isnull=True).count() == 0
    assert DoctorProfile.objects.filter(branch__isnull=True).count() == 0

    admin = User.objects.get(national_id="100000001")
    assert admin.role == User.Role.ADMIN
    assert admin.is_active
    assert admin.is_staff
    assert AdminProfile.objects.filter(user=admin).exists()

    assert User.objects.get(national_id="200000001").is_doctor
    paula = User.objects.get(national_id="300000001")
    assert paula.is_patient
    assert paula.is_active
    peter = User.objects.get(national_id="300000002")
    assert peter.is_patient
    assert peter.is_pending
    assert PatientProfile.objects.count() == 4
    desk = User.objects.get(national_id="400000001")
    assert desk.is_front_desk
    assert desk.is_active
    assert FrontDeskProfile.objects.get(user=desk).branch.slug == "city-centre"
    assert "18 accounts created now" in seeded


def test_seed_demo_twice_creates_nothing_the_second_time(seeded: str) -> None:
    before = row_counts()

    second = seed()

    assert "0 accounts created now" in second
    assert "0 appointments added" in second
    assert row_counts() == before


def test_demo_accounts_log_in_with_the_demo_password_except_the_pending_one(
    seeded: str, client: Client
) -> None:
    # One seeded database for all five logins: loading the demo is the slow part.
    for national_id in ("100000001", "200000001", "300000001", "400000001"):
        response = client.post(
            reverse("accounts:login"), {"username": national_id, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, national_id
        assert response.url == reverse("accounts:after-login")
        client.post(reverse("accounts:logout"))

    response = client.post(
        reverse("accounts:login"), {"username": "300000002", "password": DEMO_PASSWORD}
    )

    assert response.status_code == 200
    assert "waiting for an admin to activate" in response.content.decode()


@pytest.mark.django_db
def test_demo_data_makes_no_events_even_with_a_receiver_configured(settings: object) -> None:
    settings.N8N_WEBHOOK_URL = "http://127.0.0.1:9/webhook/clinic"  # type: ignore[attr-defined]
    settings.WEBHOOK_SECRET = "a secret for the demo"  # type: ignore[attr-defined]
    from notifications.models import Delivery, Event

    seed()

    assert User.objects.filter(is_active=True).count() >= 14  # the doctors, admin, patient
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0


def _tenses(user: User, today: dt.date) -> dict[str, int]:
    mine = Appointment.objects.filter(Q(patient=user) | Q(doctor__user=user))
    return {
        "past": mine.filter(date__lt=today).count(),
        "today": mine.filter(date=today).count(),
        "upcoming": mine.filter(date__gt=today).count(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "on_a_working_day"),
    [
        (dt.datetime(2026, 6, 3, 7, 30, tzinfo=dt.UTC), True),  # a Wednesday, before surgery
        (dt.datetime(2026, 6, 4, 16, 0, tzinfo=dt.UTC), True),  # a Thursday afternoon
        (dt.datetime(2026, 6, 7, 12, 0, tzinfo=dt.UTC), False),  # a Sunday
    ],
)
def test_demo_patient_and_doctor_have_past_todays_and_upcoming_appointments(
    settings: object, time_machine: TimeMachineFixture, moment: dt.datetime, on_a_working_day: bool
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # type: ignore[attr-defined]
    time_machine.move_to(moment, tick=False)
    seed()
    today = clock.today()
    paula = User.objects.get(national_id="300000001")
    anna = User.objects.get(national_id="200000001")

    for user in (paula, anna):
        tenses = _tenses(user, today)
        assert tenses["past"] >= 1, tenses
        assert tenses["upcoming"] >= 1, tenses
        assert (tenses["today"] >= 1) == on_a_working_day, tenses
    now = timezone.now()
    for appt in Appointment.objects.all():
        # As things stand now: nothing to come is done, nothing past is still open.
        if appt.ends_at <= now:
            assert appt.status != Appointment.Status.SCHEDULED, appt
        else:
            assert appt.status == Appointment.Status.SCHEDULED, appt
        assert appt.reminder_sent_at is not None
        # Booked by the patient, at the doctor's fee, as the patient's own booking records it.
        assert appt.booked_by == appt.patient, appt
        assert appt.price == appt.doctor.consultation_fee, appt
    assert Event.objects.count() == 0

    # The same day again: nothing more. A week later: that day's three and an upcoming one
    # for each pair whose upcoming one has passed (at most two), nothing else.
    before = Appointment.objects.count()
    assert "0 appointments added" in seed()
    assert Appointment.objects.count() == before
    time_machine.move_to(moment + dt.timedelta(days=7), tick=False)
    seed()
    least = before + 3 if on_a_working_day else before
    assert least <= Appointment.objects.count() <= before + 5
