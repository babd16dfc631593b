"""`make bench`: Clinic under load on this machine, every figure beside a baseline of the same run.

For each database (PostgreSQL, SQLite) and size (10k and 1M appointments, built by
`manage.py seed_scale` and cached under var/bench and as PostgreSQL template databases, keyed
by the seed code, the migrations and the day), and for 2 and 4 gunicorn sync workers started
here on a free loopback port, wrk (Debian's; installed here when missing) drives:

- reads at 16 connections: a bare Django view (no database), the doctor page and the grid
  fragment (htmx), cycling over ten typical doctors, and the grid's live refresh (each
  client sends back the ETag it got: 304 while the calendar is unchanged);
- a mixed run at 1M: doctor pages of random doctors (of 1,000) at random fortnights while
  bookings run at the same time, beside the bare view;
- writes at 16 clients, 1M only: the bare insert view (one INSERT in atomic()), bookings of
  random free slots (each client with its own patients) and a hot-slot run (every client on
  the same four times); beside pgbench (PostgreSQL) or a plain sqlite3 loop (SQLite) inserting
  into a table with the same partial unique index.

Queries per page (cold and warm cache) and the peak RSS of each worker are read too. Traffic
goes to 127.0.0.1 only, every run is bounded in time, and everything started here (gunicorn,
the working databases) is stopped or dropped at the end. Results: a table on stdout and in
bench/results/ (Markdown and JSON).

    .venv/bin/python bench/run.py [--seconds 10] [--db postgresql,sqlite] [--workers 2,4]
                                  [--sizes 10k,1M] [--fresh]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
PY = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PG = "postgres://postgres@127.0.0.1:5432"
CONNECTIONS = 16
ROUNDS = 2
READ_PAGES = ("bare-view", "doctor-page", "grid-fragment", "grid-poll")
# Answers that count as served, by page (the grid's poll: 304 while nothing changed).
READ_OK = {"grid-poll": {"200", "304"}}
# The mixed run: this many of the 16 connections read, the others book.
MIXED_READERS = 12

SIZES = {
    # The same clinic per doctor (8 slots a weekday, about 1,000 appointments each over 250
    # days); only the number of doctors, patients and rows differs.
    "10k": {"doctors": 10, "patients": 1_000, "days": 250, "appointments": 10_000},
    "1M": {"doctors": 1_000, "patients": 100_000, "days": 250, "appointments": 1_000_000},
}
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.0f}s] {message}", flush=True)


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, **kwargs)


# --- Tools --------------------------------------------------------------------------------


def ensure_tools(dbs: list[str], cache: str) -> None:
    """wrk, pgbench and redis-server from Debian's packages, installed when missing."""
    wanted = {"wrk": "wrk"}
    if cache == "redis":
        wanted["redis-server"] = "redis-server"
    if "postgresql" in dbs:
        wanted["pgbench"] = "postgresql-contrib"
    missing = [pkg for tool, pkg in wanted.items() if shutil.which(tool) is None]
    if missing:
        log(f"installing {', '.join(missing)} (apt-get)")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run([*sudo, "apt-get", "update", "-qq"], env=apt_env)
        run([*sudo, "apt-get", "install", "-y", "-qq", *missing], env=apt_env)
    if "postgresql" in dbs:
        run([str(ROOT / "scripts" / "ensure-postgres")])


def collect_static() -> None:
    """The pages' static files (and their manifest), as the servers and probes want them."""
    log("collectstatic")
    VAR.mkdir(parents=True, exist_ok=True)
    run(
        [str(PY), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=base_env("sqlite:///" + str(VAR / "unused.sqlite3")),
    )
    with contextlib.suppress(FileNotFoundError):
        (VAR / "unused.sqlite3").unlink()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Databases ----------------------------------------------------------------------------


def psql(sql: str, db: str = "postgres") -> str:
    out = run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-qAtX", "-c", sql],
        capture_output=True,
    )
    return out.stdout.strip()


