"""The notifications scene: Dora's Tuesday slots, Alice the patient, a real HTTP receiver
standing in for n8n, and helpers to book and to run the worker.

Unless a test says otherwise the clock starts at Monday 1 June 2026, 10:00 in Berlin and runs
on (tick=True: threads, sockets and the worker need time to pass), so Tuesday 2 June 10:00
is 24 hours away and the Tuesday after is 8 days away.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer
from time_machine import TimeMachineFixture

from accounts.models import DoctorProfile, User
from accounts.tests.factories import BranchFactory, SpecialtyFactory
from notifications import dispatch
from notifications.models import Delivery, Event
from scheduling import services
from scheduling.models import Appointment, Slot

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)  # a Monday
TUESDAY = dt.date(2026, 6, 2)
NEXT_TUESDAY = dt.date(2026, 6, 9)
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtbm90aWZpY2F0aW9ucy10ZXN0cw=="
HOOK = "/hooks/clinic"


@pytest.fixture
def clinic_settings(settings: Settings) -> Settings:
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_HORIZON_DAYS = 60
    settings.BOOKING_MIN_NOTICE_MINUTES = 60
    settings.REMINDER_HOURS = 24
    settings.N8N_WEBHOOK_URL = ""
    settings.WEBHOOK_SECRET = ""
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def now(clinic_settings: Settings, time_machine: TimeMachineFixture) -> dt.datetime:
    time_machine.move_to(NOW, tick=True)
    return NOW


@pytest.fixture
def dora(doctor: User) -> DoctorProfile:
    profile = doctor.doctor_profile
    profile.specialty = SpecialtyFactory(name="Cardiologist", slug="cardiologist")
    profile.branch = BranchFactory(
        name="Riverside", slug="riverside", address="1 River Road", phone="+49 30 1000001"
    )
    profile.save()
    return profile


@pytest.fixture
def tuesday_slots(dora: DoctorProfile) -> list[Slot]:
    """Dora's Tuesdays from 10:00, twelve half-hour slots."""
    return [
        services.add_slot(
            doctor=dora,
            weekday=1,
            start_time=dt.time(10 + n // 2, 30 * (n % 2)),
            end_time=dt.time(10 + (n + 1) // 2, 30 * ((n + 1) % 2)),
        )
        for n in range(12)
    ]


@pytest.fixture
def book(
    now: dt.datetime, patient: User, dora: DoctorProfile, tuesday_slots: list[Slot]
) -> Callable[..., Appointment]:
    def _book(n: int = 0, date: dt.date = NEXT_TUESDAY, who: User | None = None) -> Appointment:
        return services.book(
            patient=who or patient, doctor=dora, slot=tuesday_slots[n], date=date, reason="Chest"
        )

    return _book


@pytest.fixture
def receiver(httpserver: HTTPServer, clinic_settings: Settings) -> HTTPServer:
    """n8n: a real HTTP server, named by N8N_WEBHOOK_URL. Tests add its answers."""
    clinic_settings.N8N_WEBHOOK_URL = httpserver.url_for(HOOK)
    clinic_settings.WEBHOOK_SECRET = SECRET
    return httpserver


@pytest.fixture
def send_on_commit(clinic_settings: Settings) -> Iterator[None]:
    """The web process's behaviour: a background thread sends right after commit."""
    clinic_settings.NOTIFICATIONS_SEND_ON_COMMIT = True
    yield
    # Nothing of this test may still be sending while the next one starts.
    assert dispatch.dispatcher.wait_idle(timeout=30)


def run_worker(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("run_worker", "--once", *args, stdout=out)
    return out.getvalue()


def received(server: HTTPServer) -> list[tuple[dict[str, str], bytes]]:
    """What the receiver got: (headers, body) of each request, in order."""
    return [(dict(req.headers), req.get_data()) for req, _ in server.log]


def received_ids(server: HTTPServer) -> list[str]:
    return [json.loads(body)["id"] for _, body in received(server)]


def webhook_deliveries(event_type: str | None = None) -> list[Delivery]:
    qs = Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK).select_related("event")
    if event_type:
        qs = qs.filter(event__type=event_type)
    return list(qs.order_by("pk"))


def events_of(appointment: Appointment) -> list[str]:
    return list(
        Event.objects.filter(appointment_public_id=appointment.public_id)
        .order_by("created_at")
        .values_list("type", flat=True)
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Other processes ----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def database_url() -> str:
    """The test database, for a process of its own (the tests must have committed)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a real web or worker process on the test database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env |= {
        "DATABASE_URL": database_url(),
        # The tests' own key, so sessions made here are valid there.
        "SECRET_KEY": settings.SECRET_KEY,
        "CLINIC_IGNORE_DOTENV": "1",
        "LOCAL_HTTP": "1",
        "DEBUG": "0",
        "CONN_MAX_AGE": "0",
        "N8N_WEBHOOK_URL": "",
        "WEBHOOK_SECRET": "",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


def manage(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=process_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
