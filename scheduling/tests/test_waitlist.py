"""The waitlist: a freed time goes to the first waiting patient it suits, held for them for
WAITLIST_HOLD_MINUTES. While it holds nobody else can book it; at most one offer holds a
time (the database says so); once the hold runs out the time is anyone's at once, with no
job run, and the worker offers it to the next waiting patient.

Clock: Monday 1 June 2026, 10:00 Berlin (scheduling's conftest); time-machine moves it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts import services as accounts
from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from api.tests.conftest import ApiClient
from notifications.models import Delivery, Event
from notifications.tests.conftest import run_worker
from scheduling import services
from scheduling.errors import SchedulingError
from scheduling.models import Appointment, Slot, WaitlistEntry, WaitlistOffer
from scheduling.tests.conftest import NEXT_MONDAY, NOW, TODAY
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

WEEK = TODAY + dt.timedelta(days=14)


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    settings.WAITLIST_HOLD_MINUTES = 30
    return settings


@pytest.fixture
def booked(quiet: Settings, patient: User, dora: DoctorProfile, monday_9: Slot) -> Appointment:
    """Alice holds Dora's Monday 09:00 next week."""
    return services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)


@pytest.fixture
def carol(now: dt.datetime) -> User:
    return PatientFactory(full_name="Carol Waiting", national_id="300000021")


@pytest.fixture
def dave(now: dt.datetime) -> User:
    return PatientFactory(full_name="Dave Waiting", national_id="300000022")


def wait(patient: User, doctor: DoctorProfile, **times: dt.time) -> WaitlistEntry:
    return services.join_waitlist(
        patient=patient, doctor=doctor, start_date=TODAY, end_date=WEEK, **times
    )


def test_a_cancelled_time_is_offered_to_the_first_waiting_patient_by_mail_and_webhook(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User, dave: User
) -> None:
    first = wait(carol, dora)
    wait(dave, dora)

    services.cancel(appointment=booked, by=patient)

    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.slot, offer.date) == (first, booked.slot, NEXT_MONDAY)
    assert offer.expires_at == NOW + dt.timedelta(minutes=30)
    # "Offered" is what the holding offer says; the entry itself still waits.
    shown = WaitlistEntry.objects.with_offer_held(NOW).get(pk=first.pk)
    assert (shown.status, shown.offer_held) == (WaitlistEntry.Status.WAITING, True)
    assert shown.shown_status(shown.offer_held) == "offered"
    assert first not in WaitlistEntry.objects.in_line(NOW)
    event = Event.objects.get(type="waitlist.offered")
    data = event.payload["data"]
    assert data["offer"]["id"] == str(offer.public_id)
    assert data["offer"]["starts_at"] == "2026-06-08T09:00:00+02:00"
    assert data["offer"]["expires_at"] == "2026-06-01T10:30:00+02:00"
    assert data["offer"]["url"].endswith(f"/waitlist/offers/{offer.public_id}/")
    assert data["patient"]["email"] == carol.email

    run_worker()
    [message] = [m for m in mail.outbox if m.to == [carol.email]]
    assert "Dr. Dora Doctor" in message.subject
    assert data["offer"]["url"] in message.body
    assert "10:30" in message.body


def test_a_held_time_is_not_bookable_by_anyone_else(
    booked: Appointment, patient: User, other_patient: User, dora: DoctorProfile, carol: User
) -> None:
    wait(carol, dora)
    services.cancel(appointment=booked, by=patient)

    with pytest.raises(SchedulingError) as refused:
        services.book(patient=other_patient, doctor=dora, slot=booked.slot, date=NEXT_MONDAY)

    assert (refused.value.code, refused.value.status) == ("held", 409)
    assert not Appointment.objects.filter(patient=other_patient).exists()


def test_the_holder_books_it_from_the_offer_and_leaves_the_list(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User
) -> None:
    entry = wait(carol, dora)
    services.cancel(appointment=booked, by=patient)
    offer = WaitlistOffer.objects.get()

    appointment = services.claim_offer(offer=offer, by=carol)
    again = services.claim_offer(offer=offer, by=carol)

    assert again == appointment
    assert (appointment.patient, appointment.slot, appointment.date) == (
        carol,
        booked.slot,
        NEXT_MONDAY,
    )
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert (offer.status, offer.appointment) == (WaitlistOffer.Status.BOOKED, appointment)
    assert entry.status == WaitlistEntry.Status.BOOKED


def test_an_expired_hold_lets_the_next_patient_book_without_any_job(
    booked: Appointment, patient: User, other_patient: User, dora: DoctorProfile, carol: User
) -> None:
    wait(carol, dora)
    services.cancel(appointment=booked, by=patient)
    offer = WaitlistOffer.objects.get()

    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        taken = services.book(
            patient=other_patient, doctor=dora, slot=booked.slot, date=NEXT_MONDAY
        )
        with pytest.raises(SchedulingError) as late:
            services.claim_offer(offer=offer, by=carol)

    assert taken.patient == other_patient
    assert late.value.code == "offer_expired"