def base_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        CLINIC_IGNORE_DOTENV="1",
        SECRET_KEY="bench-only-" + hashlib.sha256(str(ROOT).encode()).hexdigest(),
        DEBUG="0",
        LOCAL_HTTP="1",
        ALLOWED_HOSTS="127.0.0.1",
        # The security work's rate limits would turn a load test into 429s.
        RATELIMIT_ENABLED="0",
        # Bookings write their outbox rows as in production; no thread sends them here.
        NOTIFICATIONS_SEND_ON_COMMIT="0",
        EMAIL_URL="dummymail://",
        N8N_WEBHOOK_URL="",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def dataset_key(db: str, size: str) -> str:
    digest = hashlib.sha256()
    digest.update(f"{db}:{size}:{SIZES[size]}:{dt.datetime.now(dt.UTC).date()}".encode())
    sources = [ROOT / "scheduling/management/commands/seed_scale.py"]
    sources += sorted(ROOT.glob("*/migrations/0*.py"))
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def seed(url: str, size: str) -> float:
    env = base_env(url)
    run([str(PY), "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env)
    started = time.monotonic()
    args = [f"--{k}={v}" for k, v in SIZES[size].items()]
    run([str(PY), "manage.py", "seed_scale", *args], cwd=ROOT, env=env)
    return time.monotonic() - started


def working_database(db: str, size: str, fresh: bool, built: dict[str, float]) -> str:
    """A fresh copy of the cached dataset (built now when missing); its DATABASE_URL."""
    key = dataset_key(db, size)
    if db == "postgresql":
        cached, work = (
            f"clinic_bench_cache_{size.lower()}_{key}",
            # Per checkout: two checkouts benchmarking at once never drop each other's copy.
            f"clinic_bench_work_{size.lower()}_{hashlib.sha256(str(ROOT).encode()).hexdigest()[:6]}",
        )
        names = psql("SELECT datname FROM pg_database").split()
        for name in names:
            if name.startswith(f"clinic_bench_cache_{size.lower()}_") and (name != cached or fresh):
                psql(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or cached not in names:
            log(f"building the {size} dataset on PostgreSQL")
            # Built under another name and renamed when complete: an interrupted build
            # never passes for the cache.
            building = f"clinic_bench_building_{size.lower()}"
            psql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{building}"')
            built[f"postgresql {size}"] = seed(f"{PG}/{building}", size)
            psql(f'ALTER DATABASE "{building}" RENAME TO "{cached}"')
        psql(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
        # FILE_COPY (PostgreSQL 15+): a plain copy of the files, instead of writing the whole
        # database through the WAL, which would keep the disk busy during the first runs.
        strategy = " STRATEGY FILE_COPY" if int(psql("SHOW server_version_num")) >= 150000 else ""
        psql(f'CREATE DATABASE "{work}" TEMPLATE "{cached}"{strategy}')
        return f"{PG}/{work}"
    cache_dir = VAR / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached_file = cache_dir / f"{size}-{key}.sqlite3"
    for old in cache_dir.glob(f"{size}-*.sqlite3*"):
        if old != cached_file or fresh:
            old.unlink()
    if not cached_file.exists():
        log(f"building the {size} dataset on SQLite")
        building = cache_dir / f"building-{size}.sqlite3"
        for leftover in cache_dir.glob(f"building-{size}.sqlite3*"):
            leftover.unlink()
        built[f"sqlite {size}"] = seed(f"sqlite:///{building}", size)
        with contextlib.closing(sqlite3.connect(building)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.rename(cached_file)
    work_file = VAR / f"work-{size}.sqlite3"
    for leftover in VAR.glob(f"work-{size}.sqlite3*"):
        leftover.unlink()
    shutil.copyfile(cached_file, work_file)
    return f"sqlite:///{work_file}"


def drop_working(url: str) -> None:
    if url.startswith("postgres"):
        psql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()


BENCH_TABLE = {
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, doctor_id bigint NOT "
        "NULL, slot_id bigint NOT NULL, date date NOT NULL, status varchar(12) NOT NULL, "
        "created_at timestamptz NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS bench_insert_unique_active_slot ON bench_insert "
        "(doctor_id, slot_id, date) WHERE status <> 'cancelled'",
    ],
    "sqlite": [
        "CREATE TABLE IF NOT EXISTS bench_insert (id integer PRIMARY KEY AUTOINCREMENT, "
        "doctor_id bigint NOT NULL, slot_id bigint NOT NULL, date date NOT NULL, status "
        "varchar(12) NOT NULL, created_at datetime NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS bench_insert_unique_active_slot ON bench_insert "
        "(doctor_id, slot_id, date) WHERE NOT (status = 'cancelled')",
    ],
}


def sql(url: str, statements: list[str]) -> list[Any]:
    out = []
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            for statement in statements:
                cur = c.execute(statement)
                out.append(cur.fetchone() if cur.description else None)
    else:
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as c:
            for statement in statements:
                cur = c.execute(statement)
                out.append(cur.fetchone() if cur.description else None)
            c.commit()
    return out


def appointments(url: str) -> int:
    return sql(url, ["SELECT count(*) FROM scheduling_appointment"])[0][0]


# --- Gunicorn and wrk ---------------------------------------------------------------------


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"{url} did not answer")
        time.sleep(0.2)


def stop_group(proc: subprocess.Popen) -> None:
    """Stops a server started here in its own process group (its workers with it)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Redis:
    """A private redis-server on a free loopback port, in memory only, for the run's caches:
    the shared CACHE_URL that several gunicorn workers want (README, Configuration). Each
    server gets a database of its own, emptied first: two datasets side by side have doctors
    with the same ids."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--databases", "64"),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.next_db = 0
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit("redis-server did not start")
            time.sleep(0.1)

    def _client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def _answers(self) -> bool:
        try:
            return bool(self._client().ping())
        except redis.ConnectionError:
            return False

    def new_url(self) -> str:
        db, self.next_db = self.next_db, (self.next_db + 1) % 64
        self._client(db).flushdb()
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        stop_group(self.proc)


REDIS: Redis | None = None


class Gunicorn:
    def __init__(
        self, url: str, workers: int, logfile: Path, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logfile.open("w")
        self.proc = subprocess.Popen(
            [
                str(GUNICORN),
                "clinic.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--backlog",
                "2048",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env={
                **base_env(url),
                **({"CACHE_URL": REDIS.new_url()} if REDIS else {}),
                **(env or {}),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
        try:
            wait_until_up(self.base + "/health/", self.proc)
        except SystemExit:
            self.stop()
            sys.exit(f"gunicorn did not start; see {logfile}")

    def workers(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid:
                    pids.append(int(stat.parent.name))
        return pids

    def peak_rss_mb(self) -> list[float]:
        """VmHWM of each worker: its peak resident memory since it started."""
        peaks = []
        for pid in self.workers():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
                peaks.append(round(kb / 1024, 1))
        return sorted(peaks)

    def stop(self) -> None:
        stop_group(self.proc)
        self.log.close()


def wrk_start(
    base: str, script: str, args: list[str], seconds: int, threads: int, connections: int = 0
) -> subprocess.Popen:
    connections = connections or CONNECTIONS
    return subprocess.Popen(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "wrk" / script),
            base,
            "--",
            *args,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def wrk_result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode:
        sys.exit(f"wrk failed ({proc.returncode})")
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    seconds_run = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds_run
    result["seconds"] = seconds_run
    return result


def wrk(base: str, script: str, args: list[str], seconds: int, threads: int) -> dict:
    return wrk_result(wrk_start(base, script, args, seconds, threads))


def probe(url: str, *args: str) -> dict:
    done = subprocess.run(
        [str(PY), str(BENCH / "probe.py"), *args],
        cwd=ROOT,
        env=base_env(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.exit(f"probe.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


# --- The database's own insert limit ------------------------------------------------------


def pgbench(url: str, seconds: int) -> dict:
    sql(url, BENCH_TABLE["postgresql"])
    out = run(
        [
            "pgbench",
            "-n",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            f"-c{CONNECTIONS}",
            "-j2",
            f"-T{seconds}",
            "-f",
            str(BENCH / "pgbench_insert.sql"),
            url.rsplit("/", 1)[1],
        ],
        capture_output=True,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1))
    return {
        "rps": tps,
        "mean_ms": latency,
        "errors": failed,
        "tool": f"pgbench, {CONNECTIONS} clients",
    }


def sqlite_limit(url: str, seconds: int) -> dict:
    """SQLite has one writer at a time: one connection inserting as fast as it can, a
    transaction per row (BEGIN IMMEDIATE, WAL, synchronous=NORMAL, as the app's settings)."""
    sql(url, BENCH_TABLE["sqlite"])
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=20)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    n, started = 0, time.monotonic()
    latencies = []
    while time.monotonic() - started < seconds:
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO bench_insert (doctor_id, slot_id, date, status, created_at) "
            "VALUES (2, ?, date('now'), 'scheduled', datetime('now'))",
            (n + 10**12,),
        )
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - t)
        n += 1
    conn.close()
    elapsed = time.monotonic() - started
    return {
        "rps": n / elapsed,
        "mean_ms": 1000 * sum(latencies) / n,
        "errors": 0,
        "tool": "sqlite3 loop, 1 writer",
    }


# --- One gunicorn -------------------------------------------------------------------------


def combine(parts: list[dict]) -> dict:
    """One figure from runs of the same thing taken at different moments (the load of the
    machine drifts): requests and time added up, the median of the medians, the worst p99."""
    out = {
        "requests": sum(p["requests"] for p in parts),
        "duration_us": sum(p["duration_us"] for p in parts),
        "p50_us": sorted(p["p50_us"] for p in parts)[len(parts) // 2],
        "p99_us": max(p["p99_us"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
        "wrapped": sum(p["wrapped"] for p in parts),
        "statuses": {},
    }
    for p in parts:
        for status, n in p["statuses"].items():
            out["statuses"][status] = out["statuses"].get(status, 0) + n
    out["seconds"] = out["duration_us"] / 1e6
    out["rps"] = out["requests"] / out["seconds"]
    return out


def reads(
    servers: dict[str, Gunicorn], works: dict[str, Path], seconds: int, pages: tuple[str, ...]
) -> dict[str, dict[str, dict]]:
    """Each page of each server (one per dataset size, all up at once) in interleaved rounds,
    so that the bare view, the pages and the two sizes are measured side by side in time:
    the load of the machine drifts, and each comparison is between neighbours."""
    for size, g in servers.items():  # warm-up, not counted
        wrk(g.base, "read.lua", [str(works[size] / "doctor-page.txt")], 2, 2)
    parts: dict[tuple[str, str], list[dict]] = {}
    for _ in range(ROUNDS):
        for size, g in servers.items():
            for page in pages:
                length = max(seconds // ROUNDS, 1)
                if page == "grid-poll":
                    # One connection per wrk thread: each keeps the ETags of its answers.
                    args = [str(works[size] / "grid-fragment.txt")]
                    result = wrk(g.base, "poll.lua", args, length, CONNECTIONS)
                else:
                    extra = ["htmx"] if page == "grid-fragment" else []
                    args = [str(works[size] / f"{page}.txt"), *extra]
                    result = wrk(g.base, "read.lua", args, length, 2)
                parts.setdefault((size, page), []).append(result)
    results: dict[str, dict[str, dict]] = {}
    for (size, page), runs in parts.items():
        r = combine(runs)
        ok = READ_OK.get(page, {"200"})
        r["errors"] = r["socket_errors"] + sum(
            n for status, n in r["statuses"].items() if status not in ok
        )
        r["not_modified"] = r["statuses"].get("304", 0)
        results.setdefault(size, {})[page] = r
        log(
            f"  {size:>4} {page:<14} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  "
            f"p99 {r['p99_us'] / 1000:6.1f} ms  errors {r['errors']}"
        )
    return results


def writes(g: Gunicorn, url: str, work: Path, seconds: int) -> dict[str, dict]:
    """The bare insert view in two halves around the booking runs (the load drifts)."""
    files = {}
    for kind in ("bare", "random", "hot"):
        files[kind] = work / kind
        shutil.rmtree(files[kind], ignore_errors=True)
    parts: dict[str, list[dict]] = {"bare": [], "random": [], "hot": []}
    info = {}
    booked = {"bare": 0, "random": 0, "hot": 0}
    plan = [("bare", seconds // 2), ("random", seconds), ("hot", seconds), ("bare", seconds // 2)]
    for kind, length in plan:
        if kind not in info:
            info[kind] = probe(url, "writes", str(files[kind]), kind, "--per-client", "1200")
        mode = "once" if kind == "random" else "cyclic"
        before = appointments(url)
        parts[kind].append(wrk(g.base, "post.lua", [str(files[kind]), mode], length, CONNECTIONS))
        booked[kind] += appointments(url) - before
    results = {}
    for kind in ("bare", "random", "hot"):
        r = combine(parts[kind])
        ok = {"bare": {"302"}, "random": {"302"}, "hot": {"302", "409"}}[kind]
        r["errors"] = r["socket_errors"] + sum(
            n for status, n in r["statuses"].items() if status not in ok
        )
        r["conflicts"] = r["statuses"].get("409", 0)
        r["bookings"] = booked[kind]
        r["bookings_per_s"] = booked[kind] / r["seconds"]
        r["info"] = info[kind]
        if r["wrapped"]:
            r["errors"] += r["wrapped"]
            log(f"  {kind}: a client ran out of free slots ({r['wrapped']} repeats)")
        results[kind] = r
        log(
            f"  {kind:<14} {r['rps']:8.0f} answers/s  {r['bookings_per_s']:7.0f} bookings/s  "
            f"p50 {r['p50_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms  "
            f"409 {r['conflicts']}  errors {r['errors']}"
        )
    return results


def mixed(g: Gunicorn, url: str, work: Path, seconds: int) -> dict[str, dict]:
    """Doctor pages of random doctors at random fortnights (MIXED_READERS connections) while
    the other connections book; the bare view just before and just after (the load drifts)."""
    pages = work / "mixed.txt"
    info = probe(url, "mixed", str(pages))
    bookers = CONNECTIONS - MIXED_READERS
    books = work / "mixed-book"
    shutil.rmtree(books, ignore_errors=True)
    probe(url, "writes", str(books), "random", "--clients", str(bookers), "--per-client", "600")
    bare_file = work / "bare-view.txt"
    bare = [wrk(g.base, "read.lua", [str(bare_file)], max(seconds // 2, 1), 2)]
    before = appointments(url)
    readers = wrk_start(g.base, "read.lua", [str(pages)], seconds, 2, MIXED_READERS)
    writers = wrk_start(g.base, "post.lua", [str(books), "once"], seconds, bookers, bookers)
    read, written = wrk_result(readers), wrk_result(writers)
    booked = appointments(url) - before
    bare.append(wrk(g.base, "read.lua", [str(bare_file)], max(seconds // 2, 1), 2))
    read["errors"] = read["socket_errors"] + sum(
        n for status, n in read["statuses"].items() if status != "200"
    )
    written["errors"] = (
        written["socket_errors"]
        + written["wrapped"]
        + sum(n for status, n in written["statuses"].items() if status != "302")
    )
    written["bookings_per_s"] = booked / written["seconds"]
    result = {"reads": read, "bookings": written, "bare": combine(bare), "info": info}
    log(
        f"  mixed: {read['rps']:8.0f} req/s ({read['rps'] / result['bare']['rps']:.2f} × bare)"
        f"  p50 {read['p50_us'] / 1000:6.1f} ms  p99 {read['p99_us'] / 1000:6.1f} ms"
        f"  bookings {written['bookings_per_s']:5.0f}/s  errors {read['errors']}"
        f"/{written['errors']}"
    )
    return result


# --- Report -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    versions = {}
    for name, cmd in {
        "wrk": ["wrk", "--version"],
        "postgresql": [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qAtXc",
            "SHOW server_version",
        ],
        "python": [
            str(PY),
            "-c",
            "import sys, sqlite3, django; print(sys.version.split()[0], "
            "'django', django.get_version(), 'sqlite', sqlite3.sqlite_version)",
        ],
    }.items():
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            versions[name] = (p.stdout or p.stderr).strip().splitlines()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem / 1024 / 1024, 1),
        "load_at_start": os.getloadavg(),
        "versions": versions,
    }


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def report(data: dict[str, Any]) -> str:
    lines = []
    m = data["machine"]
    lines += [
        f"# Clinic benchmark, {data['finished']}",
        "",
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB; load average "
        f"{m['load_at_start'][0]:.1f} at the start and {data['load_at_end'][0]:.1f} at the end "
        "(other work was running on the machine: absolute figures are noisy, the ratios to the "
        "baselines measured in the same run are the point). "
        + "; ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        f"wrk, {CONNECTIONS} connections, {data['seconds']} s a run; gunicorn sync workers on "
        "127.0.0.1, "
        + (
            "CACHE_URL a private redis-server (shared by the workers: the calendar versions "
            "of the grid's ETag, nothing rendered)"
            if data.get("cache") == "redis"
            else "no CACHE_URL (each worker's own memory)"
        )
        + ". Total time of this run: "
        f"{data['total_seconds'] / 60:.1f} min (datasets built: "
        + (", ".join(f"{k} in {v:.0f} s" for k, v in data["built"].items()) or "from the cache")
        + ").",
        "",
        "## Reads (16 connections)",
        "",
        "Nothing is cached: every doctor page and grid fragment reads the calendar and renders "
        "it. grid-poll is the grid's live refresh, each client sending back the ETag it got "
        "(304 while the doctor's calendar and the minute are unchanged).",
        "",
        "| db | data | workers | page | req/s | × bare view | p50 ms | p99 ms | errors | "
        "304s | queries (1st/2nd) |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run_ in data["runs"]:
        bare = run_["reads"]["bare-view"]["rps"]
        for page, r in run_["reads"].items():
            q = run_["queries"].get(page)
            share = f"{r.get('not_modified', 0) / max(r['requests'], 1):.0%}"
            lines.append(
                f"| {run_['db']} | {run_['size']} | {run_['workers']} | {page} | "
                f"{r['rps']:,.0f} | {r['rps'] / bare:.2f} | {ms(r['p50_us'])} | "
                f"{ms(r['p99_us'])} | {r['errors']} | {share if page == 'grid-poll' else '–'} | "
                f"{'/'.join(map(str, q)) if q else '–'} |"
            )
    lines += [
        "",
        "## Mixed at 1M: random doctors and fortnights, bookings at the same time",
        "",
        f"{MIXED_READERS} connections GET doctor pages of random doctors (of all the listed "
        "ones) at random fortnights up to the horizon while "
        f"{CONNECTIONS - MIXED_READERS} others book random free slots; the bare view is "
        "measured just before and just after.",
        "",
        "| db | workers | pages/s | × bare view | p50 ms | p99 ms | bookings/s meanwhile | "
        "booking p50 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run_ in data["mixed"]:
        r, b = run_["reads"], run_["bookings"]
        lines.append(
            f"| {run_['db']} | {run_['workers']} | {r['rps']:,.0f} | "
            f"{r['rps'] / run_['bare']['rps']:.2f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | "
            f"{b['bookings_per_s']:,.0f} | {ms(b['p50_us'])} | {r['errors'] + b['errors']} |"
        )
    lines += [
        "",
        "## Growth: 10k → 1M appointments (same doctors' calendars, 100× the rows)",
        "",
        "Time per request = workers ÷ req/s.",
        "",
        "| db | workers | page | ms at 10k | at 1M | 1M ÷ 10k | p50 1M ÷ 10k |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for g in data["growth"]:
        lines.append(
            f"| {g['db']} | {g['workers']} | {g['page']} | {g['small_ms']:.2f} | "
            f"{g['large_ms']:.2f} | {g['ratio']:.2f} | {g['p50_ratio']:.2f} |"
        )
    lines += [
        "",
        "## Writes at 1M (16 clients)",
        "",
        "| db | workers | run | answers/s | bookings/s | × bare insert view | × database "
        "limit | p50 ms | p99 ms | clean 409s | errors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run_ in data["runs"]:
        if not run_.get("writes"):
            continue
        w = run_["writes"]
        limit = data["limits"][run_["db"]]["rps"]
        bare = w["bare"]["rps"]
        for kind, r in w.items():
            rate = r["rps"] if kind == "bare" else r["bookings_per_s"]
            if kind == "hot":
                shown, ratio, of_limit = f"{r['bookings']} in all", "–", "–"
            else:
                shown, ratio, of_limit = f"{rate:,.0f}", f"{rate / bare:.2f}", f"{rate / limit:.3f}"
            lines.append(
                f"| {run_['db']} | {run_['workers']} | {kind} | {r['rps']:,.0f} | {shown} | "
                f"{ratio} | {of_limit} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | "
                f"{r['conflicts']} | {r['errors']} |"
            )
    for db, limit in data["limits"].items():
        lines.append("")
        lines.append(
            f"Database limit, {db}: {limit['rps']:,.0f} inserts/s ({limit['tool']}, mean "
            f"{limit['mean_ms']:.2f} ms, {limit['errors']} failed)."
        )
    lines += [
        "",
        "Bookings: a signed-in patient POSTs the booking form (session, CSRF, every rule, the "
        "row, its outbox events), answered with a redirect; `bookings/s` counts the rows "
        "created. Random: each client books free slots of random doctors for its own 40 "
        "patients (none ever twice at one time). Hot: 16 clients, one patient each, all on "
        "the same 4 times of one doctor: 4 bookings, then clean 409s (a winner posting its "
        "own time again gets its appointment back, 302).",
        "",
        "## Memory and queries",
        "",
        "| db | data | workers | peak RSS per worker (MB) |",
        "| --- | --- | --- | --- |",
    ]
    for run_ in data["runs"]:
        lines.append(
            f"| {run_['db']} | {run_['size']} | {run_['workers']} | "
            f"{', '.join(map(str, run_['rss_mb']))} |"
        )
    lines += ["", "Queries per request (first / second request):", ""]
    for key, q in data["queries"].items():
        lines.append(
            f"- {key}: "
            + ", ".join(
                f"{page} {q[page][0]}/{q[page][1]}"
                for page in ("doctor-page", "grid-fragment", "grid-poll", "booking-post")
            )
        )
    lines += ["", "## Targets", "", "| target | result | met |", "| --- | --- | --- |"]
    for t in data["targets"]:
        lines.append(f"| {t['target']} | {t['result']} | {'yes' if t['met'] else '**no**'} |")
    explain = data.get("explain")
    if explain:
        lines += ["", "The grid's query at 1M on PostgreSQL (EXPLAIN):", "", "```", explain, "```"]
    return "\n".join(lines) + "\n"


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    large = [r for r in data["runs"] if r["size"] == "1M"]

    def add(target: str, values: list[tuple[str, float]], ok: Any, fmt: str) -> None:
        if not values:
            return
        # The worst is the one furthest on the failing side: the lowest of "at least" targets.
        higher_is_better = ok(10**9, 0)
        pick = min if higher_is_better else max
        worst = pick(values, key=lambda v: v[1])
        out.append(
            {
                "target": target,
                "result": "worst " + fmt.format(worst[1]) + f" ({worst[0]})",
                "met": all(ok(v, 0) for _, v in values),
            }
        )

    def name(r: dict) -> str:
        return f"{r['db']}, {r['size']}, {r['workers']} workers"

    add(
        "doctor page, nothing cached, ≥ 30 % of the bare view's req/s (1M)",
        [
            (name(r), r["reads"]["doctor-page"]["rps"] / r["reads"]["bare-view"]["rps"])
            for r in large
        ],
        lambda v, _: v >= 0.3,
        "{:.0%}",
    )
    add(
        "mixed run (random doctors and fortnights, bookings meanwhile) ≥ 30 % of the bare view",
        [
            (f"{m['db']}, {m['workers']} workers", m["reads"]["rps"] / m["bare"]["rps"])
            for m in data["mixed"]
        ],
        lambda v, _: v >= 0.3,
        "{:.0%}",
    )
    add(
        "p99 < 50 ms at 16 clients with 1M (doctor page and fragment)",
        [
            (
                f"{name(r)}, {p}; the bare view's p99 there: "
                f"{r['reads']['bare-view']['p99_us'] / 1000:.1f} ms",
                r["reads"][p]["p99_us"] / 1000,
            )
            for r in large
            for p in ("doctor-page", "grid-fragment")
        ],
        lambda v, _: v < 50,
        "{:.1f} ms",
    )
    add(
        "time at 1M ≤ 1.2 × time at 10k",
        [(f"{g['db']}, {g['workers']} workers, {g['page']}", g["ratio"]) for g in data["growth"]],
        lambda v, _: v <= 1.2,
        "{:.2f}×",
    )
    add(
        "bookings/s ≥ 30 % of the bare insert view's",
        [
            (name(r), r["writes"]["random"]["bookings_per_s"] / r["writes"]["bare"]["rps"])
            for r in large
            if r.get("writes")
        ],
        lambda v, _: v >= 0.3,
        "{:.0%}",
    )
    add(
        "hot slot: the losers' p50 ≤ 1.5 × the winners' (random bookings') p50",
        [
            (name(r), r["writes"]["hot"]["p50_us"] / max(r["writes"]["random"]["p50_us"], 1))
            for r in large
            if r.get("writes")
        ],
        lambda v, _: v <= 1.5,
        "{:.2f}×",
    )
    errors = [
        (f"{name(r)}, {k}", float(x["errors"]))
        for r in data["runs"]
        for k, x in [*r["reads"].items(), *r.get("writes", {}).items()]
    ]
    add("0 errors other than clean 409s", errors, lambda v, _: v == 0, "{:.0f}")
    add(
        "≤ 150 MB per worker",
        [(name(r), max(r["rss_mb"] or [0])) for r in data["runs"]],
        lambda v, _: v <= 150,
        "{:.0f} MB",
    )
    counts = {}
    for q in data["queries"].values():
        for page in ("doctor-page", "grid-fragment", "grid-poll"):
            counts.setdefault(page, set()).add(tuple(q[page]))
    out.append(
        {
            "target": "a fixed query count per page (10k and 1M)",
            "result": "; ".join(
                f"{p}: " + " and ".join("/".join(map(str, c)) for c in sorted(v))
                for p, v in counts.items()
            ),
            "met": all(len(v) == 1 for v in counts.values()),
        }
    )
    return out


def growth(runs: list[dict]) -> list[dict]:
    out = []
    for group, pages, suffix in ((runs, ("doctor-page", "grid-fragment"), ""),):
        for r in group:
            if r["size"] != "1M":
                continue
            small = next(
                (
                    s
                    for s in group
                    if s["size"] != r["size"] and (s["db"], s["workers"]) == (r["db"], r["workers"])
                ),
                None,
            )
            if small is None:
                continue
            for page in pages:
                a, b = small["reads"][page], r["reads"][page]
                out.append(
                    {
                        "db": r["db"],
                        "workers": r["workers"],
                        "page": page + suffix,
                        # Time per request at the server's throughput: workers / (req/s).
                        "small_ms": 1000 * r["workers"] / a["rps"],
                        "large_ms": 1000 * r["workers"] / b["rps"],
                        "ratio": a["rps"] / b["rps"],
                        "p50_ratio": b["p50_us"] / max(a["p50_us"], 1),
                    }
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--workers", default="2,4")
    parser.add_argument("--sizes", default="10k,1M")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached datasets")
    parser.add_argument(
        "--cache",
        choices=("redis", "local"),
        default="redis",
        help="CACHE_URL of the servers: a private redis-server (the setting for several "
        "workers) or each process's own memory (the default without CACHE_URL)",
    )
    parser.add_argument(
        "--reads-only",
        action="store_true",
        help="the reads alone (no bookings, no mixed run): a quicker run while working on them",
    )
    args = parser.parse_args()
    dbs = args.db.split(",")
    workers = [int(w) for w in args.workers.split(",")]
    sizes = args.sizes.split(",")

    ensure_tools(dbs, args.cache)
    VAR.mkdir(parents=True, exist_ok=True)
    global REDIS
    if args.cache == "redis":
        REDIS = Redis()
        atexit.register(REDIS.stop)
    data: dict[str, Any] = {
        "cache": args.cache,
        "machine": machine(),
        "seconds": args.seconds,
        "runs": [],
        "built": {},
        "queries": {},
        "limits": {},
        "mixed": [],
    }
    collect_static()

    for db in dbs:
        urls: dict[str, str] = {}
        works: dict[str, Path] = {}
        try:
            for size in sizes:
                urls[size] = working_database(db, size, args.fresh, data["built"])
                sql(urls[size], BENCH_TABLE[db])
                works[size] = VAR / f"{db}-{size}"
                shutil.rmtree(works[size], ignore_errors=True)
                works[size].mkdir(parents=True)
                probe(urls[size], "paths", str(works[size]))
            largest = sizes[-1]
            # The copies just written (hundreds of MB) go to disk now, not during the runs.
            os.sync()
            for n in workers:
                log(f"{db}, {n} workers, {' and '.join(sizes)} appointments side by side")
                servers: dict[str, Gunicorn] = {}
                try:
                    for size in sizes:
                        servers[size] = Gunicorn(
                            urls[size], n, VAR / f"gunicorn-{db}-{size}-{n}.log"
                        )
                    read = reads(servers, works, args.seconds, READ_PAGES)
                    written = (
                        {}
                        if args.reads_only
                        else writes(servers[largest], urls[largest], works[largest], args.seconds)
                    )
                    if not args.reads_only and n == workers[0] and SIZES[largest]["doctors"] >= 100:
                        log(f"{db}, {n} workers, {largest}: mixed")
                        mix = mixed(servers[largest], urls[largest], works[largest], args.seconds)
                        data["mixed"].append({"db": db, "workers": n, **mix})
                    rss = {size: g.peak_rss_mb() for size, g in servers.items()}
                finally:
                    for g in servers.values():
                        g.stop()
                for size in sizes:
                    entry: dict[str, Any] = {"db": db, "size": size, "workers": n}
                    entry["reads"], entry["rss_mb"] = read[size], rss[size]
                    if size == largest:
                        entry["writes"] = written
                    data["runs"].append(entry)
            for size in sizes:
                q = probe(urls[size], "queries")
                data["queries"][f"{db} {size}"] = q
                if db == "postgresql" and size == largest:
                    data["explain"] = q["explain"]
                for entry in data["runs"]:
                    if (entry["db"], entry["size"]) == (db, size):
                        entry["queries"] = q
            if not args.reads_only:
                log(f"{db}: the database's own insert limit")
                data["limits"][db] = (
                    pgbench(urls[largest], args.seconds)
                    if db == "postgresql"
                    else sqlite_limit(urls[largest], args.seconds)
                )
        finally:
            for url in urls.values():
                drop_working(url)

    data["growth"] = growth(data["runs"])
    data["load_at_end"] = os.getloadavg()
    data["total_seconds"] = time.monotonic() - STARTED
    data["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    data["targets"] = targets(data)
    text = report(data)
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    (results / f"{stamp}.md").write_text(text)
    (results / f"{stamp}.json").write_text(json.dumps(data, indent=1, default=str))
    (results / "latest.md").write_text(text)
    print()
    print(text)
    log(f"done; written to bench/results/{stamp}.md")


if __name__ == "__main__":
    main()
