"""The senders keep sending while the database is busy with other writers.

On SQLite, before writers took turns (common.sqlite), a process looping short write
transactions starved the web process's sender: SQLite's busy handler sleeps and retries, the
looping writer takes the lock back within microseconds of each COMMIT, and the sender gave up
with "database is locked" after the whole busy timeout. These tests run that writer for real
(another process, or this process's web threads) against the real senders (the web process's
thread, the worker process). The busy timeout is cut to 2 s so that a starved sender fails
fast; a fair turn comes within one of the writer's transactions (20 ms).

A program that does not take turns (a `sqlite3` shell, a backup) can still hold the file past
the timeout: then the sender tries again after a wait, and no delivery is lost or sent twice.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from notifications import dispatch
from notifications.models import Delivery
from notifications.tests.conftest import HOOK, PYTHON, ROOT, process_env, received
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db(transaction=True)

BOOKINGS = 8

# A Django process that writes all the time: a transaction every ~20 ms (a request's worth of
# work inside it), back to back, for up to two minutes or until the test stops it.
WRITER = """
import time
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
end = time.monotonic() + 120
n = 0
while time.monotonic() < end:
    with transaction.atomic():
        session = SessionStore()
        session["n"] = n
        session.create()
        time.sleep(0.02)
    n += 1
    if n == 1:
        print("writing", flush=True)
"""


@pytest.fixture
def short_busy_timeout() -> Iterator[None]:
    """New connections of this process (the sender's) give up after 2 s, not 20."""
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    if connection.vendor == "sqlite":
        options["timeout"] = 2.0
    yield
    if saved is not None:
        options["timeout"] = saved


@pytest.fixture
def writer_process() -> Iterator[subprocess.Popen[str]]:
    """WRITER in a process of its own, on the test database, already writing."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", WRITER],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == "writing", process.stderr and process.stderr.read()
        yield process
    finally:
        process.kill()
        process.wait(10)


class WebThreads:
    """Four threads of this process writing like WRITER until `stop` is set."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._commits = 0

    @property
    def commits(self) -> int:
        with self._lock:
            return self._commits

    def committed(self) -> None:
        with self._lock:
            self._commits += 1


@pytest.fixture
def web_threads() -> Iterator[WebThreads]:
    """Four threads of this process writing like WRITER until the test stops them."""
    writers = WebThreads()
    started = threading.Barrier(5)

    def write() -> None:
        from django.contrib.sessions.backends.db import SessionStore

        started.wait()
        try:
            while not writers.stop.is_set():
                with transaction.atomic():
                    SessionStore().create()
                    time.sleep(0.02)
                writers.committed()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait()
    yield writers
    writers.stop.set()
    for thread in threads:
        thread.join(30)


@pytest.fixture
def pending(book: Callable[..., Appointment]) -> list[int]:
    """Confirmation e-mails for BOOKINGS bookings, waiting in the outbox."""
    for n in range(BOOKINGS):
        book(n)
    ids = list(Delivery.objects.filter(status=Delivery.Status.PENDING).values_list("pk", flat=True))
    assert len(ids) >= BOOKINGS
    return ids


def locked_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "locked" in r.getMessage()]


@pytest.mark.usefixtures("short_busy_timeout")
def test_the_web_sender_delivers_while_another_process_loops_writes(
    pending: list[int],
    writer_process: subprocess.Popen[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatch.submit(pending)
    assert dispatch.dispatcher.wait_idle(timeout=120)

    assert writer_process.poll() is None, "the writer kept writing throughout"
    statuses = set(Delivery.objects.filter(pk__in=pending).values_list("status", flat=True))
    assert statuses == {Delivery.Status.DELIVERED}
    assert len(mail.outbox) == len(pending)
    assert locked_warnings(caplog) == []


@pytest.mark.usefixtures("short_busy_timeout")
def test_the_web_sender_delivers_while_the_web_threads_loop_writes(
    pending: list[int], web_threads: WebThreads, caplog: pytest.LogCaptureFixture
) -> None:
    before = web_threads.commits
    dispatch.submit(pending)
    assert dispatch.dispatcher.wait_idle(timeout=120)
    during = web_threads.commits - before
    web_threads.stop.set()

    statuses = set(Delivery.objects.filter(pk__in=pending).values_list("status", flat=True))
    assert statuses == {Delivery.Status.DELIVERED}
    assert len(mail.outbox) == len(pending)
    assert locked_warnings(caplog) == []
    # The web threads were not held up while the sender worked: they committed meanwhile (on
    # PostgreSQL the eight deliveries can take well under 100 ms, a few of their transactions).
    assert during > 0, "the web threads wrote while the sender delivered"


def test_the_worker_process_delivers_while_the_web_threads_loop_writes(
    pending: list[int], web_threads: WebThreads
) -> None:
    worker = subprocess.run(
        [PYTHON, "manage.py", "run_worker", "--once"],
        cwd=ROOT,
        env=process_env(SQLITE_TIMEOUT="2"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    web_threads.stop.set()

    assert worker.returncode == 0, worker.stderr
    assert "locked" not in worker.stderr
    assert f"{len(pending)} delivered" in worker.stdout
    statuses = set(Delivery.objects.filter(pk__in=pending).values_list("status", flat=True))
    assert statuses == {Delivery.Status.DELIVERED}


# --- A writer that does not take turns --------------------------------------------------------


def hold_the_write_lock(seconds: float) -> threading.Thread:
    """Another program (a sqlite3 shell, say) holding the write lock for `seconds`."""
    name = connection.settings_dict["NAME"]
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(name, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    return thread


@pytest.fixture
def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("a lock on the whole database file is SQLite's")


@pytest.fixture
def tiny_busy_timeout(sqlite_only: None) -> Iterator[None]:
    options = connection.settings_dict["OPTIONS"]
    saved = options["timeout"]
    options["timeout"] = 0.5
    yield
    options["timeout"] = saved


@pytest.mark.usefixtures("tiny_busy_timeout")
def test_a_claim_that_meets_a_locked_file_waits_and_sends(
    pending: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    holder = hold_the_write_lock(2.5)

    dispatch.submit(pending)
    assert dispatch.dispatcher.wait_idle(timeout=60)
    holder.join()

    statuses = set(Delivery.objects.filter(pk__in=pending).values_list("status", flat=True))
    assert statuses == {Delivery.Status.DELIVERED}
    assert len(mail.outbox) == len(pending)
    assert any("Claim: the database is locked; trying again" in m for m in locked_warnings(caplog))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.usefixtures("tiny_busy_timeout")
def test_a_send_whose_record_meets_a_locked_file_is_recorded_once(
    book: Callable[..., Appointment], receiver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    holders: list[threading.Thread] = []

    def lock_then_answer(request: Request) -> Response:
        # The webhook arrives; by the time the sender records it, the file is locked.
        holders.append(hold_the_write_lock(2.5))
        return Response("ok")

    receiver.expect_request(HOOK).respond_with_handler(lock_then_answer)
    book()
    [hook] = Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK)

    dispatch.submit([hook.pk])
    assert dispatch.dispatcher.wait_idle(timeout=60)
    for holder in holders:
        holder.join()

    hook.refresh_from_db()
    assert hook.status == Delivery.Status.DELIVERED
    assert hook.attempts == 1
    assert len(received(receiver)) == 1
    assert any("Record: the database is locked" in m for m in locked_warnings(caplog))
