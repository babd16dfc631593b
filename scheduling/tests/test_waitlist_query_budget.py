"""Times opened while patients wait are offered in a fixed number of SQL queries, however
many times open and however many patients wait.

A doctor's new weekly hours open each new slot once a week up to the booking horizon:
hundreds of times, each to be offered to the first patient in line it suits, inside the
doctor's own request. Each measurement is made twice in one test, on a small waitlist and a
large one (see the sizes below); the two counts must be equal, and equal to the budget, so
that a query added to every size is noticed too.

Clock: Monday 1 June 2026, 10:00 Berlin (scheduling's conftest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile
from accounts.tests.factories import DoctorFactory, PatientFactory
from notifications.models import Delivery, Event
from scheduling import availability, clock, services
from scheduling.models import Slot, WaitlistEntry, WaitlistOffer
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

# The doctor's save of new weekly hours (POST /dashboard/hours/): session, user, doctor
# profile, a savepoint, the doctor's lock, the plan's two reads of the slots, two new slots
# each with its audit entry; then the offers (OFFER_NEW_SLOTS); the savepoint's release.
SAVE_HOURS = 24
# The offers alone (scheduling.services._offer_new_slots): the patients in line, the calendar
# (slots, time off, appointments holding a slot), the offers made before for those times,
# the persons' appointments then; the offers (one INSERT); for the outbox, the entries and
# doctors its payloads name, the events (one INSERT), the webhook endpoint that mirrors
# N8N_WEBHOOK_URL (read once per process in production, where the settings do not change
# under it), the deliveries (one INSERT).
OFFER_NEW_SLOTS = 12


@pytest.fixture(autouse=True)
def _mirror_read_as_on_a_first_event(settings: Settings) -> None:
    """Each measurement reads the mirror row, whatever ran before in this process.

    An earlier test whose event committed leaves the row in step for the rest of the process
    (notifications.services), and this budget would then be one query short. Setting the
    webhook URL makes the process forget it, as a changed setting does.
    """
    settings.N8N_WEBHOOK_URL = settings.N8N_WEBHOOK_URL


@dataclass(frozen=True)
class Size:
    horizon_days: int
    waiting: int


SMALL = Size(horizon_days=14, waiting=1)
LARGE = Size(horizon_days=90, waiting=30)


def _waitlist(doctor: DoctorProfile, size: Size, first: int) -> list[WaitlistEntry]:
    today = clock.today()
    return [
        services.join_waitlist(
            patient=PatientFactory(national_id=f"{first + n:09d}"),
            doctor=doctor,
            start_date=today,
            end_date=availability.horizon_end(today),
        )
        for n in range(size.waiting)
    ]


def _new_doctor(n: int) -> DoctorProfile:
    profile: DoctorProfile = DoctorFactory(national_id=f"2100000{n:02d}").doctor_profile
    return profile


def test_saving_new_weekly_hours_offers_them_in_a_fixed_number_of_queries(
    now: dt.datetime, settings: Settings
) -> None:
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    counts, offered = [], []
    for n, size in enumerate((SMALL, LARGE)):
        settings.BOOKING_HORIZON_DAYS = size.horizon_days
        doctor = _new_doctor(n)
        _waitlist(doctor, size, first=500000000 + 1000 * n)
        client = Client()
        client.force_login(doctor.user)
        # Two half-hour visits every Monday: one time a week up to the horizon, each.
        hours = {"monday": "09:00-10:00", "visit_minutes": "30", "action": "save"}
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/dashboard/hours/", hours)
        assert response.status_code == 302
        counts.append(len(queries))
        offers = WaitlistOffer.objects.filter(doctor=doctor)
        offered.append(offers.count())
        # Each offer has its event and its e-mail, as one offer made alone has.
        events = Event.objects.filter(
            type="waitlist.offered",
            user_email__in=[o.entry.patient.email for o in offers.select_related("entry__patient")],
        )
        assert events.count() == offered[-1]
        assert (
            Delivery.objects.filter(event__in=events, mail="waitlist_offered").count()
            == offered[-1]
        )

    # Small: one patient, one offer among four times; large: thirty patients, one offer each
    # among twenty-four times (those patients beyond the times wait on).
    assert offered == [1, 24]
    assert counts == [SAVE_HOURS, SAVE_HOURS], counts


def test_offering_new_slots_costs_the_same_for_2_or_40_slots_and_1_or_30_patients(
    now: dt.datetime, settings: Settings
) -> None:
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    settings.BOOKING_HORIZON_DAYS = 60
    counts, offered = [], []
    for n, (slots_per_day, days, size) in enumerate(((2, 1, SMALL), (8, 5, LARGE))):
        doctor = _new_doctor(10 + n)
        _waitlist(doctor, size, first=600000000 + 1000 * n)
        slots: list[Slot] = [
            SlotFactory(
                doctor=doctor,
                weekday=weekday,
                start_time=dt.time(8 + k),
                end_time=dt.time(8 + k, 30),
            )
            for weekday in range(days)
            for k in range(slots_per_day)
        ]
        with transaction.atomic():
            locked = DoctorProfile.objects.select_related("user").get(pk=doctor.pk)
            with CaptureQueriesContext(connection) as queries:
                services._offer_new_slots(locked, slots, now)
        counts.append(len(queries))
        offered.append(WaitlistOffer.objects.filter(doctor=doctor).count())

    assert offered == [1, 30]
    assert counts == [OFFER_NEW_SLOTS, OFFER_NEW_SLOTS], counts


def test_the_first_patient_in_line_gets_the_first_time_and_each_patient_one(
    now: dt.datetime, settings: Settings
) -> None:
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    doctor = _new_doctor(20)
    early, late = _waitlist(doctor, Size(horizon_days=60, waiting=2), first=700000000)
    picky = services.join_waitlist(
        patient=PatientFactory(national_id="700000099"),
        doctor=doctor,
        start_date=clock.today(),
        end_date=clock.today() + dt.timedelta(days=30),
        earliest=dt.time(14),
    )
    monday_9, tuesday_15 = (
        SlotFactory(doctor=doctor, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30)),
        SlotFactory(doctor=doctor, weekday=1, start_time=dt.time(15), end_time=dt.time(15, 30)),
    )

    with transaction.atomic():
        locked = DoctorProfile.objects.select_related("user").get(pk=doctor.pk)
        services._offer_new_slots(locked, [monday_9, tuesday_15], now)

    # Times in order: this Tuesday 15:00 first (today's Monday 09:00 is past), then next
    # Monday 09:00; the picky patient waits for an afternoon and gets none of the mornings.
    offers = {o.entry_id: (o.slot, o.date) for o in WaitlistOffer.objects.all()}
    assert offers == {
        early.pk: (tuesday_15, dt.date(2026, 6, 2)),
        late.pk: (monday_9, dt.date(2026, 6, 8)),
        picky.pk: (tuesday_15, dt.date(2026, 6, 9)),
    }
