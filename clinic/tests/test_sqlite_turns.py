"""SQLite's writers take turns (common.sqlite): in order between threads, never stuck behind a
dead process, reads never waiting, and the usual "database is locked" when no turn comes.

(The senders' side of it, the reason for it, is notifications/tests/test_sender_under_write_load.)
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, connections, transaction

from notifications.tests.conftest import PYTHON, ROOT, process_env

pytestmark = pytest.mark.django_db(transaction=True)

HOLDER = """
import time
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
with transaction.atomic():
    SessionStore().create()
    print("holding", flush=True)
    time.sleep(60)
"""


@pytest.fixture(autouse=True)
def sqlite_with_a_short_timeout() -> Iterator[None]:
    if connection.vendor != "sqlite":
        pytest.skip("turns are SQLite's (PostgreSQL locks rows, not the database)")
    options = connection.settings_dict["OPTIONS"]
    saved = options["timeout"]
    options["timeout"] = 2.0
    connection.close()  # the next connection opens with the short timeout
    yield
    options["timeout"] = saved
    connection.close()


@pytest.fixture
def holder() -> Iterator[subprocess.Popen[str]]:
    """Another process of ours, inside a write transaction it does not end."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "--no-imports", "-c", HOLDER],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line == "holding", process.stderr and process.stderr.read()
    yield process
    process.kill()
    process.wait(10)


def test_a_writer_killed_mid_transaction_leaves_no_turn_taken(
    holder: subprocess.Popen[str],
) -> None:
    holder.kill()
    holder.wait(10)

    with transaction.atomic():
        SessionStore().create()

    # The killed process's row went with its transaction; ours is there.
    assert Session.objects.count() == 1


def test_no_turn_within_the_timeout_is_database_is_locked_and_reads_go_on(
    holder: subprocess.Popen[str],
) -> None:
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        SessionStore().create()
    waited = time.monotonic() - started

    assert waited >= 1.5, f"gave up after {waited:.2f} s, before the 2 s timeout"
    # Reading needs no turn: WAL gives the last committed state, without the holder's row.
    assert Session.objects.count() == 0
    holder.kill()
    holder.wait(10)
    SessionStore().create()
    assert Session.objects.count() == 1


def test_threads_get_their_turns_in_the_order_they_asked() -> None:
    connection.settings_dict["OPTIONS"]["timeout"] = 10.0  # the queue below takes a while
    order: list[int] = []
    go = [threading.Event() for _ in range(5)]
    ready = threading.Barrier(6)

    def write(n: int) -> None:
        try:
            Session.objects.exists()  # connected, so that asking is all that is left
            ready.wait()
            go[n].wait()
            with transaction.atomic():
                order.append(n)
                SessionStore().create()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    ready.wait()
    with transaction.atomic():
        SessionStore().create()
        for event in go:
            event.set()
            # Long enough for that thread to ask for its turn (it has nothing else to do).
            time.sleep(0.3)
    for thread in threads:
        thread.join(20)

    assert order == [0, 1, 2, 3, 4]
    assert Session.objects.count() == 6
