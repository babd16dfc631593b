"""The grid is computed for every request; its 10-second poll gets 304 while nothing changed.

The poll's ETag names the doctor's calendar version (in the cache, replaced by every change
of their openings), the window, the language and the minute. A booking, a cancellation and
each calendar change make the next poll a 200 with the new grid, in any process sharing
the cache.

Clock: Monday 1 June 2026, 10:00 Berlin (except the cross-process test, which books in a
real second process and so runs on the real clock).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling import availability, clock, services
from scheduling.models import Slot
from scheduling.tests.book_in_process import RESULT
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

T = dt.time


def fragment(client: Client, doctor: DoctorProfile, etag: str | None = None, **params: str) -> Any:
    headers = {"HX-Request": "true"} | ({"If-None-Match": etag} if etag else {})
    return client.get(f"/doctors/{doctor.slug}/availability/", params, headers=headers)


def link(doctor: DoctorProfile, date: dt.date, slot: Slot) -> str:
    return f"/doctors/{doctor.slug}/book/?date={date.isoformat()}&amp;slot={slot.public_id}"


def test_a_poll_whose_etag_holds_gets_304_after_one_query(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    first = fragment(client, dora)
    assert first.status_code == 200
    assert first["ETag"]
    assert "no-cache" in first["Cache-Control"]
    assert link(dora, NEXT_MONDAY, monday_9) in first.content.decode()

    with CaptureQueriesContext(connection) as queries:
        again = fragment(client, dora, first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert len(queries) == 0
    # Another window is another grid.
    assert fragment(client, dora, first["ETag"], start="2026-06-15").status_code == 200


def test_a_booking_makes_the_next_poll_a_new_grid(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    before = fragment(client, dora)

    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    after = fragment(client, dora, before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert link(dora, NEXT_MONDAY, monday_9) not in after.content.decode()
    assert "Taken: </span>09:00" in after.content.decode()


def test_a_cancellation_makes_the_next_poll_a_new_grid(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    before = fragment(client, dora)

    services.cancel(appointment=appointment, by=patient)

    after = fragment(client, dora, before["ETag"])
    assert after.status_code == 200
    assert link(dora, NEXT_MONDAY, monday_9) in after.content.decode()


def changes(dora: DoctorProfile, monday_9: Slot) -> list[tuple[str, Callable[[], object]]]:
    held: dict[str, Any] = {}

    def add_slot() -> None:
        held["slot"] = services.add_slot(
            doctor=dora, weekday=2, start_time=T(14), end_time=T(14, 30)
        )

    def add_time_off() -> None:
        held["off"] = services.add_time_off(
            doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY
        )

    return [
        ("add a slot", add_slot),
        ("retire it", lambda: services.deactivate_slot(slot=held["slot"])),
        ("time off", add_time_off),
        ("end the time off", lambda: services.remove_time_off(time_off=held["off"])),
        ("pause", lambda: services.set_accepting_bookings(doctor=dora, accepting=False)),
        ("resume", lambda: services.set_accepting_bookings(doctor=dora, accepting=True)),
    ]


def test_every_calendar_change_makes_the_next_poll_a_new_grid(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    for name, change in changes(dora, monday_9):
        before = fragment(client, dora)
        change()
        after = fragment(client, dora, before["ETag"])
        assert after.status_code == 200, name
        assert after.content != before.content, name


def test_an_admin_pausing_a_doctor_in_django_admin_goes_through_the_service(
    admin_client: Client, client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    from audit.models import AuditEntry

    before = fragment(client, dora)
    form = {
        "user": dora.user_id,
        "slug": dora.slug,
        "specialty": dora.specialty_id,
        "branch": dora.branch_id,
        "bio": dora.bio,
        "consultation_fee": "95.00",
        "emergency_contact": dora.emergency_contact,
        # "accepting_bookings" unticked: paused
        "_save": "Save",
    }

    saved = admin_client.post(f"/admin/accounts/doctorprofile/{dora.pk}/change/", form)

    assert saved.status_code == 302
    dora.refresh_from_db()
    assert (dora.accepting_bookings, str(dora.consultation_fee)) == (False, "95.00")
    assert AuditEntry.objects.filter(action="doctor_profile.bookings_paused").count() == 1
    after = fragment(client, dora, before["ETag"])
    assert after.status_code == 200
    assert "is not taking bookings" in after.content.decode()
    with pytest.raises(services.SchedulingError) as refused:
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert refused.value.code == "not_accepting"


def test_a_free_time_turning_past_makes_a_new_grid_at_that_minute(
    client: Client, dora: DoctorProfile
) -> None:
    """Slot times and the notice are whole minutes: the grid changes by the clock only just
    after a whole minute, and the ETag names the minute."""
    today_11 = SlotFactory(doctor=dora, weekday=0, start_time=T(11), end_time=T(11, 30))
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, 59, 5, tzinfo=BERLIN), tick=False):
        first = fragment(client, dora)
    assert link(dora, NOW.date(), today_11) in first.content.decode()

    # 60 minutes' notice: the 11:00 can be booked until 10:00 sharp, no later.
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN), tick=False):
        assert fragment(client, dora, first["ETag"]).status_code == 304
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, 0, 0, 1, tzinfo=BERLIN), tick=False):
        later = fragment(client, dora, first["ETag"])

    assert later.status_code == 200
    assert link(dora, NOW.date(), today_11) not in later.content.decode()
    assert "Past: </span>11:00" in later.content.decode()


def test_a_poll_between_a_booking_and_its_commit_is_renewed_after_the_commit(
    dora: DoctorProfile, django_capture_on_commit_callbacks: Any
) -> None:
    """A poll answered after the booking's first version change but before its commit read
    the rows from before it; the version changes again at the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        availability.changed(dora)
        seen_before_the_commit = availability.version(dora.slug)

    assert availability.version(dora.slug) not in ("", seen_before_the_commit)


