"""Booking under real concurrency, on the database the suite runs on (SQLite or PostgreSQL).

Many threads, or separate processes, book at the same instant (a barrier releases them
together). One slot on one date ends up with exactly one appointment; every loser gets the
clean "slot taken" answer, never a database error. The rows are committed for real
(`transaction=True`), so each thread and process works in its own connection and
transactions. Time is not frozen here (other processes would not see it): the slot is a few
days from today.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory
from scheduling import clock, services
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.book_in_process import RESULT
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50
PROCESSES = 8
BASE_DIR = Path(settings.BASE_DIR)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs each call in a thread of its own, all released together; returns what each
    returned or raised, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            # Connect first, so the threads race in the booking and not in connecting.
            connection.ensure_connection()
            barrier.wait(timeout=60)
            outcomes[index] = call()
        except BaseException as exc:  # the test looks at every outcome
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return outcomes


def describe(outcome: Any) -> str:
    if isinstance(outcome, Appointment):
        return "booked"
    if isinstance(outcome, services.SchedulingError):
        return f"{type(outcome).__name__}:{outcome.code}"
    return repr(outcome)


@pytest.fixture
def doctor_profile(doctor: User) -> DoctorProfile:
    return doctor.doctor_profile


@pytest.fixture
def soon() -> dt.date:
    """A date a few days ahead: in the future and inside the horizon whatever today is."""
    return clock.today() + dt.timedelta(days=3)


@pytest.fixture
def slot(doctor_profile: DoctorProfile, soon: dt.date) -> Slot:
    return SlotFactory(
        doctor=doctor_profile,
        weekday=soon.weekday(),
        start_time=dt.time(10),
        end_time=dt.time(10, 30),
    )


def test_fifty_patients_booking_one_slot_at_once_get_one_appointment(
    doctor_profile: DoctorProfile, slot: Slot, soon: dt.date
) -> None:
    patients = PatientFactory.create_batch(THREADS)

    outcomes = at_once(
        [
            lambda p=p: services.book(patient=p, doctor=doctor_profile, slot=slot, date=soon)
            for p in patients
        ]
    )

    kinds = [describe(o) for o in outcomes]
    assert sorted(set(kinds)) == ["SlotTaken:slot_taken", "booked"], kinds
    assert kinds.count("booked") == 1
    winner = next(o for o in outcomes if isinstance(o, Appointment))
    row = Appointment.objects.get()
    assert (row.pk, row.slot_id, row.date, row.status) == (
        winner.pk,
        slot.pk,
        soon,
        Appointment.Status.SCHEDULED,
    )
    assert row.patient == patients[outcomes.index(winner)]
    # The losers were offered other times, none of them the one just taken.
    for loser in outcomes:
        if isinstance(loser, services.SlotTaken):
            assert all((o.slot.pk, o.date) != (slot.pk, soon) for o in loser.alternatives)


def child_database_url() -> str:
    """DATABASE_URL naming the very database this test runs on (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = Path(db["NAME"])
        assert name.is_absolute(), f"the test database must be a file, not {name}"
        return f"sqlite:///{name}"
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or ''}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DATABASE_URL=child_database_url(),
        SECRET_KEY="child-process-of-the-test-suite",
        CLINIC_IGNORE_DOTENV="1",
        CLINIC_TIME_ZONE=settings.TIME_ZONE,
        BOOKING_HORIZON_DAYS=str(settings.BOOKING_HORIZON_DAYS),
        BOOKING_MIN_NOTICE_MINUTES=str(settings.BOOKING_MIN_NOTICE_MINUTES),
        CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        # Only the booking: no e-mail, webhook or sending thread of its own.
        NOTIFICATIONS_SEND_ON_COMMIT="0",
        EMAIL_URL="dummymail://",
        N8N_WEBHOOK_URL="",
        PYTHONPATH=str(BASE_DIR),
    )
    return env


