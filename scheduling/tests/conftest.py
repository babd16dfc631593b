"""Scheduling's fixed scene: a frozen clock, Dora's calendar, and a recorder of the events.

The clock stands still at Monday 1 June 2026, 10:00 in Berlin, so "next Monday" is 8 June.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory
from scheduling import events
from scheduling.models import Appointment, Slot
from scheduling.tests.factories import SlotFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)  # a Monday
TODAY = NOW.date()
NEXT_MONDAY = dt.date(2026, 6, 8)


@pytest.fixture
def now(settings: Settings) -> Iterator[dt.datetime]:
    """Time stands still at NOW in a clinic on Berlin time with the default booking rules."""
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_HORIZON_DAYS = 60
    settings.BOOKING_MIN_NOTICE_MINUTES = 60
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def dora(now: dt.datetime, doctor: User) -> DoctorProfile:
    """Dora's doctor profile (the conftest `doctor` is her user)."""
    return doctor.doctor_profile


@pytest.fixture
def other_doctor(now: dt.datetime) -> User:
    """Otto: another active doctor, a stranger to Dora's appointments."""
    return DoctorFactory(full_name="Otto Other", national_id="200000002")


@pytest.fixture
def monday_9(dora: DoctorProfile) -> Slot:
    """Dora's Mondays 09:00-09:30."""
    return SlotFactory(doctor=dora, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30))


@pytest.fixture
def published() -> Iterator[list[tuple[str, Appointment]]]:
    """Every event scheduling publishes during the test, in order."""
    seen: list[tuple[str, Appointment]] = []

    def record(event_type: str, appointment: Appointment, details: dict[str, Any]) -> None:
        seen.append((event_type, appointment))

    events.subscribe(record)
    yield seen
    events.unsubscribe(record)
