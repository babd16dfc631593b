"""Turns to write one SQLite file, fair between threads and between processes.

Within a process, writers queue first come, first served (`FifoLock`). Between processes, the
writer at the head of each process's queue takes two `flock`s on files beside the database:
the gate (`<db>-wgate`), then the turn (`<db>-wturn`), and lets the gate go once it holds
the turn. Whoever holds the turn got it through the gate, so a process waiting at the gate
is next: the one that just wrote must queue behind it and cannot take the turn twice past
it. Waits are polled with short sleeps so that they can end at a deadline (the connection's
busy timeout), which a blocking `flock` cannot.

The kernel lets a `flock` go when its process dies (kill -9 included), so a crash never leaves
a turn taken. Only writers that come through this module take turns: a `sqlite3` shell or a
raw connection elsewhere still meets SQLite's own busy handler.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import os
import threading
import time

# Polling a file lock: first often (a turn is usually handed over within a transaction's
# length, well under a millisecond to a few), then at most every 2 ms.
FIRST_SLEEP = 0.0001
LONGEST_SLEEP = 0.002


class TurnTimeout(Exception):
    """No turn within the deadline (the caller reports SQLite's "database is locked")."""


class FifoLock:
    """A lock handed to its waiters in the order they came (threading.Lock promises none)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._locked = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._locked and not self._waiters:
                self._locked = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=max(timeout, 0)):
            return True
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                # release() handed the lock over between the timeout and here: it is ours.
                return True
        return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                # Straight to the next in line; the lock stays taken, so nobody barges in.
                self._waiters.popleft().release()
            else:
                self._locked = False


class WriteTurns:
    """The turns to write one database file, for the threads of this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._queue = FifoLock()
        self._gate: int | None = None
        self._turn: int | None = None

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self._queue.acquire(timeout):
            raise TurnTimeout(self.path)
        try:
            if self._turn is None:
                self._gate = _open(self.path + "-wgate")
                self._turn = _open(self.path + "-wturn")
            assert self._gate is not None
            _flock(self._gate, deadline, self.path)
            try:
                _flock(self._turn, deadline, self.path)
            finally:
                fcntl.flock(self._gate, fcntl.LOCK_UN)
        except BaseException:
            self._queue.release()
            raise

    def release(self) -> None:
        assert self._turn is not None
        try:
            fcntl.flock(self._turn, fcntl.LOCK_UN)
        finally:
            self._queue.release()

    def close_files(self) -> None:
        for fd in (self._gate, self._turn):
            if fd is not None:
                os.close(fd)
        self._gate = self._turn = None


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)


def _flock(fd: int, deadline: float, path: str) -> None:
    sleep = FIRST_SLEEP
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TurnTimeout(path) from None
            time.sleep(sleep)
            sleep = min(sleep * 2, LONGEST_SLEEP)


_registry: dict[str, WriteTurns] = {}
_registry_lock = threading.Lock()


def turns_for(path: str) -> WriteTurns:
    """This process's turns for the database file at `path` (one per file, shared by threads)."""
    path = os.path.realpath(path)
    with _registry_lock:
        turns = _registry.get(path)
        if turns is None:
            turns = _registry[path] = WriteTurns(path)
        return turns


def _forget_after_fork() -> None:
    # A forked child (gunicorn --preload) shares the parent's open file descriptions, and with
    # them its flocks: it must take turns on files of its own, with fresh thread locks.
    global _registry, _registry_lock
    for turns in _registry.values():
        turns.close_files()  # closes this process's copies only; never unlocks the parent's
    _registry = {}
    _registry_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def remove_files(path: str) -> None:
    """Removes the turn files of a database file that is being deleted (a test database)."""
    path = os.path.realpath(path)
    with _registry_lock:
        turns = _registry.pop(path, None)
    if turns is not None:
        turns.close_files()
    for suffix in ("-wgate", "-wturn"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)