def test_a_lost_version_makes_a_new_one(dora: DoctorProfile) -> None:
    first = availability.version(dora.slug)
    cache.clear()

    assert availability.version(dora.slug) not in ("", first)


def test_a_poll_of_an_unknown_doctor_is_a_404_and_leaves_nothing_in_the_cache(
    client: Client,
) -> None:
    response = client.get(
        "/doctors/nobody-at-all/availability/", headers={"If-None-Match": '"made-up"'}
    )

    assert response.status_code == 404
    assert availability.version("nobody-at-all", create=False) == ""


def test_a_doctor_no_longer_listed_is_a_404_once_the_minute_is_over(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    """A poll is answered from the version alone, without reading the doctor: a doctor
    taken off the list is a 404 from the next minute."""
    first = fragment(client, dora)
    dora.user.is_active = False
    dora.user.save(update_fields=["is_active"])

    assert fragment(client, dora).status_code == 404
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert fragment(client, dora, first["ETag"]).status_code == 404


def test_with_the_cache_down_the_grid_is_served_and_booking_works(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User, settings: Settings
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens on port 9 of the loopback: every cache call fails at once.
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        },
    }

    page = fragment(client, dora)
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert page.status_code == 200
    assert not page.has_header("ETag")
    assert link(dora, NEXT_MONDAY, monday_9) in page.content.decode()
    assert "Taken: </span>09:00" in fragment(client, dora).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_booking_in_another_process_makes_a_new_grid_with_a_shared_cache(
    client: Client, doctor: User, settings: Settings, tmp_path: Path
) -> None:
    """Two processes share a file-based cache (as web processes share Redis): the other
    process books, and this one's next poll gets the grid with the slot taken."""
    from scheduling.tests.test_concurrent_booking import child_env

    location = str(tmp_path)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": location,
        },
    }
    dora = doctor.doctor_profile
    soon = clock.today() + dt.timedelta(days=3)
    slot = SlotFactory(doctor=dora, weekday=soon.weekday(), start_time=T(10), end_time=T(10, 30))
    bob = PatientFactory()
    before = fragment(client, dora)
    assert link(dora, soon, slot) in before.content.decode()

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

    # Within the same minute: the version, not the clock, makes it new.
    with time_machine.travel(timezone.now(), tick=False):
        after = fragment(client, dora, before["ETag"])
    assert after.status_code == 200
    assert link(dora, soon, slot) not in after.content.decode()


def test_the_grid_is_made_and_validated_per_language(
    client: Client, dora: DoctorProfile, monday_9: Slot
) -> None:
    english = fragment(client, dora)
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    # The English grid's ETag does not hold for the German grid: a new one, in German.
    german = fragment(client, dora, english["ETag"])
    assert german.status_code == 200
    assert german["ETag"] != english["ETag"]
    assert "Buchen" in german.content.decode()
    assert german["Content-Language"] == "de"
    assert "Accept-Language" in german["Vary"]
    # And the German one holds for the next German poll.
    assert fragment(client, dora, german["ETag"]).status_code == 304
