"""CPU time per request in one process, through the whole WSGI handler and every middleware:
the steadiest figure on a shared machine, since time spent waiting for a core is not counted
(`time.process_time()`). The development companion of `make bench`, whose wrk ratios move
with the machine's load.

    DJANGO_SETTINGS_MODULE=bench.settings CLINIC_IGNORE_DOTENV=1 SECRET_KEY=… LOCAL_HTTP=1 \
        ALLOWED_HOSTS=127.0.0.1 RATELIMIT_ENABLED=0 NOTIFICATIONS_SEND_ON_COMMIT=0 \
        EMAIL_URL=dummymail:// N8N_WEBHOOK_URL= DATABASE_URL=… PYTHONPATH=. \
        .venv/bin/python bench/cpu.py [--rounds 7] [--n 200] [--only NAMES] [--profile PAGE]

Runs over a database with the demo data (`migrate`, `seed_demo`, `collectstatic`): each
page is requested `n` times per round, the best round is printed (milliseconds of CPU per
request), and each page beside the bare view (`HttpResponse("ok")`) and the about page.
Bookings are real: each round books `n` free openings, as signed-in patients with their own
sessions, as a browser would post them (CSRF token included), then deletes them (straight
from the table: the bench's own rows), so that a run can be repeated. `--profile PAGE` prints
cProfile's top functions for that page instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from bench import probe

APP = WSGIHandler()
HOST = "127.0.0.1"


def call(
    path: str,
    *,
    method: str = "GET",
    body: str = "",
    cookie: str = "",
    headers: dict[str, str] | None = None,
) -> int:
    path, _, query = path.partition("?")
    data = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST,
        "REMOTE_ADDR": HOST,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "CONTENT_LENGTH": str(len(data)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status = []
    response = APP(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        for _ in response:
            pass
    finally:
        response.close()
    return int(status[0].split()[0])


def _bookings(n: int) -> list[Callable[[], int]]:
    """n booking POSTs of free openings (the day after tomorrow onwards), each by one of
    a few new patients, never two at one time for one patient."""
    openings = probe.free_openings(random.Random(5))
    people = [(p, *probe._cookie(p)) for p in probe._patients(8, f"C{random.randrange(10**6)}")]
    busy: list[set[Any]] = [set() for _ in people]
    requests: list[Callable[[], int]] = []
    for slug, slot, date, start in openings:
        j = next((j for j in range(len(people)) if (date, start) not in busy[j]), None)
        if j is None:
            continue
        busy[j].add((date, start))
        _, cookie, csrf = people[j]
        body = f"csrfmiddlewaretoken={csrf}&date={date.isoformat()}&slot={slot}&reason=cpu"
        requests.append(
            lambda slug=slug, body=body, cookie=cookie: call(
                f"/doctors/{slug}/book/", method="POST", body=body, cookie=cookie
            )
        )
        if len(requests) == n:
            break
    return requests


def _undo_bookings() -> None:
    # Straight to the table: the bench's own rows, not a clinic's history.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scheduling_appointment WHERE reason = 'cpu'")


def pages() -> dict[str, Callable[[], int]]:
    doctor = probe.typical_doctors()[0]
    slug = doctor.slug
    fragment = f"/doctors/{slug}/availability/"
    return {
        "bare view": lambda: call("/bench/ok/"),
        "about page": lambda: call("/about/"),
        "doctor page": lambda: call(f"/doctors/{slug}/"),
        "grid fragment": lambda: call(fragment, headers={"HX-Request": "true"}),
    }


def measure(request: Callable[[], int], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        request()
    return (time.process_time() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--profile", default="", help="a page name: cProfile it instead")
    args = parser.parse_args()

    table = pages()
    names = [*table, "booking POST"]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    for name, request in table.items():
        status = request()
        assert status == 200, (name, status)

    if args.profile:
        profiler = cProfile.Profile()
        if args.profile == "booking POST":
            requests = _bookings(args.n)
            profiler.enable()
            statuses = [r() for r in requests]
            profiler.disable()
            _undo_bookings()
            assert set(statuses) == {302}, statuses[:5]
        else:
            request = table[args.profile]
            profiler.enable()
            for _ in range(args.n):
                request()
            profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        return

    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name in names:
            if name == "booking POST":
                requests = _bookings(args.n)
                start = time.process_time()
                statuses = [r() for r in requests]
                ms = (time.process_time() - start) / len(requests) * 1000
                _undo_bookings()
                assert set(statuses) == {302}, statuses[:5]
            else:
                ms = measure(table[name], args.n)
            best[name] = min(best.get(name, ms), ms)
    bare, about = best.get("bare view"), best.get("about page")
    print(f"{'request':<16} {'CPU ms':>7} {'× about':>8} {'bare ÷ it':>9}")
    for name, ms in best.items():
        ratio = f"{ms / about:8.2f}" if about else ""
        share = f"{bare / ms:9.3f}" if bare else ""
        print(f"{name:<16} {ms:7.3f} {ratio:>8} {share:>9}")


if __name__ == "__main__":
    main()
