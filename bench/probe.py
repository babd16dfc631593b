"""The Django side of `make bench`, run in the benchmark's environment (bench.settings and
the working database) by bench/run.py:

    probe.py paths DIR             the read runs' URL lists (ten typical doctors)
    probe.py mixed FILE            the mixed run's URL list (random doctors and fortnights)
    probe.py writes DIR KIND ...   per-client request files for wrk: patients, sessions, slots
    probe.py queries               SQL queries per page, cold and warm; EXPLAIN of the grid's
    probe.py count                 appointments in the database

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import secrets
import string
from pathlib import Path
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import DoctorProfile, PatientProfile, User  # noqa: E402
from scheduling import availability, clock  # noqa: E402
from scheduling.models import Appointment, Slot, TimeOff  # noqa: E402

READ_DOCTORS = 10
# The test client's host, for the query counts.
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def typical_doctors() -> list[DoctorProfile]:
    """Ten listed doctors with slots, not on time off: the pages every read run cycles over
    (at 10k and at 1M alike, so the cache behaves the same in both)."""
    away = set(TimeOff.objects.values_list("doctor_id", flat=True))
    with_slots = set(Slot.objects.active().values_list("doctor_id", flat=True).distinct())
    doctors = [
        d
        for d in DoctorProfile.objects.listed().order_by("pk")
        if d.pk in with_slots and d.pk not in away
    ]
    return doctors[:READ_DOCTORS]


def paths(out: Path) -> dict[str, Any]:
    doctors = typical_doctors()
    (out / "doctor-page.txt").write_text("".join(f"/doctors/{d.slug}/\n" for d in doctors))
    (out / "grid-fragment.txt").write_text(
        "".join(f"/doctors/{d.slug}/availability/\n" for d in doctors)
    )
    (out / "bare-view.txt").write_text("/bench/ok/\n")
    return {"doctors": [d.slug for d in doctors]}


def mixed(out: Path, n: int = 5000) -> dict[str, Any]:
    """Doctor pages of random listed doctors at random fortnights up to the horizon: what a
    clinic's patients look at, rather than ten pages over and over."""
    rng = random.Random(11)
    slugs = list(DoctorProfile.objects.listed().values_list("slug", flat=True))
    today = clock.today()
    span = (availability.horizon_end(today) - today).days - 13
    lines = []
    for _ in range(n):
        start = today + dt.timedelta(days=rng.randrange(max(span, 1)))
        lines.append(f"/doctors/{rng.choice(slugs)}/?start={start.isoformat()}\n")
    out.write_text("".join(lines))
    return {"doctors": len(slugs), "paths": n}


# --- Writes -------------------------------------------------------------------------------


def _patients(n: int, tag: str) -> list[User]:
    """New active patients, saved one by one like any account (the audit trail sees them)."""
    now = timezone.now()
    # Phone numbers after every one in use: unique without guessing.
    base = User.objects.count()
    users = []
    for i in range(n):
        user = User.objects.create(
            national_id=f"B{tag}{i:06d}",
            full_name=f"Bench Patient {tag} {i}",
            email=f"bench-{tag}-{i}@bench.example",
            phone=f"+4915{base + i:09d}",
            role=User.Role.PATIENT,
            is_active=True,
            activated_at=now,
            password="!",  # an unusable password: the harness signs them in by session
        )
        PatientProfile.objects.create(user=user)
        users.append(user)
    return users


