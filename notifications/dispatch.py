"""The web process's sender: one daemon thread that sends new deliveries right after commit.

`services` hands it the ids of the deliveries a transaction wrote, through
`transaction.on_commit`; the request returns at once and the thread sends them in its own
time, on its own database connection, closed after each batch. If the process dies first,
nothing is lost: the deliveries are in the outbox, and `manage.py run_worker` sends them.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable

from django.db import connections

logger = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[list[int]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._lock:
            if self._pid != os.getpid():
                # A fork (gunicorn --preload) copies neither the thread nor a usable queue.
                self._queue = queue.Queue()
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="notifications-dispatch", daemon=True
                )
                self._thread.start()
            self._queue.put(ids)

    def _run(self) -> None:
        from notifications import delivery

        q = self._queue
        while True:
            ids = q.get()
            try:
                delivery.deliver_ids(ids)
            except Exception:
                logger.exception("Sending deliveries %s failed; the worker will retry", ids)
            finally:
                # This thread's own connection: never left open between batches (it would
                # hold a PostgreSQL connection, or an SQLite file, for nothing).
                connections.close_all()
                q.task_done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once everything submitted has been attempted (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


dispatcher = Dispatcher()


def submit(ids: Iterable[int]) -> None:
    dispatcher.submit(ids)