def test_the_worker_passes_an_expired_offer_to_the_next_waiting_patient(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User, dave: User
) -> None:
    first = wait(carol, dora)
    second = wait(dave, dora)
    services.cancel(appointment=booked, by=patient)

    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        run_worker()
        offers = list(WaitlistOffer.objects.order_by("created_at", "pk"))

    assert [(o.entry, o.status) for o in offers] == [
        (first, WaitlistOffer.Status.PASSED),
        (second, WaitlistOffer.Status.OPEN),
    ]
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.WAITING  # still waiting, for other times
    assert [m.to for m in mail.outbox if "is free" in m.subject] == [[carol.email], [dave.email]]


def test_an_expired_offer_puts_the_patient_back_in_line_with_no_job_run(
    client: Client,
    booked: Appointment,
    patient: User,
    other_patient: User,
    dora: DoctorProfile,
    carol: User,
) -> None:
    entry = wait(carol, dora)
    later = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(11), end_time=dt.time(11, 30))
    second = services.book(patient=other_patient, doctor=dora, slot=later, date=NEXT_MONDAY)
    services.cancel(appointment=booked, by=patient)
    first_offer = WaitlistOffer.objects.get()
    client.force_login(carol)
    while_held = client.get("/waitlist/").text
    assert "Offered a time" in while_held
    assert [e["status"] for e in ApiClient(carol).get("/waitlist").json()] == ["offered"]

    with time_machine.travel(NOW + dt.timedelta(minutes=31), tick=False):
        # No worker has run: the hold ran out all the same, and so did "offered".
        assert entry in WaitlistEntry.objects.in_line(timezone.now())
        assert "Offered a time" not in client.get("/waitlist/").text
        assert [e["status"] for e in ApiClient(carol).get("/waitlist").json()] == ["waiting"]
        # She is in line again: the next time that frees up is hers.
        services.cancel(appointment=second, by=other_patient)
        offers = list(WaitlistOffer.objects.order_by("created_at", "pk"))

    assert [(o.entry, o.slot, o.status) for o in offers] == [
        (entry, booked.slot, WaitlistOffer.Status.OPEN),  # ran out; the worker tidies it
        (entry, later, WaitlistOffer.Status.OPEN),
    ]
    assert offers[0] == first_offer


def test_removing_time_off_offers_the_times_it_opens(
    quiet: Settings, dora: DoctorProfile, monday_9: Slot, carol: User
) -> None:
    away = services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)
    entry = wait(carol, dora)
    assert not WaitlistOffer.objects.exists()

    services.remove_time_off(time_off=away)

    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.slot, offer.date) == (entry, monday_9, NEXT_MONDAY)
    assert Event.objects.filter(type="waitlist.offered").count() == 1


def test_times_of_day_and_dates_choose_who_is_offered(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User, dave: User
) -> None:
    wait(carol, dora, earliest=dt.time(11))  # 09:00 does not suit her
    services.join_waitlist(
        patient=PatientFactory(national_id="300000023"),
        doctor=dora,
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=2),  # before next Monday
    )
    suited = wait(dave, dora, latest=dt.time(10))

    services.cancel(appointment=booked, by=patient)

    assert WaitlistOffer.objects.get().entry == suited


def test_only_one_offer_holds_a_time_in_the_database(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User, dave: User
) -> None:
    wait(carol, dora)
    other = wait(dave, dora)
    services.cancel(appointment=booked, by=patient)
    held = WaitlistOffer.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistOffer.objects.create(
            entry=other,
            doctor=dora,
            slot=held.slot,
            date=held.date,
            starts_at=held.starts_at,
            ends_at=held.ends_at,
            expires_at=held.expires_at,
        )


def test_new_hours_are_offered_to_a_waiting_patient(
    quiet: Settings, dora: DoctorProfile, carol: User
) -> None:
    entry = wait(carol, dora)
    wednesday = TODAY + dt.timedelta(days=2)

    [slot, *_] = services.add_extra_hours(
        doctor=dora, date=wednesday, ranges=[(dt.time(14), dt.time(15))], visit_minutes=30
    )

    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.slot, offer.date) == (entry, slot, wednesday)


def test_leaving_passes_a_held_time_to_the_next(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User, dave: User
) -> None:
    first = wait(carol, dora)
    second = wait(dave, dora)
    services.cancel(appointment=booked, by=patient)

    services.leave_waitlist(entry=first, by=carol)

    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.LEFT
    assert WaitlistOffer.objects.get(status=WaitlistOffer.Status.OPEN).entry == second


