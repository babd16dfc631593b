"""Slow clients cost gunicorn nothing behind the documented proxy (deploy/Caddyfile).

Clients that send a request body at one byte every half second: against gunicorn alone they
hold every one of its threads and /health/ stops answering; behind Caddy, which reads each
request whole before passing it on, /health/ answers all along. Bounded: a few seconds, every
socket closed at the end, all on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from clinic.tests.live import Caddy, Gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b"name=Slow&email=slow%40example.com&subject=Hi&message=" + b"x" * 40


@contextmanager
def slow_clients(port: int, count: int) -> Iterator[None]:
    """`count` POSTs whose headers arrive at once and whose body trickles, until the block ends."""
    stop = threading.Event()
    sockets: list[socket.socket] = []

    def trickle(sock: socket.socket) -> None:
        try:
            for byte in BODY:
                if stop.wait(0.5):
                    return
                sock.sendall(bytes([byte]))
        except OSError:
            return

    threads = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /contact/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        )
        sockets.append(sock)
        thread = threading.Thread(target=trickle, args=(sock,), daemon=True)
        thread.start()
        threads.append(thread)
    time.sleep(1)  # every one of them is being read by now
    try:
        yield
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
        for thread in threads:
            thread.join(timeout=5)


def health_answers(url: str, tries: int = 3) -> list[bool]:
    answers = []
    for _ in range(tries):
        try:
            answers.append(requests.get(url + "/health/", timeout=2).status_code == 200)
        except requests.RequestException:
            answers.append(False)
    return answers


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Gunicorn]:
    """One worker with two threads: two slow clients are enough to fill it."""
    server = Gunicorn(tmp_path / "gunicorn.log", workers=1, threads=2).start()
    yield server
    server.stop()


def test_slow_clients_block_gunicorn_alone(gunicorn: Gunicorn) -> None:
    """What the proxy is for (and proof that this test can fail)."""
    with slow_clients(gunicorn.port, count=3):
        assert health_answers(gunicorn.url, tries=1) == [False]
    assert health_answers(gunicorn.url, tries=1) == [True]


def test_behind_the_proxy_slow_clients_cost_gunicorn_nothing(
    gunicorn: Gunicorn, tmp_path: Path
) -> None:
    caddy = Caddy(f"127.0.0.1:{gunicorn.port}", tmp_path).start()
    try:
        with slow_clients(caddy.port, count=20):
            assert health_answers(caddy.url) == [True, True, True]
            assert health_answers(gunicorn.url) == [True, True, True]
    finally:
        caddy.stop()
