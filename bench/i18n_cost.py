"""What translation costs the doctor page: CPU time per request and queries per request,
before issue 17 (a commit without the translation machinery) and now, in each language.

    .venv/bin/python bench/i18n_cost.py [--before COMMIT] [--requests N] [--repeat R]

For each tree (the `--before` commit, checked out into a temporary worktree, and this one) a
child process migrates a temporary SQLite database, loads the demo, and serves the doctor
page and the grid alone through Django's test client (the whole middleware stack, no
network): `time.process_time()` around each request after a warm-up, the median and mean in
ms, and the SQL queries of one request. Everything compared takes turns, as bench/cpu.py's
runs do: the languages in blocks within a child (see `measure`), the two trees from child to
child (`--repeat` runs of each; the medians of their medians are printed). Prints a table and
the ratios to the before figure.
Not part of `make test`: a measurement, not an assertion.
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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BEFORE = "f827e6d"  # main just before issue 17's first commit
ROUNDS = 10
PAGES = {"doctor page": "/doctors/anna-weber/", "grid alone": "/doctors/anna-weber/availability/"}


def measure(requests: int, languages: list[str], rounds: int = ROUNDS) -> dict:
    """In the child: this tree's Django, a fresh database with the demo clinic.

    The languages take turns: each round serves a block of each page in each language, in an
    order that rotates from round to round, so a machine that gets busier (or a process that
    grows) during the run weighs on every language alike. Measured one language after the
    other, the last one measured paid for the drift: German and Arabic came out 7 to 14 %
    dearer than English with no cost of their own."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    clients = {language: Client(headers={"accept-language": language}) for language in languages}
    times: dict[tuple[str, str], list[float]] = {}
    for language, client in clients.items():
        for name, path in PAGES.items():
            times[name, language] = []
            for _warm in range(20):
                assert client.get(path).status_code == 200
    block = max(1, requests // rounds)
    for turn in range(rounds):
        shift = turn % len(languages)
        for language in languages[shift:] + languages[:shift]:
            client = clients[language]
            for name, path in PAGES.items():
                for _n in range(block):
                    start = time.process_time()
                    response = client.get(path)
                    times[name, language].append((time.process_time() - start) * 1000)
                    assert response.status_code == 200
    out: dict[str, dict] = {}
    for (name, language), measured in times.items():
        client = clients[language]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PAGES[name])
        out[f"{name} [{language}]"] = {
            "median_ms": statistics.median(measured),
            "mean_ms": statistics.fmean(measured),
            "queries": len(queries),
            "lang": response.get("Content-Language", "-"),
        }
    return out


def run_child(tree: Path, requests: int, languages: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings_test",  # plain static storage, no manifest
            "CLINIC_IGNORE_DOTENV": "1",
            "SECRET_KEY": "bench-" + "x" * 50,
            "LOCAL_HTTP": "1",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "PYTHONPATH": str(tree),
        }
        env.pop("DATABASE_PASSWORD", None)
        done = subprocess.run(
            [PYTHON, str(Path(__file__).resolve()), "--child", str(requests), *languages],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"the measurement in {tree} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each tree, taking turns (before, now, ...)"
    )
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"before": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before), args.before],
            check=True,
        )
        try:
            # The trees take turns too, the first one changing at each repeat.
            for repeat in range(args.repeat):
                order = ["before", "now"] if repeat % 2 == 0 else ["now", "before"]
                for when in order:
                    if when == "before":
                        runs[when].append(run_child(before, args.requests, ["en"]))
                    else:
                        runs[when].append(run_child(ROOT, args.requests, ["en", "de", "ar"]))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
            )
    results = {
        when: {
            name: {
                "median_ms": statistics.median(run[name]["median_ms"] for run in done),
                "mean_ms": statistics.fmean(run[name]["mean_ms"] for run in done),
                "queries": done[-1][name]["queries"],
            }
            for name in done[0]
        }
        for when, done in runs.items()
    }
    print(f"{'':34} {'median ms':>10} {'mean ms':>9} {'queries':>8} {'x before':>9}")
    for when, rows in results.items():
        for name, row in rows.items():
            base = results["before"][name.split(" [")[0] + " [en]"]["median_ms"]
            print(
                f"{when + ': ' + name:34} {row['median_ms']:10.2f} {row['mean_ms']:9.2f}"
                f" {row['queries']:8d} {row['median_ms'] / base:9.2f}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, os.getcwd())
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3:])))
    else:
        main()
