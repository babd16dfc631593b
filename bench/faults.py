"""A production-like fault drill: compose's stack without Docker, every part private and on
127.0.0.1, with faults injected while clients keep using the site. Not part of `make test`.

    .venv/bin/python bench/faults.py            # about 4 minutes

What runs: a PostgreSQL 15 cluster of its own (initdb into a temporary directory, its own
port; never the machine's shared cluster), a redis-server of its own, gunicorn as the image
runs it (3 workers x 4 threads, DEBUG off, TRUSTED_PROXY_COUNT=1, CACHE_URL to that Redis,
collected static files) and Caddy with deploy/Caddyfile as it is in front. The one departure
from compose: plain HTTP (LOCAL_HTTP=1), since there is no certificate on 127.0.0.1.

Clients (8 threads, through Caddy) read the home page, the directory, a doctor's page and its
grid, /health/, sign in to the API and book through it, all the time. The faults, one after
another, each followed by a quiet period: Redis stopped for 30 s; PostgreSQL stopped for
10 s; 20 slow clients (a body at one byte every second) for 30 s; gunicorn killed with
SIGKILL and started again (as compose's restart policy would). It prints, for each period,
the requests, the 5xx answers among them (by status) and the requests that got no answer, and
writes the table to bench/results/faults-latest.md. Everything it started is stopped at the
end, and the temporary directory removed.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RESULTS = ROOT / "bench" / "results"
PASSWORD = "demo-pass-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


def wait_for(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not come up within {timeout} s")
        time.sleep(0.2)


class Postgres:
    """A cluster of our own, run as the postgres system user (PostgreSQL refuses root)."""

    def __init__(self, work: Path) -> None:
        self.dir = work / "pgdata"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/clinic"
        work.chmod(0o755)
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            PG_BIN / "initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def _as_postgres(self, *args: object) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, args)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd="/tmp",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.dir, "-o", options, "-w", "-l", self.dir / "log", "start"
        )

    def stop(self) -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.dir, "-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE clinic")


class Process:
    def __init__(self, args: list[str], logfile: Path, **popen: object) -> None:
        self.args = args
        self.logfile = logfile
        self.popen = popen
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.logfile.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=out,
                start_new_session=True,
                **self.popen,  # type: ignore[arg-type]
            )

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        self.proc = None


class Load:
    """Clients using the site through the proxy; every answer counted in the current period."""

    def __init__(
        self, base: str, doctors: list[str], patients: list[str], clients: int = 8
    ) -> None:
        self.base = base
        self.doctors = doctors
        self.patients = patients
        # (sent, answered, outcome) of every request, on the monotonic clock.
        self.requests: list[tuple[float, float, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)
        ]

    def record(self, sent: float, outcome: str) -> None:
        with self.lock:
            self.requests.append((sent, time.monotonic(), outcome))

    def _request(
        self, session: requests.Session, method: str, path: str, **kwargs: object
    ) -> requests.Response | None:
        sent = time.monotonic()
        try:
            response = session.request(method, self.base + path, timeout=20, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            self.record(sent, f"no answer ({type(exc).__name__})")
            return None
        self.record(sent, str(response.status_code))
        return response

    def _run(self, n: int) -> None:
        rng = random.Random(n)
        session = requests.Session()
        national_id = self.patients[n % len(self.patients)]
        while not self.stop.is_set():
            doctor = rng.choice(self.doctors)
            choice = rng.random()
            if choice < 0.25:
                self._request(session, "GET", f"/doctors/{doctor}/")
            elif choice < 0.5:
                self._request(session, "GET", f"/doctors/{doctor}/availability/")
            elif choice < 0.6:
                self._request(session, "GET", "/")
            elif choice < 0.7:
                self._request(session, "GET", "/doctors/")
            elif choice < 0.8:
                self._request(session, "GET", "/health/")
            else:
                token = self._request(
                    session,
                    "POST",
                    "/api/v1/auth/token",
                    json={"national_id": national_id, "password": PASSWORD},
                )
                if token is None or token.status_code != 200:
                    continue
                access = token.json()["access"]
                openings = self._request(
                    session, "GET", f"/api/v1/doctors/{doctor}/availability?free_only=true"
                )
                if openings is None or openings.status_code != 200:
                    continue
                free = [
                    (o["date"], o["slot"])
                    for day in openings.json()["days"]
                    for o in day["openings"]
                    if o["state"] == "free"
                ]
                if free:
                    date, slot = rng.choice(free[:20])
                    self._request(
                        session,
                        "POST",
                        "/api/v1/appointments",
                        json={"doctor": doctor, "slot": slot, "date": date},
                        headers={"Authorization": f"Bearer {access}"},
                    )
            time.sleep(rng.uniform(0.02, 0.1))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def slow_clients(port: int, count: int, seconds: float) -> None:
    """`count` POSTs whose body arrives at one byte a second, for `seconds`."""
    body = b"message=" + b"x" * 200
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /contact/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        sockets.append(sock)
    deadline = time.monotonic() + seconds
    index = 0
    while time.monotonic() < deadline:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(body[index : index + 1])
        index += 1
        time.sleep(1)
    for sock in sockets:
        sock.close()


def main() -> None:
    for tool in ("redis-server", "caddy"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: scripts/ensure-services installs it")
    work = Path(tempfile.mkdtemp(prefix="clinic-faults-"))
    started: list[Process] = []
    pg = Postgres(work)
    pg_running = False
    try:
        pg.start()
        pg_running = True
        pg.create_database()
        redis_port = free_port()
        redis = Process(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            work / "redis.log",
        )
        redis.start()
        started.append(redis)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work),
            "CLINIC_IGNORE_DOTENV": "1",
            "DEBUG": "False",
            "LOCAL_HTTP": "1",
            "SECRET_KEY": "faults-" + "k" * 60,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": pg.url,
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/0",
            "TRUSTED_PROXY_COUNT": "1",
            "STATIC_ROOT": str(work / "static"),
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
            "NOTIFICATIONS_SEND_ON_COMMIT": "0",
            # One client address (the drill) books and signs in far more than a person does.
            "RATELIMIT_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        }
        (work / "metrics").mkdir()
        log("migrate, seed_demo, collectstatic")
        for args in (["migrate", "--noinput"], ["seed_demo"], ["collectstatic", "--noinput"]):
            subprocess.run(
                [PYTHON, "manage.py", *args],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        app_port = free_port()
        gunicorn = Process(
            [
                GUNICORN,
                "clinic.wsgi",
                "--bind",
                f"127.0.0.1:{app_port}",
                "--workers",
                "3",
                "--threads",
                "4",
                "--forwarded-allow-ips",
                "*",
            ],
            work / "gunicorn.log",
            cwd=ROOT,
            env=env,
        )
        gunicorn.start()
        started.append(gunicorn)
        proxy_port = free_port()
        caddy = Process(
            [
                "caddy",
                "run",
                "--config",
                str(ROOT / "deploy" / "Caddyfile"),
                "--adapter",
                "caddyfile",
            ],
            work / "caddy.log",
            env={
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(work),
                "XDG_DATA_HOME": str(work / "caddy-data"),
                "XDG_CONFIG_HOME": str(work / "caddy-config"),
                "CADDY_ADMIN": "off",
                "CLINIC_DOMAIN": f"http://127.0.0.1:{proxy_port}",
                "CLINIC_UPSTREAM": f"127.0.0.1:{app_port}",
            },
        )
        caddy.start()
        started.append(caddy)
        base = f"http://127.0.0.1:{proxy_port}"
        wait_for(lambda: requests.get(base + "/health/", timeout=2).status_code == 200, "the stack")
        doctors = [
            d["slug"]
            for d in requests.get(base + "/api/v1/doctors?limit=12", timeout=10).json()["items"]
        ]
        load = Load(base, doctors, patients=["300000001"])
        load.start()

        # (name, is a fault, start, end) of each period, on the monotonic clock.
        periods: list[tuple[str, bool, float, float]] = []

        def quiet(name: str, seconds: float) -> None:
            log(name)
            start = time.monotonic()
            time.sleep(seconds)
            periods.append((name, False, start, time.monotonic()))

        def fault(name: str, inject: object) -> None:
            log(name)
            start = time.monotonic()
            inject()  # type: ignore[operator]
            periods.append((name, True, start, time.monotonic()))

        def redis_outage() -> None:
            redis.signal(signal.SIGTERM)
            time.sleep(30)
            redis.start()

        def postgres_outage() -> None:
            pg.stop()
            time.sleep(10)
            pg.start()

        def kill_app() -> None:
            gunicorn.signal(signal.SIGKILL)
            gunicorn.start()
            wait_for(
                lambda: (
                    requests.get(f"http://127.0.0.1:{app_port}/health/", timeout=2).status_code
                    == 200
                ),
                "gunicorn",
            )

        quiet("baseline (10 s)", 10)
        fault("Redis stopped (30 s)", redis_outage)
        quiet("after Redis (15 s)", 15)
        fault("PostgreSQL stopped (10 s)", postgres_outage)
        quiet("after PostgreSQL (15 s)", 15)
        fault("20 slow clients (30 s)", lambda: slow_clients(proxy_port, 20, 30))
        quiet("after slow clients (15 s)", 15)
        fault("gunicorn killed (-9) and restarted", kill_app)
        quiet("after the kill (15 s)", 15)
        load.finish()

        # A request belongs to the fault it overlapped (sent before, answered during, it was
        # hit by it); otherwise to the period it was sent in.
        counts: dict[str, collections.Counter[str]] = {
            name: collections.Counter() for name, *_ in periods
        }
        for sent, answered, outcome in load.requests:
            hit = next(
                (
                    name
                    for name, is_fault, start, end in periods
                    if is_fault and sent < end and answered > start
                ),
                None,
            )
            home = hit or next(
                (name for name, _, start, end in periods if start <= sent < end), None
            )
            if home is not None:
                counts[home][outcome] += 1

        lines = [
            "| period | requests | 5xx | 5xx by status | no answer | other statuses |",
            "| --- | ---: | ---: | --- | ---: | --- |",
        ]
        for name, period_counts in counts.items():
            total = sum(period_counts.values())
            fivexx = {k: v for k, v in period_counts.items() if k.isdigit() and k.startswith("5")}
            errors = {k: v for k, v in period_counts.items() if not k.isdigit()}
            others = {
                k: v
                for k, v in sorted(period_counts.items())
                if k.isdigit() and not k.startswith("5")
            }
            lines.append(
                f"| {name} | {total} | {sum(fivexx.values())} | "
                f"{', '.join(f'{k}: {v}' for k, v in sorted(fivexx.items())) or '-'} | "
                f"{sum(errors.values())} | {', '.join(f'{k}: {v}' for k, v in others.items())} |"
            )
        table = "\n".join(lines)
        print(table)
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
        (RESULTS / "faults-latest.md").write_text(
            f"# Fault drill ({stamp})\n\n`bench/faults.py`: compose's stack without Docker "
            "(private PostgreSQL 15, private redis-server, gunicorn 3x4, Caddy with "
            "deploy/Caddyfile), 8 clients through Caddy.\n\n" + table + "\n"
        )
    finally:
        for process in reversed(started):
            process.signal(signal.SIGTERM)
        if pg_running:
            with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
                pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
