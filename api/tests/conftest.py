"""The API's fixed scene: the frozen Monday of scheduling's tests, the clinic's actors and a
bearer token for each.

Actors, as on the pages: anonymous, patient A (Alice) and B (Bob), doctor X (Dora) and Y
(Otto), the admin, and an inactive user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import (
    BranchFactory,
    DoctorFactory,
    PendingPatientFactory,
    SpecialtyFactory,
    front_desk,
)
from api import tokens
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY, NOW
from scheduling.tests.factories import AppointmentFactory, SlotFactory

API = "/api/v1"


def bearer(user: User) -> dict[str, str]:
    """Headers for the test client: the user's access token."""
    access, _ = tokens.issue(user, tokens.ACCESS)
    return {"Authorization": f"Bearer {access}"}


class ApiClient:
    """Django's test client speaking JSON to /api/v1 as one user (or nobody)."""

    def __init__(self, user: User | None = None) -> None:
        self.client = Client()
        self.user = user

    @property
    def headers(self) -> dict[str, str]:
        # A token issued now, by whatever clock the test runs on.
        return bearer(self.user) if self.user is not None else {}

    def request(self, method: str, path: str, json: object = None, **headers: str):  # type: ignore[no-untyped-def]
        kwargs: dict = {"headers": self.headers | headers}
        if json is not None:
            kwargs["data"] = json
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method.lower())(API + path, **kwargs)

    def get(self, path: str, **headers: str):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **headers)

    def post(self, path: str, json: object = None, **headers: str):  # type: ignore[no-untyped-def]
        return self.request("POST", path, json=json if json is not None else {}, **headers)

    def put(self, path: str, json: object = None, **headers: str):  # type: ignore[no-untyped-def]
        return self.request("PUT", path, json=json, **headers)


@pytest.fixture
def now(settings: Settings) -> Iterator[dt.datetime]:
    """Scheduling's frozen clock: Monday 1 June 2026, 10:00 in Berlin, default rules."""
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_HORIZON_DAYS = 60
    settings.BOOKING_MIN_NOTICE_MINUTES = 60
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def dermatology(now: dt.datetime) -> tuple:
    return (
        SpecialtyFactory(name="Dermatologist", slug="dermatologist"),
        BranchFactory(name="Riverside", slug="riverside", address="1 River Road"),
    )


@pytest.fixture
def dora(now: dt.datetime, doctor: User, dermatology: tuple) -> DoctorProfile:
    """Doctor X: Dora, a dermatologist at Riverside."""
    profile = doctor.doctor_profile
    profile.specialty, profile.branch = dermatology
    profile.slug = "dora-doctor"
    profile.save()
    return profile


@pytest.fixture
def otto(now: dt.datetime) -> DoctorProfile:
    """Doctor Y: Otto, a stranger to Dora's appointments."""
    return DoctorFactory(full_name="Otto Other", national_id="200000002").doctor_profile


@pytest.fixture
def inactive_user(db: None) -> User:
    return PendingPatientFactory(full_name="Ian Inactive", national_id="300000009")


@pytest.fixture
def monday_9(dora: DoctorProfile) -> Slot:
    """Dora's Mondays 09:00-09:30."""
    return SlotFactory(doctor=dora, weekday=0, start_time=dt.time(9), end_time=dt.time(9, 30))


@pytest.fixture
def monday_10(dora: DoctorProfile) -> Slot:
    """Dora's Mondays 10:00-10:30 (monday_9, from scheduling, is 09:00-09:30)."""
    return SlotFactory(doctor=dora, weekday=0, start_time=dt.time(10), end_time=dt.time(10, 30))


@pytest.fixture
def alices_appointment(patient: User, monday_9: Slot) -> Appointment:
    """Alice with Dora next Monday at 09:00."""
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()


@pytest.fixture
def as_alice(patient: User) -> ApiClient:
    return ApiClient(patient)


@pytest.fixture
def as_bob(other_patient: User) -> ApiClient:
    return ApiClient(other_patient)


@pytest.fixture
def as_dora(dora: DoctorProfile) -> ApiClient:
    return ApiClient(dora.user)


@pytest.fixture
def as_otto(otto: DoctorProfile) -> ApiClient:
    return ApiClient(otto.user)


@pytest.fixture
def as_admin(admin_user: User) -> ApiClient:
    return ApiClient(admin_user)


@pytest.fixture
def fay(dora: DoctorProfile) -> User:
    """The front desk of Dora's branch."""
    return front_desk(dora.branch)
