"""The visit's state machine: scheduled → checked_in → completed, completed or no-show only
once the time has come, final states stay final, and only the doctor or an admin moves it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from accounts.models import User
from scheduling import events, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status

BEFORE_START = dt.datetime(2026, 6, 8, 8, 40, tzinfo=BERLIN)  # the morning of the visit
AT_START = dt.datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
DURING = dt.datetime(2026, 6, 8, 9, 10, tzinfo=BERLIN)
DAY_BEFORE = dt.datetime(2026, 6, 7, 18, 0, tzinfo=BERLIN)
DAY_AFTER = dt.datetime(2026, 6, 9, 8, 0, tzinfo=BERLIN)


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    """Alice's appointment with Dora next Monday at 09:00."""
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


def at(when: dt.datetime, action: Callable[..., Appointment], **kwargs: object) -> Appointment:
    with time_machine.travel(when, tick=False):
        return action(**kwargs)


def refused_at(
    when: dt.datetime, code: str, action: Callable[..., Appointment], **kwargs: object
) -> services.SchedulingError:
    with pytest.raises(services.SchedulingError) as caught:
        at(when, action, **kwargs)
    assert caught.value.code == code, caught.value.text
    return caught.value


def status_of(appointment: Appointment) -> str:
    appointment.refresh_from_db()
    return appointment.status


class TestCheckIn:
    def test_doctor_checks_in_before_the_start_on_the_day(
        self, booked: Appointment, doctor: User, published: list
    ) -> None:
        at(BEFORE_START, services.check_in, appointment=booked, by=doctor)

        booked.refresh_from_db()
        assert booked.status == Status.CHECKED_IN
        assert booked.checked_in_at == BEFORE_START
        assert [event for event, _ in published] == [events.CHECKED_IN]

    @pytest.mark.parametrize("when", [DAY_BEFORE, DAY_AFTER, NOW])
    def test_check_in_on_another_day_is_refused(
        self, booked: Appointment, doctor: User, when: dt.datetime
    ) -> None:
        refused_at(when, "not_today", services.check_in, appointment=booked, by=doctor)

        booked.refresh_from_db()
        assert booked.status == Status.SCHEDULED
        assert booked.checked_in_at is None

    def test_the_day_is_the_clinics_day(self, booked: Appointment, doctor: User) -> None:
        # 23:30 UTC on Sunday is already Monday 01:30 in Berlin.
        sunday_night_utc = dt.datetime(2026, 6, 7, 23, 30, tzinfo=dt.UTC)

        at(sunday_night_utc, services.check_in, appointment=booked, by=doctor)

        assert status_of(booked) == Status.CHECKED_IN

    def test_checked_in_patient_is_completed_by_the_doctor(
        self, booked: Appointment, doctor: User
    ) -> None:
        at(BEFORE_START, services.check_in, appointment=booked, by=doctor)

        at(DURING, services.complete, appointment=booked, by=doctor)

        booked.refresh_from_db()
        assert booked.status == Status.COMPLETED
        assert booked.completed_at == DURING
        assert booked.checked_in_at == BEFORE_START


