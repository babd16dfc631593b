"""Redis down degrades the site, never takes it down: a real redis-server stopped mid-test.

While it is down the doctor page, its grid and the API's sign-in answer as usual, from the
database and uncached (a booking shows at once); the write limit counts in the process;
/health/ says `"cache": "down"`; /metrics counts what the cache could not do. Started again, the
cache is used again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PASSWORD
from clinic.tests.live import RedisServer, redis_server
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "m" * 32


@pytest.fixture
def shared_redis(settings: Settings) -> Iterator[RedisServer]:
    """The default cache on a private redis-server, as compose's CACHE_URL does."""
    with redis_server() as server:
        settings.CACHES = {
            **settings.CACHES,
            "default": {"BACKEND": "common.cache.ResilientRedisCache", "LOCATION": server.url},
        }
        settings.METRICS_TOKEN = METRICS_TOKEN
        yield server
        caches.close_all()


def grid(client: Client, doctor: DoctorProfile) -> str:
    response = client.get(f"/doctors/{doctor.slug}/availability/")
    assert response.status_code == 200
    return response.content.decode()


def booking_link(slot: Slot) -> str:
    """The grid's link to book `slot` next Monday."""
    return f"date={NEXT_MONDAY.isoformat()}&amp;slot={slot.public_id}"


def metric(client: Client, name: str) -> float:
    """A sample's value on /metrics (0 when absent), read as Prometheus would."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    total = 0.0
    for line in response.content.decode().splitlines():
        if line.startswith((name + "{", name + " ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_pages_and_sign_in_keep_answering_with_redis_stopped(
    client: Client,
    shared_redis: RedisServer,
    dora: DoctorProfile,
    monday_9: Slot,
    patient: User,
) -> None:
    assert client.get("/health/").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert booking_link(monday_9) in grid(client, dora)
    errors_before = metric(client, "clinic_cache_errors_total")

    shared_redis.stop()

    page = client.get(f"/doctors/{dora.slug}/")
    assert page.status_code == 200
    assert booking_link(monday_9) in page.content.decode()
    assert booking_link(monday_9) in grid(client, dora)
    token = client.post(
        "/api/v1/auth/token",
        {"national_id": patient.national_id, "password": PASSWORD},
        content_type="application/json",
    )
    assert token.status_code == 200, token.content
    assert token.json()["access"]
    health = client.get("/health/")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "down"}
    assert metric(client, "clinic_cache_errors_total") > errors_before

    # Uncached: a booking made now is off the very next grid.
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert booking_link(monday_9) not in grid(client, dora)

    shared_redis.start()

    assert client.get("/health/").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert booking_link(monday_9) not in grid(client, dora)


def test_a_grid_rendered_during_the_outage_is_not_served_after_a_booking(
    client: Client,
    shared_redis: RedisServer,
    dora: DoctorProfile,
    monday_9: Slot,
    patient: User,
) -> None:
    """Without the shared versions, a grid kept in the process could be served after a
    change made elsewhere: nothing is kept while Redis is down."""
    shared_redis.stop()
    assert booking_link(monday_9) in grid(client, dora)
    assert booking_link(monday_9) in grid(client, dora)

    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert booking_link(monday_9) not in grid(client, dora)


def test_the_write_limit_counts_in_the_process_while_redis_is_down(
    client: Client, shared_redis: RedisServer, settings: Settings
) -> None:
    settings.RATELIMITS = {"write": (3, 15 * 60)}
    shared_redis.stop()
    fallback_before = metric(client, "clinic_ratelimit_local_fallback_total")
    message = {
        "name": "Rita",
        "email": "rita@example.com",
        "subject": "Parking",
        "message": "Is there parking at the clinic?",
    }

    statuses = [client.post("/contact/", message).status_code for _ in range(4)]

    # Usable: the first three go through; safe: the fourth is refused all the same.
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    assert metric(client, "clinic_ratelimit_local_fallback_total") == fallback_before + 4


def test_a_dead_redis_is_not_asked_again_at_once(shared_redis: RedisServer) -> None:
    """After a failure the process answers misses without asking for DOWN_SECONDS: a dead
    Redis costs no connection attempt per request."""
    shared_redis.stop()
    cache = caches["default"]
    assert cache.get("anything") is None
    assert cache.health.skip()  # type: ignore[attr-defined]
    shared_redis.start()
    assert cache.get("anything", "missed") == "missed"  # not asked yet
    assert cache.ping()  # type: ignore[attr-defined]
    cache.set("anything", "stored")
    assert cache.get("anything") == "stored"