def book_in_processes(bookings: list[tuple[User, DoctorProfile, Slot, dt.date]]) -> list[dict]:
    env = child_env()
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scheduling.tests.book_in_process",
                str(patient.pk),
                str(doctor.pk),
                str(slot.pk),
                date.isoformat(),
            ],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for patient, doctor, slot, date in bookings
    ]
    try:
        for child in children:
            line = child.stdout.readline()
            if line.strip() != "ready":
                child.kill()
                _, err = child.communicate(timeout=30)
                pytest.fail(f"a booking process did not start: {line!r}\n{err}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
            (result,) = [
                line.removeprefix(RESULT) for line in out.splitlines() if line.startswith(RESULT)
            ]
            results.append(json.loads(result))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_patients_in_separate_processes_booking_one_slot_get_one_appointment(
    doctor_profile: DoctorProfile, slot: Slot, soon: dt.date
) -> None:
    patients = PatientFactory.create_batch(PROCESSES)

    results = book_in_processes([(p, doctor_profile, slot, soon) for p in patients])

    outcomes = [
        r["outcome"] if r["outcome"] == "booked" else f"{r['outcome']}:{r.get('code')}"
        for r in results
    ]
    # Every process worked on this test's database.
    assert {r["database"] for r in results} == {str(connection.settings_dict["NAME"])}
    assert sorted(set(outcomes)) == ["SlotTaken:slot_taken", "booked"], results
    assert outcomes.count("booked") == 1
    row = Appointment.objects.get()
    winner = next(r for r in results if r["outcome"] == "booked")
    assert str(row.public_id) == winner["public_id"]
    assert row.patient == patients[results.index(winner)]
    assert (row.slot_id, row.date) == (slot.pk, soon)


def test_patients_booking_different_slots_at_once_all_succeed(
    doctor_profile: DoctorProfile, soon: dt.date
) -> None:
    slots = [
        SlotFactory(
            doctor=doctor_profile,
            weekday=soon.weekday(),
            start_time=dt.time(8 + n // 4, 15 * (n % 4)),
            end_time=dt.time(8 + n // 4, 15 * (n % 4) + 14),
        )
        for n in range(20)
    ]
    patients = PatientFactory.create_batch(len(slots))

    outcomes = at_once(
        [
            lambda p=p, s=s: services.book(patient=p, doctor=doctor_profile, slot=s, date=soon)
            for p, s in zip(patients, slots, strict=True)
        ]
    )

    assert [describe(o) for o in outcomes] == ["booked"] * len(slots)
    assert sorted(Appointment.objects.values_list("slot_id", "patient_id")) == sorted(
        (s.pk, p.pk) for s, p in zip(slots, patients, strict=True)
    )


def test_one_patient_booking_two_doctors_at_the_same_time_gets_one_appointment(
    patient: User, doctor_profile: DoctorProfile, soon: dt.date
) -> None:
    other = DoctorFactory().doctor_profile
    mine = SlotFactory(doctor=doctor_profile, weekday=soon.weekday(), start_time=dt.time(10))
    theirs = SlotFactory(doctor=other, weekday=soon.weekday(), start_time=dt.time(10, 15))

    # A few rounds (a week apart), so the two bookings really do meet in the middle.
    for week in range(5):
        date = soon + dt.timedelta(days=7 * week)
        outcomes = at_once(
            [
                lambda d=date: services.book(
                    patient=patient, doctor=doctor_profile, slot=mine, date=d
                ),
                lambda d=date: services.book(patient=patient, doctor=other, slot=theirs, date=d),
            ]
        )

        assert sorted(describe(o) for o in outcomes) == [
            "SchedulingError:patient_overlap",
            "booked",
        ], outcomes
        held = Appointment.objects.filter(patient=patient, date=date)
        assert held.count() == 1
        assert held.get().pk == next(o.pk for o in outcomes if isinstance(o, Appointment))


def test_one_patient_submitting_twice_at_once_gets_one_appointment(
    patient: User, doctor_profile: DoctorProfile, slot: Slot, soon: dt.date
) -> None:
    outcomes = at_once(
        [
            lambda: services.book(patient=patient, doctor=doctor_profile, slot=slot, date=soon)
            for _ in range(5)
        ]
    )

    assert [describe(o) for o in outcomes] == ["booked"] * 5
    row = Appointment.objects.get()
    assert {o.pk for o in outcomes} == {row.pk}


def test_rescheduling_into_a_slot_someone_books_at_the_same_time(
    patient: User, other_patient: User, doctor_profile: DoctorProfile, slot: Slot, soon: dt.date
) -> None:
    target = SlotFactory(doctor=doctor_profile, weekday=soon.weekday(), start_time=dt.time(11))

    for week in range(3):
        date = soon + dt.timedelta(days=7 * week)
        mine = services.book(patient=patient, doctor=doctor_profile, slot=slot, date=date)

        outcomes = at_once(
            [
                lambda a=mine, d=date: services.reschedule(
                    appointment=a, by=patient, slot=target, date=d
                ),
                lambda d=date: services.book(
                    patient=other_patient, doctor=doctor_profile, slot=target, date=d
                ),
            ]
        )

        kinds = sorted(describe(o) for o in outcomes)
        assert kinds == ["SlotTaken:slot_taken", "booked"], outcomes
        holder = Appointment.objects.open().get(slot=target, date=date)
        mine.refresh_from_db()
        if isinstance(outcomes[0], Appointment):  # the move won
            assert holder.pk == mine.pk
        else:  # the move lost: Alice keeps her old time
            assert holder.patient == other_patient
            assert (mine.slot_id, mine.date, mine.status) == (slot.pk, date, "scheduled")


def test_time_off_saved_while_a_booking_is_made_leaves_no_booking_on_the_day_off(
    doctor_profile: DoctorProfile, slot: Slot, soon: dt.date
) -> None:
    # Each round the booking either sees the time off and is refused, or commits first and is
    # then cancelled by the time off; never does a booking stay on a day off.
    for week in range(6):
        date = soon + dt.timedelta(days=7 * week)
        patient = PatientFactory()

        booking, time_off = at_once(
            [
                lambda p=patient, d=date: services.book(
                    patient=p, doctor=doctor_profile, slot=slot, date=d
                ),
                lambda d=date: services.add_time_off(
                    doctor=doctor_profile, start_date=d, end_date=d, cancel_booked=True
                ),
            ]
        )

        assert isinstance(time_off, TimeOff), time_off
        assert not Appointment.objects.open().filter(date=date).exists()
        if isinstance(booking, Appointment):
            booking.refresh_from_db()
            assert booking.status == Appointment.Status.CANCELLED
            assert "unavailable" in booking.cancellation_reason
        else:
            assert describe(booking) == "SchedulingError:time_off"


def test_retiring_a_slot_while_it_is_booked_leaves_no_booking_on_a_retired_slot(
    doctor_profile: DoctorProfile, soon: dt.date
) -> None:
    # Each round either the booking commits first and the slot stays in service, or the slot
    # is retired first and the booking is refused.
    for hour in range(8, 14):
        slot = SlotFactory(doctor=doctor_profile, weekday=soon.weekday(), start_time=dt.time(hour))
        patient = PatientFactory()

        booking, retiring = at_once(
            [
                lambda p=patient, s=slot: services.book(
                    patient=p, doctor=doctor_profile, slot=s, date=soon
                ),
                lambda s=slot: services.deactivate_slot(slot=s),
            ]
        )

        slot.refresh_from_db()
        if isinstance(booking, Appointment):
            assert describe(retiring) == "SchedulingError:slot_in_use"
            assert slot.is_active
            assert Appointment.objects.open().get(slot=slot).pk == booking.pk
        else:
            assert describe(booking) == "SchedulingError:bad_slot"
            assert isinstance(retiring, Slot)
            assert not slot.is_active
            assert not Appointment.objects.filter(slot=slot).exists()