def test_joining_is_checked(quiet: Settings, dora: DoctorProfile, carol: User) -> None:
    wait(carol, dora)
    for kwargs, code in [
        ({"start_date": TODAY, "end_date": WEEK}, "already_waiting"),
        ({"start_date": WEEK, "end_date": TODAY}, "order"),
        ({"start_date": TODAY - dt.timedelta(days=1), "end_date": WEEK}, "past"),
        ({"start_date": TODAY, "end_date": TODAY + dt.timedelta(days=90)}, "beyond_horizon"),
    ]:
        with pytest.raises(SchedulingError) as refused:
            services.join_waitlist(patient=carol, doctor=dora, **kwargs)  # type: ignore[arg-type]
        assert refused.value.code == code
    assert WaitlistEntry.objects.count() == 1


def test_a_family_member_waits_too_and_the_offer_books_for_them(
    booked: Appointment, patient: User, dora: DoctorProfile, carol: User
) -> None:
    kid = accounts.add_dependant(
        guardian=carol, full_name="Kim Waiting", date_of_birth=dt.date(2019, 1, 2)
    )
    services.join_waitlist(
        patient=carol, doctor=dora, start_date=TODAY, end_date=WEEK, dependant=kid
    )
    services.cancel(appointment=booked, by=patient)

    appointment = services.claim_offer(offer=WaitlistOffer.objects.get(), by=carol)

    assert (appointment.patient, appointment.dependant) == (carol, kid)


def test_the_patient_joins_sees_leaves_and_books_from_the_link(
    client: Client, booked: Appointment, patient: User, dora: DoctorProfile, carol: User
) -> None:
    client.force_login(carol)
    joined = client.post(
        f"/doctors/{dora.slug}/waitlist/",
        {"start_date": TODAY.isoformat(), "end_date": WEEK.isoformat(), "earliest": "08:00"},
    )
    listed = client.get("/waitlist/").content.decode()
    services.cancel(appointment=booked, by=patient)
    offer = WaitlistOffer.objects.get()
    link = f"/waitlist/offers/{offer.public_id}/"
    page = client.get(link)
    listed_with_offer = client.get("/waitlist/").content.decode()
    client.force_login(patient)
    not_alices = client.get(link)
    client.force_login(carol)
    booked_now = client.post(link, {"reason": "From the waitlist"})

    assert joined.status_code == 302
    assert "Dr. Dora Doctor" in listed
    assert page.status_code == 200
    assert "A time held for you" in page.content.decode()
    assert link in listed_with_offer
    assert not_alices.status_code == 404
    appointment = Appointment.objects.get(patient=carol)
    assert booked_now.status_code == 302
    assert booked_now["Location"] == f"/appointments/{appointment.public_id}/"
    assert client.get("/waitlist/").content.decode().count("Leave") == 0


def test_leaving_from_the_page(
    client: Client, quiet: Settings, dora: DoctorProfile, carol: User, other_patient: User
) -> None:
    entry = wait(carol, dora)
    client.force_login(other_patient)
    not_bobs = client.post(f"/waitlist/{entry.public_id}/leave/")
    client.force_login(carol)
    left = client.post(f"/waitlist/{entry.public_id}/leave/")

    assert not_bobs.status_code == 404
    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT


@pytest.mark.django_db(transaction=True)
def test_fifty_threads_claiming_one_held_offer_give_one_appointment(
    settings: Settings, doctor: User, patient: User
) -> None:
    from scheduling import clock
    from scheduling.tests.factories import SlotFactory
    from scheduling.tests.test_concurrent_booking import at_once

    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    dora = doctor.doctor_profile
    soon = clock.today() + dt.timedelta(days=3)
    slot = SlotFactory(
        doctor=dora, weekday=soon.weekday(), start_time=dt.time(10), end_time=dt.time(10, 30)
    )
    first = services.book(patient=patient, doctor=dora, slot=slot, date=soon)
    carol = PatientFactory(full_name="Carol Waiting", national_id="300000021")
    services.join_waitlist(patient=carol, doctor=dora, start_date=clock.today(), end_date=soon)
    services.cancel(appointment=first, by=patient)
    offer = WaitlistOffer.objects.get()

    outcomes = at_once([lambda: services.claim_offer(offer=offer, by=carol)] * 50)

    assert all(isinstance(o, Appointment) for o in outcomes), [repr(o) for o in outcomes]
    assert len({o.pk for o in outcomes}) == 1
    assert Appointment.objects.filter(patient=carol).count() == 1
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.BOOKED
    assert Delivery.objects.filter(event__type="appointment.booked").exists()


def test_a_held_time_cannot_be_taken_by_moving_another_appointment_into_it(
    booked: Appointment, patient: User, other_patient: User, dora: DoctorProfile, carol: User
) -> None:
    later = services.book(
        patient=other_patient,
        doctor=dora,
        slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(11), end_time=dt.time(11, 30)),
        date=NEXT_MONDAY,
    )
    wait(carol, dora)
    services.cancel(appointment=booked, by=patient)

    with pytest.raises(SchedulingError) as refused:
        services.reschedule(appointment=later, by=other_patient, slot=booked.slot, date=NEXT_MONDAY)

    assert refused.value.code == "held"
    later.refresh_from_db()
    assert later.slot != booked.slot
