"""Clinic beside a peer: the `django-appointment` package's free-slots request, measured here.

    .venv/bin/python bench/peer_django_appointment.py [--seconds 8] [--smoke]

Installs django-appointment (and Django 6.1, gunicorn) into a throwaway virtualenv under /tmp,
never into this repository; builds a minimal project there on SQLite with one staff member
working Monday to Friday, 09:00-17:00 in 30-minute slots; serves it with gunicorn (2 sync
workers, 127.0.0.1) and drives its free-slots request
(`/appointment/ajax/available_slots/?selected_date=…&staff_member=…`) with the same wrk
settings as `make bench`. Clinic's own grid fragment (two weeks of a doctor's free times, on
the 10k SQLite dataset of `make bench`; nothing cached) and its live refresh (304 while the
calendar is unchanged) are measured in the same run, each beside a bare view of its own
process. Prints the table and removes everything it made.

`--smoke` (scheduling/tests/test_bench_scripts.py runs it) measures Clinic's side for a
second each and installs nothing: it proves the script still works with the harness.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness

PEER = "django-appointment==3.12.0"

SETTINGS = """
SECRET_KEY = "peer-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "phonenumber_field", "appointment",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": __import__("pathlib").Path(__file__).parent.parent / "peer.sqlite3",
    "CONN_MAX_AGE": 60,
}}
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

URLS = """
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("appointment/", include("appointment.urls")),
    path("bench/ok/", lambda request: HttpResponse("ok", content_type="text/plain")),
]
"""

SEED = """
import datetime as dt
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from appointment.models import Service, StaffMember, WorkingHours

user = get_user_model().objects.create_user("dora", "dora@example.com", "x", first_name="Dora")
service = Service.objects.create(name="Consultation", duration=dt.timedelta(minutes=30), price=0)
staff = StaffMember.objects.create(
    user=user, slot_duration=30, lead_time=dt.time(9), finish_time=dt.time(17)
)
staff.services_offered.add(service)
for day in range(1, 6):  # the package's days: 0 is Sunday
    WorkingHours.objects.create(
        staff_member=staff, day_of_week=day, start_time=dt.time(9), end_time=dt.time(17)
    )
today = dt.date.today()
monday = today + dt.timedelta(days=7 - today.weekday())
path = f"/appointment/ajax/available_slots/?selected_date={monday}&staff_member={staff.pk}"
client = Client()
client.get(path, headers={"x-requested-with": "XMLHttpRequest"})
with CaptureQueriesContext(connection) as queries:
    response = client.get(path, headers={"x-requested-with": "XMLHttpRequest"})
body = response.json()
print("RESULT " + json.dumps({
    "path": path, "status": response.status_code, "queries": len(queries),
    "slots": len(body.get("available_slots", [])),
}))
"""


def peer_project(root: Path) -> Path:
    """The throwaway virtualenv and project; returns its python."""
    harness.log(f"installing {PEER} into a throwaway virtualenv under {root}")
    harness.run([sys.executable, "-m", "venv", str(root / "venv")])
    python = root / "venv" / "bin" / "python"
    harness.run(
        [str(python), "-m", "pip", "install", "--quiet", "django>=6.1,<6.2", PEER, "gunicorn"],
        capture_output=True,
    )
    (root / "peer").mkdir()
    (root / "peer" / "__init__.py").write_text("")
    (root / "peer" / "settings.py").write_text(textwrap.dedent(SETTINGS))
    (root / "peer" / "urls.py").write_text(textwrap.dedent(URLS))
    (root / "seed.py").write_text(textwrap.dedent(SEED))
    return python


def peer_env(root: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "PYTHONPATH": str(root),
        "PATH": "/usr/bin:/bin",
    }


