"""Where a request's CPU goes under load: the gunicorn workers, the database, Redis, wrk, and
the rest of the machine, per request, for the bare view and the pages of `make bench`.

    .venv/bin/python bench/cpu_split.py [--db postgresql] [--size 10k] [--seconds 6]

The companion of `make bench` (bench/run.py, whose datasets, gunicorn and wrk settings it
uses) for the question its ratios leave open: why a page that costs N times the bare view in
one process (bench/cpu.py) serves a different share of the bare view's requests under wrk.
Each page runs for `--seconds` with 16 connections against 2 sync workers, while the CPU time
of every process taking part is read from /proc before and after: the workers (and their
master), the database's backends serving them (PostgreSQL; SQLite runs inside the workers),
the private redis-server, and wrk itself (its own rusage). Whatever the two cores did beside
(other work on a shared machine, the kernel's own threads) is "other", and what they did not
do is "idle". Printed as milliseconds of CPU per request, and written to
bench/results/cpu-split-latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as harness

PAGES = ("bare-view", "doctor-page", "grid-fragment")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_seconds() -> tuple[float, float]:
    """All CPUs' busy and idle seconds since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / TICK, idle / TICK


def backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to the working database (the workers' connections,
    kept between requests by CONN_MAX_AGE)."""
    if not url.startswith("postgres"):
        return []
    name = url.rsplit("/", 1)[1]
    out = harness.psql(
        f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    return [int(p) for p in out.split()]


def measure(g: harness.Gunicorn, url: str, redis_pid: int, page: str, work: Path, seconds: int):
    args = [str(work / f"{page}.txt"), *(["htmx"] if page == "grid-fragment" else [])]
    harness.wrk(g.base, "read.lua", args, 1, 2)  # every worker connected and warm
    servers = [g.proc.pid, *g.workers()]
    db = backends(url)
    parts = {"workers": servers, "database": db, "redis": [redis_pid]}
    before = {k: sum(cpu_seconds(p) for p in pids) for k, pids in parts.items()}
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, idle0 = machine_seconds()
    result = harness.wrk(g.base, "read.lua", args, seconds, 2)
    busy1, idle1 = machine_seconds()
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {k: sum(cpu_seconds(p) for p in pids) - before[k] for k, pids in parts.items()}
    used["wrk"] = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    used["other"] = max((busy1 - busy0) - sum(used.values()), 0.0)
    used["idle"] = idle1 - idle0
    n = max(result["requests"], 1)
    return result["rps"], {k: v / n * 1000 for k, v in used.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--size", default="10k", choices=tuple(harness.SIZES))
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    harness.ensure_tools([args.db], "redis")
    harness.collect_static()
    url = harness.working_database(args.db, args.size, False, {})
    work = harness.VAR / f"split-{args.db}-{args.size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    redis_server = harness.Redis()
    harness.REDIS = redis_server
    g = None
    try:
        harness.probe(url, "paths", str(work))
        g = harness.Gunicorn(url, 2, harness.VAR / "gunicorn-split.log")
        rows: dict[str, list[tuple[float, dict[str, float]]]] = {}
        for _ in range(args.rounds):
            for page in PAGES:
                rows.setdefault(page, []).append(
                    measure(g, url, redis_server.proc.pid, page, work, args.seconds)
                )
    finally:
        if g is not None:
            g.stop()
        redis_server.stop()
        harness.drop_working(url)
    keys = ("workers", "database", "redis", "wrk", "other", "idle")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"{stamp}: {args.db} {args.size}, 2 sync workers, 16 connections, {args.seconds} s a "
        f"run, load average at the end {os.getloadavg()[0]:.1f}; CPU ms per request:",
        "",
        f"| page | req/s | {' | '.join(keys)} |",
        f"| --- | ---: | {' | '.join('---:' for _ in keys)} |",
    ]
    for page, runs in rows.items():
        for rps, ms in runs:
            cells = " | ".join(f"{ms[k]:.2f}" for k in keys)
            lines.append(f"| {page} | {rps:,.0f} | {cells} |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    (harness.BENCH / "results" / "cpu-split-latest.md").write_text(text)


if __name__ == "__main__":
    main()
