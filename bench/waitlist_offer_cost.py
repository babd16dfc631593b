"""What a doctor's save of their weekly hours costs while patients wait on their waitlist:
queries and time of the one request, before the waitlist's offers were made in bulk and now.

    .venv/bin/python bench/waitlist_offer_cost.py [--before COMMIT] [--requests N]

For each tree (the `--before` commit, checked out into a temporary worktree, and this one) a
child process migrates a temporary SQLite database, loads the demo, puts patients on the
first doctor's waitlist and POSTs the hours form as that doctor through Django's test client
(the whole middleware stack, no network). The new hours add three evening hours on each
weekday: 30 new half-hour slots, each a weekly time to offer up to the booking horizon.

Two waitlists: one patient whom no new time suits (the offers go through every opened time
and make none), and 20 patients whom every time suits (20 offers, e-mails and webhooks).
Each request runs in a transaction rolled back afterwards, so every one saves the same
change on the same rows. Figures: the SQL queries of one request, and the median of
`time.perf_counter()` (wall) and `time.process_time()` (CPU) over the requests. Not part of
`make test`: a measurement, not an assertion.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BEFORE = "223682b"  # main before the waitlist's offers were made in bulk

HOURS = {
    "monday": "09:00-12:00, 16:00-19:00",
    "tuesday": "09:00-12:00, 14:00-16:00, 16:00-19:00",
    "wednesday": "09:00-12:00, 16:00-19:00",
    "thursday": "09:00-12:00, 14:00-16:00, 16:00-19:00",
    "friday": "09:00-12:00, 16:00-19:00",
    "visit_minutes": "30",
    "action": "save",
}


def measure(requests: int) -> dict[str, Any]:
    """In the child: this tree's Django, a fresh database with the demo clinic."""
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts import services as accounts
    from accounts.models import DoctorProfile, User
    from scheduling import availability, clock, services

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    doctor = DoctorProfile.objects.select_related("user").order_by("pk").first()
    assert doctor is not None
    today = clock.today()
    patients = [
        accounts.create_account(
            national_id=f"7{n:08d}",
            password=None,
            email=f"waiting{n}@bench.example",
            full_name=f"Waiting Patient {n}",
            phone=f"+49 30 9{n:06d}",
            role=User.Role.PATIENT,
            active=True,
            notify=False,
        )
        for n in range(20)
    ]
    client = Client()
    client.force_login(doctor.user)
    out: dict[str, Any] = {}
    scenarios = {
        # Evenings do not suit him: every opened time is looked at, none offered.
        "1 waiting, no time suits": [(patients[0], {"latest": dt.time(12)})],
        "20 waiting, every time suits": [(p, {}) for p in patients],
    }
    for name, waiting in scenarios.items():
        with transaction.atomic():
            for patient, times in waiting:
                services.join_waitlist(
                    patient=patient,
                    doctor=doctor,
                    start_date=today,
                    end_date=availability.horizon_end(today),
                    **times,
                )
            walls, cpus, counts = [], [], []
            for n in range(requests + 2):
                with transaction.atomic():
                    with CaptureQueriesContext(connection) as queries:
                        wall, cpu = time.perf_counter(), time.process_time()
                        response = client.post("/dashboard/hours/", HOURS)
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    assert response.status_code == 302, response.content[:2000]
                    offered = _count_offers()
                    transaction.set_rollback(True)
                if n >= 2:  # two warm-ups
                    walls.append(wall * 1000)
                    cpus.append(cpu * 1000)
                    counts.append(len(queries))
            transaction.set_rollback(True)
        out[name] = {
            "queries": max(counts),
            "wall_ms": statistics.median(walls),
            "cpu_ms": statistics.median(cpus),
            "offers": offered,
        }
    return out


def _count_offers() -> int:
    from scheduling.models import WaitlistOffer

    return WaitlistOffer.objects.count()


def run_child(tree: Path, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings_test",  # plain static storage
            "CLINIC_IGNORE_DOTENV": "1",
            "SECRET_KEY": "bench-" + "x" * 50,
            "LOCAL_HTTP": "1",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/b.sqlite3"),
            "PYTHONPATH": str(tree),
        }
        done = subprocess.run(
            [PYTHON, str(Path(__file__).resolve()), "--child", str(requests)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"the measurement in {tree} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before), args.before],
            check=True,
        )
        try:
            results = {"before": run_child(before, args.requests)}
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
            )
    results["now"] = run_child(ROOT, args.requests)
    print(f"{'':42} {'queries':>8} {'wall ms':>9} {'CPU ms':>8} {'offers':>7}")
    for when, rows in results.items():
        for name, row in rows.items():
            print(
                f"{when + ': ' + name:42} {row['queries']:8d} {row['wall_ms']:9.1f}"
                f" {row['cpu_ms']:8.1f} {row['offers']:7d}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, os.getcwd())
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main()