def measure_peer(root: Path, python: Path, seconds: int) -> dict:
    env = peer_env(root)
    # The package ships no migrations: they are made here, in the throwaway project.
    harness.run(
        [str(python), "-m", "django", "makemigrations", "appointment", "-v0"], cwd=root, env=env
    )
    harness.run([str(python), "-m", "django", "migrate", "-v0"], cwd=root, env=env)
    seeding = subprocess.run(
        [str(python), "seed.py"], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if seeding.returncode:
        sys.exit(f"seeding the peer failed:\n{seeding.stderr[-3000:]}")
    out = seeding.stdout
    seeded = harness.json.loads(next(x for x in out.splitlines() if x.startswith("RESULT "))[7:])
    if seeded["status"] != 200 or not seeded["slots"]:
        sys.exit(f"the peer's free-slots request did not answer with slots: {seeded}")
    (root / "free-slots.txt").write_text(seeded["path"] + "\n")
    (root / "bare-view.txt").write_text("/bench/ok/\n")
    port = harness.free_port()
    log = (root / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            str(root / "venv" / "bin" / "gunicorn"),
            "peer.wsgi_app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "sync",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        harness.wait_until_up(base + "/bench/ok/", proc)
        result = interleaved(base, root / "bare-view.txt", root / "free-slots.txt", "ajax", seconds)
    finally:
        harness.stop_group(proc)
        log.close()
    result["queries"] = seeded["queries"]
    result["slots"] = seeded["slots"]
    return result


def interleaved(base: str, bare: Path, page: Path, kind: str, seconds: int) -> dict:
    """`kind`: ajax or htmx (read.lua's headers), or poll (the grid's refresh, poll.lua)."""
    length = max(seconds // 2, 1)

    def measure(length: int) -> dict:
        if kind == "poll":
            return harness.wrk(base, "poll.lua", [str(page)], length, harness.CONNECTIONS)
        return harness.wrk(base, "read.lua", [str(page), kind], length, 2)

    measure(min(2, length))  # warm-up
    parts: dict[str, list[dict]] = {"bare": [], "page": []}
    for _ in range(harness.ROUNDS):
        parts["bare"].append(harness.wrk(base, "read.lua", [str(bare)], length, 2))
        parts["page"].append(measure(length))
    return {k: harness.combine(v) for k, v in parts.items()}


def measure_clinic(seconds: int) -> dict:
    url = harness.working_database("sqlite", "10k", False, {})
    work = harness.VAR / "peer-clinic"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        harness.probe(url, "paths", str(work))
        first = (work / "grid-fragment.txt").read_text().splitlines()[0]
        (work / "one-fragment.txt").write_text(first + "\n")
        g = harness.Gunicorn(url, 2, harness.VAR / "gunicorn-peer-clinic.log")
        try:
            result = {
                "grid": interleaved(
                    g.base, work / "bare-view.txt", work / "one-fragment.txt", "htmx", seconds
                ),
                "poll": interleaved(
                    g.base, work / "bare-view.txt", work / "one-fragment.txt", "poll", seconds
                ),
            }
        finally:
            g.stop()
        result["queries"] = harness.probe(url, "queries")
    finally:
        harness.drop_working(url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--smoke", action="store_true", help="Clinic's side only, a second a run: a check"
    )
    args = parser.parse_args()
    seconds = 2 if args.smoke else args.seconds
    # No Redis here: each gunicorn worker keeps its own calendar versions, which a
    # read-only run does not notice.
    harness.ensure_tools(["sqlite"], "local")
    peer = None
    if not args.smoke:
        root = Path(tempfile.mkdtemp(prefix="clinic-peer-", dir="/tmp"))
        try:
            python = peer_project(root)
            (root / "peer" / "wsgi_app.py").write_text(
                "from django.core.wsgi import get_wsgi_application\n"
                "application = get_wsgi_application()\n"
            )
            harness.log("django-appointment: free slots of one staff member for one day")
            peer = measure_peer(root, python, seconds)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    harness.collect_static()
    harness.log("Clinic: the grid fragment (two weeks of one doctor, 10k dataset)")
    clinic = measure_clinic(seconds)

    queries = clinic["queries"]
    rows = [
        (
            "Clinic grid fragment (14 days), nothing cached",
            clinic["grid"]["page"],
            clinic["grid"]["bare"],
            queries["grid-fragment"][0],
        ),
        (
            "Clinic grid's live refresh (304 while unchanged)",
            clinic["poll"]["page"],
            clinic["poll"]["bare"],
            queries["grid-poll"][0],
        ),
    ]
    if peer is not None:
        rows.insert(
            0,
            ("django-appointment free slots (1 day)", peer["page"], peer["bare"], peer["queries"]),
        )
    lines = [
        f"wrk, 16 connections, 2 × {max(seconds // 2, 1)} s a request, gunicorn 2 sync "
        f"workers, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{os.getloadavg()[0]:.1f} (other work was running: compare the ratios)",
        "",
        "| request | req/s | p50 ms | p99 ms | × its own bare view | SQL queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r, bare, n in rows:
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {r['p50_us'] / 1000:.1f} | "
            f"{r['p99_us'] / 1000:.1f} | {r['rps'] / bare['rps']:.2f} | {n} |"
        )
    lines.append("")
    if peer is not None:
        for label, key in (("nothing cached", "grid"), ("its live refresh", "poll")):
            ratio = clinic[key]["page"]["rps"] / peer["page"]["rps"]
            lines.append(f"Clinic ({label}) ÷ django-appointment: {ratio:.1f}× the requests/s.")
    errors = sum(
        r["socket_errors"] + sum(n for st, n in r["statuses"].items() if st not in ("200", "304"))
        for _, r, _, _ in rows
    )
    lines.append(f"Errors: {errors}.")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if not args.smoke:
        (harness.BENCH / "results" / "peer-latest.md").write_text(
            "# Clinic beside django-appointment (bench/peer_django_appointment.py)\n\n" + text
        )


if __name__ == "__main__":
    main()
