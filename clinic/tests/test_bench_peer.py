"""bench/peer_django_appointment.py keeps working: its Clinic half, for a second a run.

The script is not part of `make test` (it installs the peer from PyPI and runs for minutes);
this runs it with `--smoke`, which measures Clinic's grid and its 304 refresh against the
harness of `make bench` (wrk, gunicorn, the 10k dataset) and installs nothing. It broke once
when the harness changed under it; this notices the next time.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the script runs on a SQLite dataset of its own: the SQLite pass is enough",
)
def test_the_peer_benchmark_script_runs_its_clinic_half() -> None:
    done = subprocess.run(
        [sys.executable, "bench/peer_django_appointment.py", "--smoke"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| Clinic grid fragment (14 days), nothing cached |" in done.stdout
    assert "| Clinic grid's live refresh (304 while unchanged) |" in done.stdout
    assert "Errors: 0." in done.stdout
