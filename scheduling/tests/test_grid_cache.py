"""The doctor page's grid comes from the cache, and no cached grid outlives a change.

Every booking, cancellation, reschedule and calendar change replaces the doctor's grid
version, in the cache itself: the next render (in any process sharing the cache) is fresh.

Clock: Monday 1 June 2026, 10:00 Berlin (except the cross-process test, which books in a
real second process and so runs on the real clock).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory, PatientFactory
from scheduling import availability, clock, services
from scheduling.models import Slot
from scheduling.tests.book_in_process import RESULT
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

T = dt.time


def grid(client: Client, doctor: DoctorProfile, **params: str) -> str:
    response = client.get(f"/doctors/{doctor.slug}/availability/", params)
    assert response.status_code == 200
    return response.content.decode()


def link(doctor: DoctorProfile, date: dt.date, slot: Slot) -> str:
    return f"/doctors/{doctor.slug}/book/?date={date.isoformat()}&amp;slot={slot.public_id}"


def queries_of(client: Client, doctor: DoctorProfile) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = grid(client, doctor)
    return len(queries), page


def test_a_second_render_comes_from_the_cache(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    cold, first = queries_of(client, dora)
    warm, second = queries_of(client, dora)

    assert (cold, warm) == (4, 0)
    assert second == first
    assert link(dora, NEXT_MONDAY, monday_9) in second


def test_a_booking_takes_the_slot_off_the_next_render(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    assert link(dora, NEXT_MONDAY, monday_9) in grid(client, dora)

    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    page = grid(client, dora)
    assert link(dora, NEXT_MONDAY, monday_9) not in page
    assert "Taken: </span>09:00" in page


def test_a_cancellation_frees_the_slot_in_the_next_render(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert link(dora, NEXT_MONDAY, monday_9) not in grid(client, dora)

    services.cancel(appointment=appointment, by=patient)

    assert link(dora, NEXT_MONDAY, monday_9) in grid(client, dora)


def test_calendar_changes_show_in_the_next_render(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    grid(client, dora)
    wednesday = services.add_slot(doctor=dora, weekday=2, start_time=T(14), end_time=T(14, 30))
    page = grid(client, dora)
    assert link(dora, dt.date(2026, 6, 3), wednesday) in page

    time_off = services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)
    assert link(dora, NEXT_MONDAY, monday_9) not in grid(client, dora)
    services.remove_time_off(time_off=time_off)
    assert link(dora, NEXT_MONDAY, monday_9) in grid(client, dora)

    services.deactivate_slot(slot=wednesday)
    assert link(dora, dt.date(2026, 6, 3), wednesday) not in grid(client, dora)

    services.set_accepting_bookings(doctor=dora, accepting=False)
    assert "is not taking bookings" in grid(client, dora)


def test_a_grid_computed_during_a_booking_is_not_served_after_it(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    """A reader that read the rows before a booking committed caches what it saw under the
    version it started with; the booking replaced that version, so nobody gets it."""
    renders = []

    def render_while_someone_books() -> tuple[str, dt.datetime | None]:
        renders.append(1)
        if len(renders) == 1:
            services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
            return "free (stale)", None
        return "taken", None

    def render() -> str:
        return availability.cached_grid(
            doctor_id=dora.pk, variant="v", render=render_while_someone_books
        )

    assert render() == "free (stale)"
    assert render() == "taken"
    assert render() == "taken"
    assert len(renders) == 2


def test_a_grid_read_between_the_booking_and_its_commit_is_not_served_after_the_commit(
    dora: DoctorProfile, monday_9: Slot, patient: User, django_capture_on_commit_callbacks: Any
) -> None:
    """A reader that starts after the booking's first version change but before its commit
    still sees the old rows; the change made again after the commit retires what it cached."""

    def cached(html: str) -> str:
        return availability.cached_grid(doctor_id=dora.pk, variant="v", render=lambda: (html, None))

    with django_capture_on_commit_callbacks(execute=True):
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
        assert cached("read before the commit") == "read before the commit"
        assert cached("fresh") == "read before the commit"

    assert cached("fresh") == "fresh"


def test_a_lost_version_key_makes_a_new_version(dora: DoctorProfile, settings: Settings) -> None:
    settings.AVAILABILITY_RECHECK_SECONDS = 1
    first = availability.grid_version(dora.pk)
    cache.delete(f"scheduling:grid-version:{dora.pk}")

    with time_machine.travel(NOW + dt.timedelta(seconds=1.5), tick=False):
        assert availability.grid_version(dora.pk) not in ("", first)


def test_a_process_sees_another_ones_change_within_the_recheck_period(
    dora: DoctorProfile, settings: Settings
) -> None:
    settings.AVAILABILITY_RECHECK_SECONDS = 1
    mine = availability.grid_version(dora.pk)
    # What `changed` in another process does to the shared cache.
    cache.set(f"scheduling:grid-version:{dora.pk}", "from-another-process", timeout=None)

    assert availability.grid_version(dora.pk) == mine  # kept in this process's memory
    with time_machine.travel(NOW + dt.timedelta(seconds=1.5), tick=False):
        assert availability.grid_version(dora.pk) == "from-another-process"


def test_a_change_in_this_process_shows_at_once(dora: DoctorProfile, settings: Settings) -> None:
    settings.AVAILABILITY_RECHECK_SECONDS = 60
    mine = availability.grid_version(dora.pk)

    availability.changed(dora.pk)

    assert availability.grid_version(dora.pk) != mine


def test_a_free_time_turns_past_in_the_cached_grid_when_its_notice_runs_out(
    client: Client, dora: DoctorProfile, settings: Settings
) -> None:
    settings.AVAILABILITY_CACHE_SECONDS = 3600
    today_1130 = SlotFactory(doctor=dora, weekday=0, start_time=T(11, 30), end_time=T(12))
    assert link(dora, NOW.date(), today_1130) in grid(client, dora)

    # 60 minutes' notice: from 10:30 the 11:30 can no longer be booked.
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, 31, tzinfo=BERLIN), tick=False):
        page = grid(client, dora)

    assert link(dora, NOW.date(), today_1130) not in page
    assert "Past: </span>11:30" in page


def test_no_cache_when_switched_off(
    client: Client, dora: DoctorProfile, monday_9: Slot, settings: Settings
) -> None:
    settings.AVAILABILITY_CACHE_SECONDS = 0

    assert [queries_of(client, dora)[0] for _ in range(2)] == [4, 4]


@pytest.mark.django_db(transaction=True)
def test_a_booking_in_another_process_shows_with_a_shared_cache(
    client: Client, doctor: User, settings: Settings, tmp_path: Path
) -> None:
    """Two processes share a file-based cache (as web processes share Redis): the other
    process books, and this one's render after the recheck period has the slot taken."""
    from scheduling.tests.test_concurrent_booking import child_env

    location = str(tmp_path)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": location,
        },
        "pages": settings.CACHES["pages"],
    }
    settings.AVAILABILITY_CACHE_SECONDS = 3600
    dora = doctor.doctor_profile
    soon = clock.today() + dt.timedelta(days=3)
    slot = SlotFactory(doctor=dora, weekday=soon.weekday(), start_time=T(10), end_time=T(10, 30))
    bob = PatientFactory()
    assert link(dora, soon, slot) in grid(client, dora)

    ids = [str(bob.pk), str(dora.pk), str(slot.pk), soon.isoformat()]
    env = child_env()
    env["CACHE_URL"] = f"filecache://{location}"
    child = subprocess.run(
        [sys.executable, "-m", "scheduling.tests.book_in_process", *ids],
        input="go\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=60,
        check=True,
    )
    assert f'{RESULT} {{"outcome": "booked"' in child.stdout, child.stdout + child.stderr

    later = timezone.now() + dt.timedelta(seconds=settings.AVAILABILITY_RECHECK_SECONDS + 0.5)
    with time_machine.travel(later, tick=False):
        assert link(dora, soon, slot) not in grid(client, dora)


