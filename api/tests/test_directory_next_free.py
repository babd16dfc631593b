"""The API's directory carries each doctor's next free time, the one the directory's cards
show (scheduling.availability.next_free_of through directory.cards, as the page reads it),
for a page of doctors in a fixed number of queries; its search finds what the page's does.

Clock: Monday 1 June 2026, 10:00 Berlin: today's 09:00 is past.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import DoctorProfile
from accounts.tests.factories import DoctorFactory, PatientFactory
from api.tests.conftest import ApiClient
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory, TimeOffFactory

pytestmark = pytest.mark.django_db


def listed(client: ApiClient, query: str = "") -> dict[str, dict]:
    response = client.get(f"/doctors{query}")
    assert response.status_code == 200, response.content
    return {d["slug"]: d for d in response.json()["items"]}


def test_each_doctor_carries_the_next_free_time_its_card_shows(
    anonymous: ApiClient, client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    # Next Monday 09:00 is taken: the first free one is the Monday after.
    AppointmentFactory(slot=monday_9, date=NEXT_MONDAY, patient=PatientFactory())

    found = listed(anonymous)[dora.slug]["next_free"]

    assert found == {
        "slot": str(monday_9.public_id),
        "date": "2026-06-15",
        "starts_at": "2026-06-15T09:00:00+02:00",
        "ends_at": "2026-06-15T09:30:00+02:00",
        "state": "free",
    }
    card = client.get("/doctors/").content.decode()
    assert f"date=2026-06-15&amp;slot={monday_9.public_id}" in card
    one = anonymous.get(f"/doctors/{dora.slug}").json()
    assert one["next_free"] == found


def test_nothing_free_or_not_taking_bookings_is_null(
    anonymous: ApiClient, dora: DoctorProfile, monday_9: Slot
) -> None:
    quiet = DoctorFactory(full_name="Quentin Quiet").doctor_profile  # no slots at all

    services.set_accepting_bookings(doctor=dora, accepting=False)
    doctors = listed(anonymous)

    assert doctors[quiet.slug]["next_free"] is None
    assert doctors[dora.slug]["next_free"] is None
    assert anonymous.get(f"/doctors/{dora.slug}").json()["next_free"] is None


def test_search_finds_a_title_and_name_a_surname_or_a_specialty(
    anonymous: ApiClient, dora: DoctorProfile, otto: DoctorProfile
) -> None:
    assert list(listed(anonymous, "?q=Dr.%20Dora")) == [dora.slug]
    assert list(listed(anonymous, "?q=dora")) == [dora.slug]
    assert list(listed(anonymous, "?q=dermato")) == [dora.slug]
    assert list(listed(anonymous, "?q=riverside")) == [dora.slug]
    assert list(listed(anonymous, "?q=Dr.%20Nobody")) == []


def _add_doctors(n: int) -> None:
    for i in range(n):
        profile = DoctorFactory(full_name=f"Doc Number {i:02d}").doctor_profile
        monday = SlotFactory(doctor=profile, weekday=0, start_time=dt.time(9))
        SlotFactory(doctor=profile, weekday=2, start_time=dt.time(11), end_time=dt.time(11, 20))
        if i % 2:  # half with their first fortnight gone: the later look runs too
            AppointmentFactory(slot=monday, date=NEXT_MONDAY, patient=PatientFactory())
            TimeOffFactory(doctor=profile, start_date=TODAY, end_date=dt.date(2026, 6, 14))


def _queries(client: ApiClient) -> tuple[int, dict[str, dict]]:
    with CaptureQueriesContext(connection) as ctx:
        doctors = listed(client, "?limit=50")
    return len(ctx.captured_queries), doctors


def test_a_page_of_doctors_costs_the_same_queries_small_or_large(
    anonymous: ApiClient, now: dt.datetime
) -> None:
    _add_doctors(3)
    small, few = _queries(anonymous)

    _add_doctors(27)  # 30 doctors on one page
    large, many = _queries(anonymous)

    assert len(few) == 3
    assert len(many) == 30
    assert all(d["next_free"] is not None for d in many.values())
    by_name = {d["name"]: d["next_free"]["starts_at"] for d in many.values()}
    assert by_name["Dr. Doc Number 00"] == "2026-06-03T11:00:00+02:00"
    assert by_name["Dr. Doc Number 01"] == "2026-06-15T09:00:00+02:00"
    assert large == small, (small, large)
    # The count, the page of doctors, then at most six calendar reads.
    assert large <= 8, large
