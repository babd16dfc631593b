"""A real gunicorn. Killed right after its bookings commit, while n8n stalls: the bookings
answered at once, and the worker then delivers every event exactly once. Left running with
n8n up: a booking and its cancellation reach n8n, signed, within a second.

(Tried on Django 6.1 before this design: a webhook sent only from a thread started in
on_commit lost 20 of 20 events when the web process was killed this way.)
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import requests
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer
from time_machine import TimeMachineFixture

from accounts.models import DoctorProfile, User
from notifications.models import Delivery, Event
from notifications.tests.conftest import HOOK, ROOT, SECRET, free_port, process_env, run_worker
from notifications.tests.snippet import documented_verify
from scheduling import clock, services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db(transaction=True)

BOOKINGS = 10


@pytest.fixture
def slots(dora: DoctorProfile) -> tuple[dt.date, list[Slot]]:
    """Ten half-hour slots on the weekday three days from today (real time: gunicorn's)."""
    date = clock.today() + dt.timedelta(days=3)
    return date, [
        services.add_slot(
            doctor=dora,
            weekday=date.weekday(),
            start_time=dt.time(8 + n // 2, 30 * (n % 2)),
            end_time=dt.time(8 + (n + 1) // 2, 30 * ((n + 1) % 2)),
        )
        for n in range(BOOKINGS)
    ]


@pytest.fixture
def stalled_n8n() -> Iterator[socket.socket]:
    """A server that accepts connections and never answers, until the test closes it."""
    stall = socket.socket()
    stall.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stall.bind(("127.0.0.1", free_port()))
    stall.listen(64)
    yield stall
    stall.close()


def start_gunicorn(port: int, hook_url: str, log: object) -> subprocess.Popen[bytes]:
    web = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "clinic.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=process_env(N8N_WEBHOOK_URL=hook_url, WEBHOOK_SECRET=SECRET),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the master and its worker die together
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).status_code == 200:
                return web
        except (requests.ConnectionError, requests.Timeout):
            # Not up yet, or its first answer (URLs loaded on first use) was slow on a busy
            # machine: ask again until the deadline.
            pass
        assert web.poll() is None, "gunicorn exited at start"
        time.sleep(0.1)
    os.killpg(web.pid, signal.SIGKILL)
    raise AssertionError("gunicorn did not come up within 60 s")


def signed_in(user: User) -> requests.Session:
    """A browser session of the user's, made the way Django's test client logs in.

    The pages themselves are not fetched: with DEBUG off they need `collectstatic` to have
    run, and a successful booking POST renders nothing (it redirects).
    """
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    # Django accepts the cookie's 32-character secret itself as the form's token.
    session.cookies.set("csrftoken", get_random_string(32))
    return session


def test_web_process_killed_right_after_commit_loses_no_event(
    patient: User,
    dora: DoctorProfile,
    slots: tuple[dt.date, list[Slot]],
    stalled_n8n: socket.socket,
    clinic_settings: Settings,
    time_machine: TimeMachineFixture,
) -> None:
    date, day_slots = slots
    n8n_port = stalled_n8n.getsockname()[1]
    hook_url = f"http://127.0.0.1:{n8n_port}{HOOK}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    with tempfile.TemporaryFile() as log:
        web = start_gunicorn(port, hook_url, log)
        try:
            session = signed_in(patient)
            timings = []
            for slot in day_slots:
                book_url = f"{base}/doctors/{dora.slug}/book/"
                query = {"date": date.isoformat(), "slot": str(slot.public_id)}
                started = time.perf_counter()
                response = session.post(
                    book_url,
                    data=query | {"csrfmiddlewaretoken": session.cookies["csrftoken"]},
                    allow_redirects=False,
                    timeout=10,
                )
                timings.append(time.perf_counter() - started)
                assert response.status_code == 302, response.text[:500]
                assert "/appointments/" in response.headers["Location"], response.headers
        finally:
            # Right after the last commit: no goodbye, no chance to send anything more.
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(10)
        log.seek(0)
        web_log = log.read().decode(errors="replace")

    # n8n never answered, yet each booking came back at once (its timeout is 5 s).
    assert max(timings) < 2, (timings, web_log[-2000:])
    assert Appointment.objects.count() == BOOKINGS
    booked = set(Event.objects.values_list("id", flat=True))
    assert len(booked) == BOOKINGS
    # Left behind: the delivery the web process's thread was sending when it died (its claim
    # must run out) and the ones queued behind it.
    left = collections.Counter(
        Delivery.objects.filter(channel="webhook").values_list("status", flat=True)
    )
    assert set(left) <= {"pending", "delivering"}, left
    print(f"booking POSTs: {[round(t * 1000) for t in timings]} ms; left behind: {dict(left)}")

    # n8n comes back on the same address; the worker runs (its clock past any wait or claim).
    stalled_n8n.close()
    n8n = HTTPServer(host="127.0.0.1", port=n8n_port)
    n8n.expect_request(HOOK).respond_with_data("ok")
    n8n.start()
    try:
        clinic_settings.N8N_WEBHOOK_URL = hook_url
        clinic_settings.WEBHOOK_SECRET = SECRET
        time_machine.move_to(timezone.now() + dt.timedelta(minutes=10), tick=True)
        run_worker()
        run_worker()
        ids = [json.loads(req.get_data())["id"] for req, _ in n8n.log]
    finally:
        n8n.clear()
        n8n.stop()

    assert collections.Counter(ids) == collections.Counter({str(i): 1 for i in booked})
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_booking_and_cancelling_through_gunicorn_signal_n8n_within_a_second(
    patient: User,
    dora: DoctorProfile,
    slots: tuple[dt.date, list[Slot]],
) -> None:
    date, day_slots = slots
    n8n = HTTPServer(host="127.0.0.1", port=0)
    n8n.expect_request(HOOK).respond_with_data("ok")
    n8n.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryFile() as log:
            web = start_gunicorn(port, n8n.url_for(HOOK), log)
            try:
                session = signed_in(patient)
                token = session.cookies["csrftoken"]
                query = {"date": date.isoformat(), "slot": str(day_slots[0].public_id)}
                booked = session.post(
                    f"{base}/doctors/{dora.slug}/book/",
                    data=query | {"csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=10,
                )
                assert booked.status_code == 302
                appointment = Appointment.objects.get()
                cancelled = session.post(
                    f"{base}/appointments/{appointment.public_id}/cancel/",
                    data={"csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=10,
                )
                assert cancelled.status_code == 302
                sent_at = time.monotonic()
                while len(n8n.log) < 2 and time.monotonic() - sent_at < 5:
                    time.sleep(0.01)
                arrived_after = time.monotonic() - sent_at
            finally:
                os.killpg(web.pid, signal.SIGTERM)
                web.wait(10)
        requests_seen = [(dict(req.headers), req.get_data()) for req, _ in n8n.log]
    finally:
        n8n.clear()
        n8n.stop()

    assert [json.loads(body)["type"] for _, body in requests_seen] == [
        "appointment.booked",
        "appointment.cancelled",
    ]
    assert arrived_after < 1
    for headers, body in requests_seen:
        assert documented_verify()(SECRET, headers, body)