class TestCompleteAndNoShow:
    def test_scheduled_cannot_be_completed_before_the_start(
        self, booked: Appointment, doctor: User
    ) -> None:
        error = refused_at(
            BEFORE_START, "not_started", services.complete, appointment=booked, by=doctor
        )

        assert "09:00" in error.text
        assert status_of(booked) == Status.SCHEDULED

    @pytest.mark.parametrize("when", [AT_START, DURING, DAY_AFTER])
    def test_scheduled_is_completed_once_started(
        self, booked: Appointment, doctor: User, when: dt.datetime, published: list
    ) -> None:
        at(when, services.complete, appointment=booked, by=doctor)

        booked.refresh_from_db()
        assert booked.status == Status.COMPLETED
        assert booked.completed_at == when
        assert [event for event, _ in published] == [events.COMPLETED]

    def test_scheduled_cannot_be_a_no_show_before_the_start(
        self, booked: Appointment, doctor: User
    ) -> None:
        refused_at(
            BEFORE_START, "not_started", services.mark_no_show, appointment=booked, by=doctor
        )

        assert status_of(booked) == Status.SCHEDULED

    def test_checked_in_cannot_be_a_no_show_before_the_start(
        self, booked: Appointment, doctor: User
    ) -> None:
        at(BEFORE_START, services.check_in, appointment=booked, by=doctor)

        refused_at(
            BEFORE_START, "not_started", services.mark_no_show, appointment=booked, by=doctor
        )

        assert status_of(booked) == Status.CHECKED_IN

    def test_scheduled_is_a_no_show_once_started(
        self, booked: Appointment, doctor: User, published: list
    ) -> None:
        at(DURING, services.mark_no_show, appointment=booked, by=doctor)

        booked.refresh_from_db()
        assert booked.status == Status.NO_SHOW
        assert booked.no_show_at == DURING
        assert [event for event, _ in published] == [events.NO_SHOW]

    def test_checked_in_is_a_no_show_once_started(self, booked: Appointment, doctor: User) -> None:
        at(BEFORE_START, services.check_in, appointment=booked, by=doctor)

        at(DURING, services.mark_no_show, appointment=booked, by=doctor)

        assert status_of(booked) == Status.NO_SHOW


FINAL = [
    (Status.COMPLETED, "completed_at", "completed"),
    (Status.CANCELLED, "cancelled_at", "cancelled"),
    (Status.NO_SHOW, "no_show_at", "no-show"),
]
TRANSITIONS = [services.check_in, services.complete, services.mark_no_show]


@pytest.mark.parametrize(("status", "stamp", "label"), FINAL)
@pytest.mark.parametrize("action", TRANSITIONS, ids=lambda f: f.__name__)
def test_final_states_refuse_every_transition_with_a_reason(
    monday_9: Slot,
    doctor: User,
    status: str,
    stamp: str,
    label: str,
    action: Callable[..., Appointment],
    published: list,
) -> None:
    appointment = AppointmentFactory(slot=monday_9, date=NEXT_MONDAY, status=status, **{stamp: NOW})

    error = refused_at(DURING, "bad_transition", action, appointment=appointment, by=doctor)

    assert f"A {label} appointment cannot be marked" in error.text
    appointment.refresh_from_db()
    assert appointment.status == status
    assert getattr(appointment, stamp) == NOW
    assert published == []


def test_checked_in_cannot_be_checked_in_again(booked: Appointment, doctor: User) -> None:
    at(BEFORE_START, services.check_in, appointment=booked, by=doctor)

    refused_at(DURING, "bad_transition", services.check_in, appointment=booked, by=doctor)

    booked.refresh_from_db()
    assert booked.checked_in_at == BEFORE_START


class TestWhoMayMoveTheVisit:
    @pytest.mark.parametrize("action", TRANSITIONS, ids=lambda f: f.__name__)
    def test_admin_may(
        self, booked: Appointment, admin_user: User, action: Callable[..., Appointment]
    ) -> None:
        at(DURING, action, appointment=booked, by=admin_user)

        assert status_of(booked) != Status.SCHEDULED

    @pytest.mark.parametrize("stranger", ["patient", "other_patient", "other_doctor"])
    @pytest.mark.parametrize("action", TRANSITIONS, ids=lambda f: f.__name__)
    @pytest.mark.parametrize("when", [DURING, DAY_AFTER], ids=["on the day", "another day"])
    def test_patient_and_strangers_may_not(
        self,
        booked: Appointment,
        stranger: str,
        action: Callable[..., Appointment],
        when: dt.datetime,
        request: pytest.FixtureRequest,
    ) -> None:
        who = request.getfixturevalue(stranger)

        with pytest.raises(services.NotAllowed), time_machine.travel(when, tick=False):
            action(appointment=booked, by=who)

        booked.refresh_from_db()
        assert booked.status == Status.SCHEDULED
        assert (booked.checked_in_at, booked.completed_at, booked.no_show_at) == (None,) * 3