def _cookie(user: User) -> tuple[str, str]:
    """A signed-in session of the user and a CSRF secret: the Cookie header and the token."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    cookie = (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"
    )
    return cookie, csrf


def free_openings(rng: random.Random) -> list[tuple[str, str, dt.date, dt.time]]:
    """Every free (doctor slug, slot public id, date, start) from the day after tomorrow to
    the day before the horizon, shuffled."""
    today = clock.today()
    first, last = today + dt.timedelta(days=2), availability.horizon_end(today) - dt.timedelta(1)
    doctors = {d.pk: d.slug for d in DoctorProfile.objects.listed().filter(accepting_bookings=True)}
    off: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for doctor_id, a, b in TimeOff.objects.active().values_list(
        "doctor_id", "start_date", "end_date"
    ):
        off.setdefault(doctor_id, []).append((a, b))
    taken = set(
        Appointment.objects.holding_slot()
        .filter(date__gte=first, date__lte=last)
        .values_list("slot_id", "date")
        .iterator(chunk_size=20_000)
    )
    dates: dict[int, list[dt.date]] = {}
    day = first
    while day <= last:
        dates.setdefault(day.weekday(), []).append(day)
        day += dt.timedelta(days=1)
    found = []
    for pk, doctor_id, weekday, start, public_id in (
        Slot.objects.active()
        .filter(doctor_id__in=doctors)
        .values_list("pk", "doctor_id", "weekday", "start_time", "public_id")
        .iterator(chunk_size=20_000)
    ):
        for date in dates.get(weekday, []):
            if (pk, date) in taken or any(a <= date <= b for a, b in off.get(doctor_id, [])):
                continue
            found.append((doctors[doctor_id], str(public_id), date, start))
    rng.shuffle(found)
    return found


def _line(path: str, cookie: str, body: str) -> str:
    return f"{path}\t{cookie}\t{body}\n"


def writes(out: Path, kind: str, clients: int, per_client: int, patients_each: int) -> dict:
    """Request files for `kind`: `random` (each client books its own free slots, rotating
    over its own patients, none of them ever twice at one time), `hot` (every client, one
    patient each, on the same four times of one doctor) or `bare` (the baseline insert)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(kind)
    tag = secrets.token_hex(3).upper()
    info: dict[str, Any] = {"kind": kind}
    if kind == "bare":
        for c in range(1, clients + 1):
            cookie, csrf = _cookie(_patients(1, f"{tag}{c:02d}")[0])
            (out / f"client-{c}.txt").write_text(
                _line("/bench/insert/", cookie, f"csrfmiddlewaretoken={csrf}")
            )
        return info

    openings = free_openings(rng)
    info["free_before"] = len(openings)
    if kind == "hot":
        # Four times of one doctor on one day: the first post of each wins, every other
        # answer is the clean 409 (or, for a winner posting its own time again, the same
        # appointment back).
        slug, _, date, _ = openings[0]
        hot = sorted({(o[1], o[3]) for o in openings if o[0] == slug and o[2] == date})[:4]
        info["hot"] = {"doctor": slug, "date": date.isoformat(), "times": len(hot)}
        for c in range(1, clients + 1):
            cookie, csrf = _cookie(_patients(1, f"{tag}{c:02d}")[0])
            lines = [
                _line(
                    f"/doctors/{slug}/book/",
                    cookie,
                    f"csrfmiddlewaretoken={csrf}&date={date.isoformat()}&slot={slot}&reason=bench",
                )
                for slot, _ in hot
            ]
            (out / f"client-{c}.txt").write_text("".join(lines))
        return info

    # A small clinic has fewer free slots than a long run books: its clients then run out,
    # and bench/run.py reports it.
    per_client = min(per_client, len(openings) // clients)
    needed = clients * per_client
    used = 0
    for c in range(1, clients + 1):
        people = [(p, *_cookie(p)) for p in _patients(patients_each, f"{tag}{c:02d}")]
        busy: list[set[tuple[dt.date, dt.time]]] = [set() for _ in people]
        lines = []
        while len(lines) < per_client and used < len(openings):
            slug, slot, date, start = openings[used]
            used += 1
            # The next of the client's patients free at that time (never two at once).
            for k in range(len(people)):
                j = (len(lines) + k) % len(people)
                if (date, start) not in busy[j]:
                    busy[j].add((date, start))
                    _, cookie, csrf = people[j]
                    body = (
                        f"csrfmiddlewaretoken={csrf}&date={date.isoformat()}&slot={slot}"
                        "&reason=bench"
                    )
                    lines.append(_line(f"/doctors/{slug}/book/", cookie, body))
                    break
        (out / f"client-{c}.txt").write_text("".join(lines))
    info["lines"] = needed
    return info


# --- Queries ------------------------------------------------------------------------------


def _count(client: Client, path: str, *, status: int = 200, **headers: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    assert response.status_code == status, (path, response.status_code)
    return len(queries), response


def queries() -> dict[str, Any]:
    """Queries per request: each page twice (nothing is cached: the same count), and the
    grid's poll answered 304 with the ETag of the grid just served."""
    doctor = typical_doctors()[0]
    client = Client()
    page, fragment = f"/doctors/{doctor.slug}/", f"/doctors/{doctor.slug}/availability/"
    result: dict[str, Any] = {
        "doctor-page": [_count(client, page)[0] for _ in range(2)],
        "grid-fragment": [_count(client, fragment, hx_request="true")[0] for _ in range(2)],
    }
    served = _count(client, fragment, hx_request="true")[1]
    if served.has_header("ETag"):
        etag = served["ETag"]
        polled = _count(client, fragment, status=304, hx_request="true", if_none_match=etag)[0]
        result["grid-poll"] = [polled, polled]
    else:  # a version of Clinic without the poll's ETag (a comparison run)
        result["grid-poll"] = result["grid-fragment"]
    # One booking POST, as a signed-in patient with her own session.
    rng = random.Random(7)
    slug, slot, date, _ = next(o for o in free_openings(rng) if o[0] == doctor.slug)
    patient = _patients(1, secrets.token_hex(3).upper())[0]
    booker = Client()
    booker.force_login(patient)
    with CaptureQueriesContext(connection) as booking:
        response = booker.post(
            f"/doctors/{slug}/book/", {"date": date.isoformat(), "slot": slot, "reason": "x"}
        )
    assert response.status_code == 302, response.status_code
    result["booking-post"] = [len(booking), len(booking)]
    today = clock.today()
    grid_rows = (
        Appointment.objects.holding_slot()
        .filter(doctor=doctor, date__gte=today, date__lte=availability.horizon_end(today))
        .order_by()
        .values_list("slot_id", "date")
    )
    result["explain"] = grid_rows.explain()
    result["appointments"] = Appointment.objects.count()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("paths")
    p.add_argument("dir", type=Path)
    m = sub.add_parser("mixed")
    m.add_argument("file", type=Path)
    w = sub.add_parser("writes")
    w.add_argument("dir", type=Path)
    w.add_argument("kind", choices=["random", "hot", "bare"])
    w.add_argument("--clients", type=int, default=16)
    w.add_argument("--per-client", type=int, default=1500)
    w.add_argument("--patients-each", type=int, default=40)
    sub.add_parser("queries")
    sub.add_parser("count")
    args = parser.parse_args()
    if args.command == "paths":
        result = paths(args.dir)
    elif args.command == "mixed":
        result = mixed(args.file)
    elif args.command == "writes":
        result = writes(args.dir, args.kind, args.clients, args.per_client, args.patients_each)
    elif args.command == "queries":
        result = queries()
    else:
        result = {"appointments": Appointment.objects.count()}
    print("RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
