"""The web process's sender on SQLite while other writers loop: before and after fair turns.

    .venv/bin/python bench/sqlite_sender.py              # about 4 minutes
    .venv/bin/python bench/sqlite_sender.py --seconds 15 # shorter windows

For each scenario it runs the same thing twice, each time in a fresh process on a copy of one
freshly migrated SQLite file (production settings, the 20 s busy timeout, WAL, IMMEDIATE):
once on Django's own SQLite backend ("before"), once on common.sqlite, whose writers take
turns ("after"). In each run:

- writers loop write transactions (a session row each, held open `hold` ms, as a request's
  work would), either as 4 threads of the web process or as 1 process of their own, for
  `--seconds`;
- meanwhile the web process's sender (notifications.dispatch, the real thread) is handed one
  activation e-mail every 0.5 s, as a booking's on_commit would;
- when the window closes the writers stop and the sender finishes what is left.

It prints, per run: the deliveries sent while the writers were writing, the longest and the
median wait from hand-off to "delivered", the "database is locked" warnings and errors the
sender logged, and the writers' transactions per second; then the ratios after/before.
Results also go to bench/results/sqlite-sender-latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RESULTS = ROOT / "bench" / "results"
ENGINES = {"before": "django.db.backends.sqlite3", "after": "common.sqlite"}
# name: (where the writers run, how many, how long each holds its transaction open)
SCENARIOS = {
    "4 web threads, 20 ms transactions": ("threads", 4, 0.020),
    "4 web threads, back-to-back transactions": ("threads", 4, 0.0),
    "1 other process, 20 ms transactions": ("process", 1, 0.020),
}
HAND_OFF_EVERY = 0.5


def env_for(db: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "CLINIC_IGNORE_DOTENV": "1",
        "LOCAL_HTTP": "1",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "DATABASE_URL": f"sqlite:///{db}",
        "EMAIL_URL": "memorymail://",
        "N8N_WEBHOOK_URL": "",
        "PYTHONPATH": str(ROOT),
    }


def setup_django(engine: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    # Before any connection exists: the backend under test, everything else production's.
    settings.DATABASES["default"]["ENGINE"] = engine


def write_loop(stop: threading.Event, hold: float, counts: list[int]) -> None:
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections, transaction

    n = 0
    try:
        while not stop.is_set():
            with transaction.atomic():
                SessionStore().create()
                if hold:
                    time.sleep(hold)
            n += 1
    finally:
        counts.append(n)
        connections.close_all()


class LockedCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings = 0
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if "locked" in text:
            if record.levelno >= logging.ERROR:
                self.errors += 1
            else:
                self.warnings += 1


def child(engine: str, where: str, writers: int, hold: float, seconds: float) -> dict:
    setup_django(engine)
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from notifications import dispatch, services
    from notifications.models import Delivery

    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    counter = LockedCounter()
    logging.getLogger("notifications").addHandler(counter)

    # The e-mails to hand off, written before the writers start.
    count = int(seconds / HAND_OFF_EVERY)
    ids = []
    for n in range(count):
        with transaction.atomic():
            user = User.objects.create_user(
                f"9{n:08d}",
                email=f"p{n}@example.test",
                full_name=f"Patient {n}",
                phone=f"+4930{n:07d}",
            )
            services.record_account_activated(user=user)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))

    stop = threading.Event()
    counts: list[int] = []
    threads: list[threading.Thread] = []
    process = None
    started = time.monotonic()
    if where == "threads":
        threads = [
            threading.Thread(target=write_loop, args=(stop, hold, counts)) for _ in range(writers)
        ]
        for thread in threads:
            thread.start()
    else:
        process = subprocess.Popen(
            [PYTHON, __file__, "write", engine, str(hold), str(seconds)],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            text=True,
        )
    time.sleep(0.5)  # the writers are writing

    handed: dict[int, float] = {}
    for pk in ids:
        handed[pk] = time.time()
        dispatch.submit([pk])
        time.sleep(HAND_OFF_EVERY)
    window_end = time.time()
    sent_in_window = Delivery.objects.filter(
        status=Delivery.Status.DELIVERED, delivered_at__lte=_aware(window_end)
    ).count()
    stop.set()
    for thread in threads:
        thread.join()
    if process is not None:
        out, _ = process.communicate()
        counts.append(int(out.strip() or 0))
    written_for = time.monotonic() - started
    idle = dispatch.dispatcher.wait_idle(timeout=600)

    delivered = {
        pk: at.timestamp()
        for pk, at in Delivery.objects.filter(status=Delivery.Status.DELIVERED).values_list(
            "pk", "delivered_at"
        )
    }
    waits = [delivered[pk] - handed[pk] for pk in ids if pk in delivered]
    return {
        "handed": len(ids),
        "sent_in_window": sent_in_window,
        "sent_in_the_end": len(delivered),
        "still_pending": Delivery.objects.exclude(status=Delivery.Status.DELIVERED).count(),
        "sender_idle": idle,
        "longest_wait": max(waits, default=0.0),
        "median_wait": statistics.median(waits) if waits else 0.0,
        "locked_warnings": counter.warnings,
        "locked_errors": counter.errors,
        "writer_tx_per_s": sum(counts) / written_for,
    }


def _aware(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def writer_process(engine: str, hold: float, seconds: float) -> None:
    setup_django(engine)
    stop = threading.Event()
    counts: list[int] = []
    timer = threading.Timer(seconds + 0.5, stop.set)
    timer.start()
    write_loop(stop, hold, counts)
    print(counts[0])


def migrated_template(workdir: Path) -> Path:
    db = workdir / "template.sqlite3"
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env_for(db),
        check=True,
    )
    return db


def run(seconds: float) -> list[tuple[str, str, dict]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="sqlite-sender-") as tmp:
        workdir = Path(tmp)
        print(f"Migrating a fresh SQLite file in {workdir} …", flush=True)
        template = migrated_template(workdir)
        for name, (where, writers, hold) in SCENARIOS.items():
            for label, engine in ENGINES.items():
                db = workdir / f"{label}-{where}-{writers}-{int(hold * 1000)}.sqlite3"
                shutil.copy(template, db)
                print(f"{name}: {label} ({engine}) …", flush=True)
                done = subprocess.run(
                    [PYTHON, __file__, "child", engine, where, *map(str, (writers, hold, seconds))],
                    cwd=ROOT,
                    env=env_for(db),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    print(done.stderr[-3000:])
                    raise SystemExit(f"the {label} run of {name!r} failed")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append((name, label, result))
                print("   ", result, flush=True)
    return rows


def table(rows: list[tuple[str, str, dict]], seconds: float) -> str:
    lines = [
        f"Writers loop for {seconds:g} s; the sender is handed an e-mail every "
        f"{HAND_OFF_EVERY} s meanwhile; busy timeout 20 s.",
        "",
        "| writers | backend | handed | sent while writing | sent in the end | longest wait |"
        " median wait | 'locked' warnings / errors | writer tx/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label, r in rows:
        lines.append(
            f"| {name} | {label} | {r['handed']} | {r['sent_in_window']} | {r['sent_in_the_end']}"
            f" | {r['longest_wait']:.2f} s | {r['median_wait']:.3f} s"
            f" | {r['locked_warnings']} / {r['locked_errors']} | {r['writer_tx_per_s']:.0f} |"
        )
    lines += ["", "Ratios after/before:", ""]
    by = {(name, label): r for name, label, r in rows}
    for name in SCENARIOS:
        before, after = by[(name, "before")], by[(name, "after")]
        longest = after["longest_wait"] / max(before["longest_wait"], 1e-9)
        lines.append(
            f"- {name}: longest wait ×{longest:.3f}"
            f", sent while writing {before['sent_in_window']} → {after['sent_in_window']}"
            f" of {after['handed']}, writer throughput"
            f" ×{after['writer_tx_per_s'] / max(before['writer_tx_per_s'], 1e-9):.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        engine, where, writers, hold, seconds = sys.argv[2:7]
        result = child(engine, where, int(writers), float(hold), float(seconds))
        print(json.dumps(result))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "write":
        engine, hold, seconds = sys.argv[2:5]
        writer_process(engine, float(hold), float(seconds))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="writing window per run")
    args = parser.parse_args()
    rows = run(args.seconds)
    text = table(rows, args.seconds)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sqlite-sender-latest.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
