"""Five failed logins for one national ID from one address lock that pair for 15 minutes
(429 with the reason on the login page); the account still logs in from elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from accounts.models import User

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
HOME = "198.51.100.1"
ELSEWHERE = "198.51.100.2"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def login(client: Client, national_id: str, password: str, ip: str = HOME):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/login/", {"username": national_id, "password": password}, REMOTE_ADDR=ip
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_national_id_from_that_address(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    # Spaces and dashes do not make another account: one counter for all the spellings.
    spellings = ["300000001", "300 000 001", "300-000-001", "300 000-001", "3000-00001"]

    statuses = [login(client, nid, "not-the-password").status_code for nid in spellings]
    sixth = login(client, "300000001", password)

    assert statuses == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert sixth["Retry-After"] == "900"
    page = sixth.content.decode()
    assert "Too many failed logins for this national ID" in page
    assert "15 minutes" in page
    assert not logged_in(client)


def test_the_same_account_logs_in_from_another_address(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    for _ in range(5):
        login(client, "300000001", "not-the-password")

    elsewhere = Client()
    response = login(elsewhere, "300 000 001", password, ip=ELSEWHERE)

    assert response.status_code == 302
    assert logged_in(elsewhere)


def test_other_accounts_from_the_same_address_are_not_locked(
    client: Client,
    patient: User,
    other_patient: User,
    password: str,
    clock: time_machine.Coordinates,
) -> None:
    for _ in range(5):
        login(client, "300000001", "not-the-password")

    assert login(client, "300000003", password).status_code == 302


def test_the_lock_ends_after_15_minutes(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    for _ in range(5):
        login(client, "300000001", "not-the-password")

    clock.shift(dt.timedelta(minutes=14))
    assert login(client, "300000001", password).status_code == 429
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    assert login(client, "300000001", password).status_code == 302


def test_failures_15_minutes_apart_do_not_add_up(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    for _ in range(4):
        login(client, "300000001", "not-the-password")
    clock.shift(dt.timedelta(minutes=16))

    assert login(client, "300000001", "not-the-password").status_code == 200
    assert login(client, "300000001", password).status_code == 302


def test_a_successful_login_clears_the_failures(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    for _ in range(4):
        login(client, "300000001", "not-the-password")
    assert login(client, "300000001", password).status_code == 302
    client.post("/accounts/logout/")

    statuses = [login(client, "300000001", "not-the-password").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 200]


def test_unknown_national_ids_lock_the_same_way(
    client: Client, clock: time_machine.Coordinates
) -> None:
    # The lock does not tell who has an account.
    statuses = [login(client, "399999999", "whatever-it-is").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 200, 429]


def test_the_admin_login_page_counts_and_locks_too(
    client: Client, admin_user: User, password: str, clock: time_machine.Coordinates
) -> None:
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "100000001", "password": "nope"}, REMOTE_ADDR=HOME
        )

    response = client.post(
        "/admin/login/", {"username": "100000001", "password": password}, REMOTE_ADDR=HOME
    )

    assert response.status_code == 429
    assert not logged_in(client)


def test_a_login_naming_the_national_id_field_is_counted_per_national_id(
    rf: RequestFactory,
    patient: User,
    other_patient: User,
    password: str,
    clock: time_machine.Coordinates,
) -> None:
    """authenticate(request, national_id=...) (as a JSON login would call it) counts the
    national ID, not an empty name shared by every account."""

    def attempt(national_id: str, secret: str) -> User | None:
        request = rf.post("/api/login", REMOTE_ADDR=HOME)
        return authenticate(request, national_id=national_id, password=secret)

    for _ in range(5):
        assert attempt("300000001", "not-the-password") is None

    assert attempt("300000001", password) is None  # locked
    assert attempt("300000003", password) == other_patient  # another account: not locked


def test_the_fourth_failure_warns_that_the_next_one_locks(
    client: Client, patient: User, clock: time_machine.Coordinates
) -> None:
    warning = "One more failed attempt locks this national ID for 15 minutes."

    pages = [login(client, "300 000 001", "not-the-password").content.decode() for _ in range(4)]

    assert [warning in page for page in pages] == [False, False, False, True]
    # Elsewhere the same ID has its own count: no warning there.
    assert warning not in login(client, "300000001", "wrong", ip=ELSEWHERE).content.decode()


def test_a_page_that_needs_a_login_says_so_on_the_login_page(client: Client) -> None:
    response = client.get("/dashboard/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/dashboard/")
    assert "Please log in to see that page." in response.content.decode()
    assert "Please log in to see that page." not in client.get("/accounts/login/").content.decode()
