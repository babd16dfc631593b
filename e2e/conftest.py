"""Browser tests: Debian's Chromium driven by Playwright for Python, against the app served by
a real gunicorn on a free localhost port, with DEBUG off and collected static files.

The server has a database of its own, made for this run: a temporary SQLite file, or (when
DATABASE_URL names PostgreSQL, as in `make test`'s second half) a dedicated database next to
pytest-django's, created and dropped here. It is migrated and loaded with the demo data
(`seed_demo`), so the journeys run on what a new user of `make run` sees.

The clinic's clock: the server runs in a fixed-offset zone (Etc/GMT±N) chosen so that it is
early afternoon there while the tests run. The doctor's journey books a slot *today* (check-in
is allowed on the appointment's day only) at 18:00, hours past the minimum notice, on
whatever day and at whatever real time the suite runs, and no run crosses midnight.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import time
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CHROMIUM = os.environ.get("CLINIC_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
DEMO_PASSWORD = "demo-pass-123"
# Chromium must not phone home: the network is closed and its background connections fail.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# As `make run`: one process with threads, whose in-memory cache is then the whole app's (with
# several workers and no shared CACHE_URL, a worker may show a paused doctor for 10 s more).
GUNICORN_ARGS = ["--workers", "1", "--threads", "8", "--access-logfile", "-"]
SECRET_KEY = "e2e-" + "k" * 60

# A second active patient, beside the demo's Paula, for the two-browser journey.
SCENE = """
from accounts import services
from accounts.models import User
import datetime as dt
if not User.objects.filter(national_id="300000009").exists():
    user = services.register_patient(
        national_id="300000009", password="demo-pass-123", email="quentin@clinic.example",
        full_name="Quentin Quill", phone="+49 30 4000009", date_of_birth=dt.date(1990, 1, 2),
        medical_history="",
    )
    services.activate(user=user)
"""


def clinic_zone() -> str:
    """An Etc/GMT±N zone where the time is now between 12:00 and 13:00 (Etc signs are inverted:
    Etc/GMT-5 is UTC+5)."""
    offset = 12 - dt.datetime.now(dt.UTC).hour  # -11 .. +12 hours
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    zone: str
    log: Path

    def today(self) -> dt.date:
        return dt.datetime.now(zoneinfo.ZoneInfo(self.zone)).date()

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)


@pytest.fixture(scope="package")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's own database: a temporary SQLite file, or a PostgreSQL database named after
    DATABASE_URL's (`<name>_e2e`), dropped at the end."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'clinic.sqlite3'}"
        return

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'clinic'}_e2e"
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))

    def run(statement: sql.Composable) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit(parts._replace(path=f"/{name}"))
    run(drop)


@pytest.fixture(scope="package")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run scripts/ensure-chromium (make test does).")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/bootstrap (npm ci).")
    work = tmp_path_factory.mktemp("e2e-server")
    zone = clinic_zone()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "CLINIC_IGNORE_DOTENV": "1",
        "DEBUG": "0",
        "LOCAL_HTTP": "1",
        "STATIC_ROOT": str(work / "static"),
        "CLINIC_TIME_ZONE": zone,
        "BOOKING_MIN_NOTICE_MINUTES": "60",
        "NOTIFICATIONS_SEND_ON_COMMIT": "0",
        "RATELIMIT_ENABLED": "0",
        "N8N_WEBHOOK_URL": "",
        "WEBHOOK_SECRET": "",
        "EMAIL_URL": "consolemail://",
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    port = free_port()
    # The links in e-mails (the worker writes them) lead to this server.
    env["SITE_URL"] = f"http://127.0.0.1:{port}"
    srv = Server(f"http://127.0.0.1:{port}", env, zone, work / "gunicorn.log")
    srv.manage("migrate", "--noinput", "-v", "0")
    srv.manage("collectstatic", "--noinput", "-v", "0")
    srv.manage("seed_demo")
    srv.shell(SCENE)

    with srv.log.open("wb") as log:
        web = subprocess.Popen(
            [GUNICORN, "clinic.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN_ARGS],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{srv.url}/health/", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                # Not up yet, or its first answer (URLs loaded on first use) was slow on a
                # busy machine: ask again until the deadline.
                pass
            assert web.poll() is None, f"gunicorn exited:\n{srv.log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.1)
        yield srv
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(5)
    # Django's log lines read "<date> <time> LEVEL logger message"; a refused page (403, 404)
    # is a WARNING, a crash an ERROR.
    errors = re.findall(r"^\S+ \S+ (?:ERROR|CRITICAL) .*$", srv.log.read_text(), re.MULTILINE)
    assert not errors, f"the server logged errors:\n{srv.log.read_text()[-5000:]}"


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Visitor:
    """One person's browser (its own cookies), with the checks every page gets."""

    context: BrowserContext
    page: Page
    base: str
    csp_errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def log_in(self, national_id: str, password: str = DEMO_PASSWORD) -> None:
        page = self.go("/accounts/login/")
        page.get_by_label("National ID").fill(national_id)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()


@pytest.fixture
def visitor(browser: Browser, server: Server) -> Iterator[Callable[..., Visitor]]:
    """Opens browsers: `visitor()` a new person, `visitor(phone=True)` on a phone."""
    opened: list[Visitor] = []

    def open_one(*, phone: bool = False) -> Visitor:
        context = browser.new_context(
            viewport=PHONE if phone else DESKTOP,
            base_url=server.url,
            locale="en-GB",
            timezone_id=server.zone,
        )
        # axe-core from npm, injected before each page's own scripts. An init script is
        # the browser's, not the page's: the CSP (scripts from 'self' only) still applies
        # to everything the page itself runs, and a violation fails the test.
        context.add_init_script(path=str(AXE))
        context.set_default_timeout(15_000)
        page = context.new_page()
        v = Visitor(context, page, server.url)

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                v.csp_errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        opened.append(v)
        return v

    yield open_one
    problems = [e for v in opened for e in v.csp_errors]
    for v in opened:
        v.context.close()
    assert not problems, problems
