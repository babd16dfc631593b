"""Two app servers on one database and one Redis, as README "Running on more than one
machine" describes: two gunicorn processes on the test database (SQLite here stands in for
one host's file; PostgreSQL in make test's second half) sharing a private redis-server.

A race for one slot across both books it once; a booking made on one leaves the other's grid
(cached there) within the recheck period; the write limit counts requests to both as one.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from api import tokens
from clinic.tests.live import Gunicorn, RedisServer, redis_server
from scheduling import clock, services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Gunicorn, Gunicorn, RedisServer]]:
    with redis_server() as cache:
        pair = [
            # DEBUG serves the pages' static references without a collectstatic (which
            # takes longer than this whole test); nothing checked here depends on it.
            Gunicorn(
                tmp_path / f"gunicorn-{n}.log",
                threads=4,
                CACHE_URL=cache.url,
                DEBUG="1",
                # As behind the load balancer: the test names the client's address.
                TRUSTED_PROXY_COUNT="1",
            )
            for n in (1, 2)
        ]
        try:
            for server in pair:
                server.start()
            yield pair[0], pair[1], cache
        finally:
            for server in pair:
                server.stop()


@pytest.fixture
def calendar(doctor: User) -> tuple[DoctorProfile, dt.date, list[Slot]]:
    """Two morning slots of the doctor on the weekday three days from now (real time: the
    servers')."""
    profile = doctor.doctor_profile
    date = clock.today() + dt.timedelta(days=3)
    slots = [
        services.add_slot(
            doctor=profile, weekday=date.weekday(), start_time=dt.time(h), end_time=dt.time(h, 30)
        )
        for h in (9, 10)
    ]
    return profile, date, slots


def book(server: Gunicorn, patient: User, doctor: DoctorProfile, slot: Slot, date: dt.date) -> int:
    access, _ = tokens.issue(patient, tokens.ACCESS)
    return requests.post(
        f"{server.url}/api/v1/appointments",
        json={"doctor": doctor.slug, "slot": str(slot.public_id), "date": date.isoformat()},
        headers={"Authorization": f"Bearer {access}"},
        timeout=30,
    ).status_code


def link(slot: Slot, date: dt.date) -> str:
    return f"date={date.isoformat()}&amp;slot={slot.public_id}"


def grid(server: Gunicorn, doctor: DoctorProfile) -> str:
    response = requests.get(f"{server.url}/doctors/{doctor.slug}/availability/", timeout=10)
    assert response.status_code == 200
    return response.text


def test_two_servers_share_bookings_pages_and_limits(
    servers: tuple[Gunicorn, Gunicorn, RedisServer],
    calendar: tuple[DoctorProfile, dt.date, list[Slot]],
) -> None:
    one, two, _ = servers
    doctor, date, (nine, ten) = calendar
    alice, bob = PatientFactory(), PatientFactory()

    # A race for 09:00, one request on each server at the same moment: one booking.
    start = threading.Barrier(2)
    statuses: list[int] = []

    def race(server: Gunicorn, patient: User) -> None:
        start.wait()
        statuses.append(book(server, patient, doctor, nine, date))

    racers = [threading.Thread(target=race, args=pair) for pair in ((one, alice), (two, bob))]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(statuses) == [201, 409]
    assert Appointment.objects.filter(slot=nine, date=date).count() == 1

    # 10:00, cached on server two, booked on server one: gone from two's grid within the
    # recheck period (a second), not its cache lifetime (a minute).
    assert link(ten, date) in grid(two, doctor)
    assert link(ten, date) in grid(two, doctor)
    assert book(one, alice, doctor, ten, date) == 201
    deadline = time.monotonic() + 3
    while link(ten, date) in grid(two, doctor):
        assert time.monotonic() < deadline, "server two still offers a time booked on one"
        time.sleep(0.1)

    # The write limit (100 per 15 minutes per address) counts both servers' requests as one:
    # 100 split between them from another address, and the next is refused on both. Windows
    # are fixed (:00, :15...): started close to the next, the count would restart mid-way.
    window = 15 * 60
    if (left := window - time.time() % window) < 30:
        time.sleep(left + 1)

    def write(server: Gunicorn) -> int:
        return requests.post(
            f"{server.url}/api/v1/auth/token",
            json={},
            headers={"X-Forwarded-For": "192.0.2.44"},
            timeout=10,
        ).status_code

    answers = [write(one if n % 2 else two) for n in range(100)]
    assert 429 not in answers
    assert write(one) == 429
    assert write(two) == 429
