"""The directory's cards show each doctor's next free time, read for the whole page in a
fixed number of queries (never one per doctor), and link straight to booking it.

The clock stands at Monday 1 June 2026, 10:00 Berlin (scheduling/tests/conftest.py): today's
09:00 is past, the horizon ends on 31 July.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory
from scheduling import availability
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import TimeOffFactory
from scheduling.tests.view_helpers import booked, html, slot_at

pytestmark = pytest.mark.django_db

URL = "/doctors/"


def card_of(page: str, name: str) -> str:
    start = page.index(f">Dr. {name}<")
    return page[start : page.index("</article>", start)]


def test_card_shows_the_next_free_time_and_links_to_booking_it(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    page = html(client.get(URL))

    card = card_of(page, "Dora Doctor")
    assert "Next free time:" in card
    assert "<strong>Mon 8 Jun, 09:00</strong>" in card
    assert (
        f'href="/doctors/{dora.slug}/book/?date=2026-06-08&amp;slot={monday_9.public_id}"' in card
    )
    assert '<span class="visually-hidden">Book Dr. Dora Doctor: </span>' in card


def test_taken_past_and_time_off_are_skipped_and_later_weeks_are_searched(
    client: Client, dora: DoctorProfile, monday_9: Slot, other_patient: User
) -> None:
    tuesday_14 = slot_at(dora, 1, dt.time(14))
    booked(monday_9, NEXT_MONDAY, patient=other_patient)
    # Off from tomorrow to 20 June: the first fortnight has nothing free.
    TimeOffFactory(doctor=dora, start_date=TODAY, end_date=dt.date(2026, 6, 20))

    found = availability.next_free_of([dora.pk])

    opening = found[dora.pk]
    assert opening is not None
    assert (opening.date, opening.slot.pk) == (dt.date(2026, 6, 22), monday_9.pk)
    dora.refresh_from_db()
    page = html(client.get(URL))
    assert "<strong>Mon 22 Jun, 09:00</strong>" in card_of(page, "Dora Doctor")
    assert tuesday_14.pk != opening.slot.pk


def test_a_doctor_with_nothing_free_or_paused_says_so(
    client: Client, dora: DoctorProfile, now: dt.datetime
) -> None:
    paused = DoctorFactory(full_name="Paula Paused").doctor_profile
    slot_at(paused, 0, dt.time(9))
    DoctorProfile._base_manager.filter(pk=paused.pk).update(accepting_bookings=False)

    page = html(client.get(URL))

    assert "No free time in the coming weeks" in card_of(page, "Dora Doctor")
    paused_card = card_of(page, "Paula Paused")
    assert "Next free time" not in paused_card
    assert "Not taking bookings" in paused_card


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _add_doctors(n: int) -> None:
    for i in range(n):
        profile = DoctorFactory(full_name=f"Doc Number {i:02d}").doctor_profile
        monday = slot_at(profile, 0, dt.time(9))
        slot_at(profile, 2, dt.time(11), minutes=20)
        if i % 2:  # half of them with their first fortnight gone: the later look runs too
            # A patient of their own each: one person cannot be in two rooms at once.
            booked(monday, NEXT_MONDAY, patient=PatientFactory())
            TimeOffFactory(doctor=profile, start_date=TODAY, end_date=dt.date(2026, 6, 14))


def test_the_page_reads_next_free_times_in_the_same_number_of_queries_at_any_size(
    client: Client, now: dt.datetime
) -> None:
    _add_doctors(3)
    small = _queries(client)
    small_page = html(client.get(URL))

    _add_doctors(18)  # 21 doctors: still one page (24)
    large = _queries(client)
    large_page = html(client.get(URL))

    assert small_page.count("Next free time:") == 3
    assert large_page.count("Next free time:") == 21
    assert "<strong>Mon 15 Jun, 09:00</strong>" in card_of(large_page, "Doc Number 01")
    assert "<strong>Wed 3 Jun, 11:00</strong>" in card_of(large_page, "Doc Number 00")
    assert large == small
    # The page, the filters and the session, plus at most six calendar reads.
    assert large <= 12, large