def page(client: Client, doctor: DoctorProfile) -> str:
    response = client.get(f"/doctors/{doctor.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def csrf_of(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_visitors_without_a_session_share_one_cached_page_each_with_their_own_token(
    dora: DoctorProfile, monday_9: Slot
) -> None:
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first = page(alice, dora)
    with CaptureQueriesContext(connection) as queries:
        second = page(bob, dora)

    assert len(queries) == 0
    assert csrf_of(first) != csrf_of(second)
    assert first.replace(csrf_of(first), "") == second.replace(csrf_of(second), "")
    # Each token is good for its own visitor only: past the CSRF check (on to the login).
    book = f"/doctors/{dora.slug}/book/"
    assert bob.post(book, headers={"X-CSRFToken": csrf_of(second)}).status_code == 302
    assert alice.post(book, headers={"X-CSRFToken": csrf_of(second)}).status_code == 403


def test_a_signed_in_visitor_gets_their_own_page_not_the_cached_one(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    anonymous = page(Client(), dora)
    client.force_login(patient)

    mine = page(client, dora)

    assert "Log out" in mine
    assert "Alice" in mine
    assert "Log out" not in anonymous
    assert link(dora, NEXT_MONDAY, monday_9) in mine


def test_a_visitor_with_a_message_waiting_gets_it_not_the_cached_page(
    dora: DoctorProfile, monday_9: Slot
) -> None:
    """Flash messages ride in a cookie: a visitor without a session may still have one."""
    page(Client(), dora)  # the page every visitor without a session shares, now cached
    visitor = Client()
    contact = {"name": "Hanna", "email": "hanna@example.com", "phone": "", "subject": "Parking"}
    sent = visitor.post("/contact/", contact | {"message": "Is there parking at Riverside?"})
    assert sent.status_code == 302
    assert settings.SESSION_COOKIE_NAME not in visitor.cookies

    shown = page(visitor, dora)

    assert "your message has reached the clinic" in shown
    assert "your message has reached the clinic" not in page(visitor, dora)  # shown once
    assert "your message has reached the clinic" not in page(Client(), dora)


def test_a_booking_takes_the_slot_off_the_cached_page(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    assert link(dora, NEXT_MONDAY, monday_9) in page(Client(), dora)

    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert link(dora, NEXT_MONDAY, monday_9) not in page(Client(), dora)


def test_a_profile_edit_shows_when_the_cached_heading_runs_out(
    dora: DoctorProfile, monday_9: Slot, settings: Settings
) -> None:
    settings.AVAILABILITY_CACHE_SECONDS = 10
    page(Client(), dora)
    DoctorProfile.objects.filter(pk=dora.pk).update(bio="Twenty years of cardiology.")

    assert "Twenty years" not in page(Client(), dora)
    with time_machine.travel(NOW + dt.timedelta(seconds=11), tick=False):
        assert "Twenty years" in page(Client(), dora)


def test_pages_cached_together_run_out_at_different_moments(
    now: dt.datetime, settings: Settings
) -> None:
    """After a restart every doctor's page is cached within a second: if their entries ran out
    together, each worker would rebuild them all in one burst (the p99 of `make bench`)."""
    settings.AVAILABILITY_CACHE_SECONDS = 100
    doctors = [DoctorFactory().doctor_profile for _ in range(20)]
    for doctor in doctors:
        page(Client(), doctor)

    def still_cached() -> int:
        cards = availability.pages()
        return sum(cards.get(f"scheduling:doctor-card:{d.slug}") is not None for d in doctors)

    assert still_cached() == 20
    with time_machine.travel(NOW + dt.timedelta(seconds=74), tick=False):
        assert still_cached() == 20  # no entry is kept less than three quarters of the period
    with time_machine.travel(NOW + dt.timedelta(seconds=88), tick=False):
        assert 0 < still_cached() < 20
    with time_machine.travel(NOW + dt.timedelta(seconds=101), tick=False):
        assert still_cached() == 0  # nor longer than the period
