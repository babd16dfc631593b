"""100 writes per 15 minutes per client address on the write endpoints: the 101st is a 429
with Retry-After and a friendly page, and writes nothing. Counters live in the cache."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.urls import resolve
from pytest_django.fixtures import Settings

from accounts.models import User
from common import ratelimit

pytestmark = pytest.mark.django_db

# 08:00:00 UTC: the start of a 15-minute window.
START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
IP = "192.0.2.10"

# Every endpoint that writes on behalf of someone who may be anonymous, with its limit.
WRITE_ENDPOINTS = {
    "/accounts/register/": "write",
    "/accounts/login/": "write",
    "/accounts/password_reset/": "write",
    "/accounts/reset/MQ/set-password/": "write",
    "/doctors/dora/book/": "write",
    "/appointments/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/cancel/": "write",
    "/appointments/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/reschedule/": "write",
    "/contact/": "write",
    "/accounts/profile/calendar/": "write",
    # Every operation of the JSON API (api/urls.py); reading is never counted.
    "/api/v1/auth/token": "write",
    "/api/v1/appointments": "write",
    "/api/v1/appointments/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/cancel": "write",
}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def small_limit(settings: Settings) -> int:
    settings.RATELIMITS = {"write": (3, 15 * 60)}
    return 3


def registration(national_id: str = "400000001") -> dict[str, str]:
    return {
        "national_id": national_id,
        "full_name": "Rita Register",
        "email": f"rita{national_id}@example.com",
        "phone": "+49 30 5550001",
        "password1": "a-long-pass-phrase",
        "password2": "a-long-pass-phrase",
        "date_of_birth": "1990-01-02",
    }


@pytest.mark.parametrize(("path", "scope"), WRITE_ENDPOINTS.items())
def test_each_write_endpoint_is_limited(path: str, scope: str) -> None:
    assert getattr(resolve(path).func, "ratelimit_scope", None) == scope


def test_the_101st_write_in_15_minutes_is_refused(
    client: Client, clock: time_machine.Coordinates
) -> None:
    statuses = [
        client.post("/accounts/password_reset/", REMOTE_ADDR=IP).status_code for _ in range(100)
    ]
    refused = client.post("/accounts/password_reset/", REMOTE_ADDR=IP)

    assert set(statuses) == {200}
    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"
    page = refused.content.decode()
    assert "Please slow down" in page
    assert "try again in 15 minutes" in page
    # Reading is never limited; another address has its own count.
    assert client.get("/accounts/password_reset/", REMOTE_ADDR=IP).status_code == 200
    assert client.post("/accounts/password_reset/", REMOTE_ADDR="192.0.2.11").status_code == 200


def test_a_refused_write_writes_nothing(
    client: Client, small_limit: int, clock: time_machine.Coordinates
) -> None:
    for _ in range(small_limit):
        client.post("/accounts/register/", {}, REMOTE_ADDR=IP)

    response = client.post("/accounts/register/", registration(), REMOTE_ADDR=IP)

    assert response.status_code == 429
    assert not User.objects.filter(national_id="400000001").exists()


def test_the_endpoints_of_a_scope_share_one_count(
    client: Client, small_limit: int, clock: time_machine.Coordinates
) -> None:
    client.post("/accounts/register/", {}, REMOTE_ADDR=IP)
    client.post("/accounts/password_reset/", REMOTE_ADDR=IP)
    client.post("/accounts/login/", {}, REMOTE_ADDR=IP)

    assert client.post("/accounts/register/", {}, REMOTE_ADDR=IP).status_code == 429


def test_the_count_starts_again_in_the_next_window(
    client: Client, small_limit: int, clock: time_machine.Coordinates
) -> None:
    clock.shift(dt.timedelta(minutes=10))
    for _ in range(small_limit):
        client.post("/accounts/register/", {}, REMOTE_ADDR=IP)
    refused = client.post("/accounts/register/", {}, REMOTE_ADDR=IP)

    clock.shift(dt.timedelta(minutes=5))

    assert refused["Retry-After"] == "300"
    assert client.post("/accounts/register/", registration(), REMOTE_ADDR=IP).status_code == 302


def test_the_switch_turns_every_limit_off(
    client: Client, small_limit: int, settings: Settings
) -> None:
    settings.RATELIMIT_ENABLED = False

    statuses = {client.post("/accounts/register/", {}).status_code for _ in range(small_limit * 3)}

    assert statuses == {400}


def test_a_forged_forwarded_for_header_does_not_buy_a_new_count(
    client: Client, small_limit: int, clock: time_machine.Coordinates
) -> None:
    for n in range(small_limit):
        client.post("/accounts/register/", {}, REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    response = client.post(
        "/accounts/register/", {}, REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR="10.0.0.99"
    )

    assert response.status_code == 429


def test_behind_our_proxy_each_client_has_its_own_count(
    client: Client, small_limit: int, settings: Settings, clock: time_machine.Coordinates
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "172.18.0.5"
    for _ in range(small_limit):
        client.post("/accounts/register/", {}, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=IP)

    # What the client wrote itself (left of what the proxy added) is ignored.
    same = client.post(
        "/accounts/register/", {}, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {IP}"
    )
    other = client.post(
        "/accounts/register/", {}, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.77"
    )

    assert same.status_code == 429
    assert other.status_code == 400


def count_concurrently(limit: int, threads: int, calls: int) -> int:
    """How many of threads*calls requests from one address the limit let through."""
    request = RequestFactory().post("/", REMOTE_ADDR=IP)
    allowed = []
    barrier = threading.Barrier(threads)

    def hammer() -> None:
        barrier.wait()
        allowed.append(sum(ratelimit.check(request, "write") is None for _ in range(calls)))

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(allowed)


def test_concurrent_requests_get_exactly_the_limit(
    settings: Settings, clock: time_machine.Coordinates
) -> None:
    settings.RATELIMITS = {"write": (100, 15 * 60)}

    assert count_concurrently(limit=100, threads=8, calls=40) == 100


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_counters_in_redis_are_shared_and_exact(
    settings: Settings, clock: time_machine.Coordinates
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/5",
            "KEY_PREFIX": f"clinic-test-{threading.get_ident()}",
        },
    }
    settings.RATELIMIT_CACHE = "ratelimit"
    settings.RATELIMITS = {"write": (100, 15 * 60)}
    caches["ratelimit"].clear()
    try:
        assert count_concurrently(limit=100, threads=8, calls=40) == 100
        # The count is Redis's, not this process's: a fresh client of it sees it exhausted.
        caches.close_all()
        request = RequestFactory().post("/", REMOTE_ADDR=IP)
        assert ratelimit.check(request, "write") is not None
    finally:
        caches["ratelimit"].clear()
