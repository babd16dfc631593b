"""Factories for scheduling: weekly slots, time off and appointments.

People come from accounts' factories. AppointmentFactory writes the row directly (no rules
checked), for arranging a calendar; tests of the rules themselves go through
`scheduling.services`.
"""

from __future__ import annotations

import datetime as dt

import factory

from accounts.tests.factories import DoctorProfileFactory, PatientFactory
from scheduling import clock
from scheduling.models import Appointment, Slot, TimeOff


def next_weekday(weekday: int, *, after: dt.date | None = None, days_ahead: int = 1) -> dt.date:
    """The first date on `weekday` at least `days_ahead` days after `after` (default: today
    in the clinic's zone)."""
    first = (after or clock.today()) + dt.timedelta(days=days_ahead)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7)


def _window(appointment: Appointment) -> tuple[dt.datetime, dt.datetime]:
    window = clock.slot_window(
        appointment.date, appointment.slot.start_time, appointment.slot.end_time
    )
    if window is None:
        raise ValueError(f"{appointment.slot} does not exist on {appointment.date}")
    return window


class SlotFactory(factory.django.DjangoModelFactory):
    """Mondays 09:00-09:30 of a new doctor unless told otherwise."""

    class Meta:
        model = Slot

    doctor = factory.SubFactory(DoctorProfileFactory)
    weekday = 0
    start_time = dt.time(9, 0)
    end_time = factory.LazyAttribute(
        lambda o: (dt.datetime.combine(dt.date.min, o.start_time) + dt.timedelta(minutes=30)).time()
    )


class TimeOffFactory(factory.django.DjangoModelFactory):
    """One day off, a week from today."""

    class Meta:
        model = TimeOff

    doctor = factory.SubFactory(DoctorProfileFactory)
    start_date = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=7))
    end_date = factory.SelfAttribute("start_date")
    reason = "Conference"


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A scheduled appointment in the slot's next occurrence at least two days from today,
    with its aware start and end worked out from the slot and the date."""

    class Meta:
        model = Appointment

    slot = factory.SubFactory(SlotFactory)
    doctor = factory.SelfAttribute("slot.doctor")
    patient = factory.SubFactory(PatientFactory)
    date = factory.LazyAttribute(lambda o: next_weekday(o.slot.weekday, days_ahead=2))
    starts_at = factory.LazyAttribute(lambda o: _window(o)[0])
    ends_at = factory.LazyAttribute(lambda o: _window(o)[1])
    status = Appointment.Status.SCHEDULED
    reason = "Check-up"
