"""Real servers for the tests of the production stack: a private redis-server, gunicorn and
Caddy (deploy/Caddyfile), each on a free 127.0.0.1 port, bounded in time and stopped by the
test that started it. redis-server and caddy are Debian's (scripts/ensure-services)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests

from notifications.tests.conftest import ROOT, free_port, process_env

GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CADDYFILE = ROOT / "deploy" / "Caddyfile"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: scripts/ensure-services installs it (make test runs it).")
    return path


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_until(answers: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not answers():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start within {timeout} s")
        time.sleep(0.05)


class RedisServer:
    """redis-server in memory only; `stop()` and `start()` again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                need("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self._answers, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Gunicorn:
    """`gunicorn clinic.wsgi` on the test database with the given environment."""

    def __init__(self, log: Path, *, workers: int = 1, threads: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = process_env(**env)
        self.args = [
            GUNICORN,
            "clinic.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--forwarded-allow-ips",
            "*",
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def _answers(self) -> bool:
        try:
            requests.get(self.url + "/health/", timeout=1)
        except requests.RequestException:
            return False
        return True

    def start(self) -> Gunicorn:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        wait_until(self._answers, f"gunicorn (log: {self.log})", timeout=60)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


class Caddy:
    """Caddy with deploy/Caddyfile as it is, on plain HTTP, in front of `upstream`."""

    def __init__(self, upstream: str, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work),
            "XDG_DATA_HOME": str(work / "data"),
            "XDG_CONFIG_HOME": str(work / "config"),
            "CADDY_ADMIN": "off",
            "CLINIC_DOMAIN": self.url,
            "CLINIC_UPSTREAM": upstream,
        }
        self.log = work / "caddy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Caddy:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [need("caddy"), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

        def answers() -> bool:
            try:
                requests.get(self.url + "/health/", timeout=1)
            except requests.RequestException:
                return False
            return True

        wait_until(answers, f"caddy (log: {self.log})")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
