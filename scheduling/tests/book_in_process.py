"""One booking in a process of its own, for test_concurrent_booking.

Run with DJANGO_SETTINGS_MODULE and DATABASE_URL naming the test database, and the booking's
ids as arguments: `python -m scheduling.tests.book_in_process PATIENT DOCTOR SLOT YYYY-MM-DD`.
It connects and loads the rows, prints "ready", waits for a line on stdin (so every process
starts booking at once), books, and prints the outcome as one line: RESULT and JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import django

RESULT = "RESULT"


def main(patient_pk: str, doctor_pk: str, slot_pk: str, date: str) -> dict[str, str]:
    django.setup()

    from django.db import connection

    from accounts.models import DoctorProfile, User
    from scheduling import services
    from scheduling.models import Slot

    try:
        patient = User.objects.get(pk=patient_pk)
        doctor = DoctorProfile.objects.get(pk=doctor_pk)
        slot = Slot.objects.get(pk=slot_pk)
        database = str(connection.settings_dict["NAME"])
        print("ready", flush=True)
        sys.stdin.readline()
        try:
            appointment = services.book(
                patient=patient, doctor=doctor, slot=slot, date=dt.date.fromisoformat(date)
            )
        except services.SchedulingError as exc:
            return {"outcome": type(exc).__name__, "code": str(exc.code), "database": database}
        except Exception as exc:  # the test wants anything else by name
            return {"outcome": "error", "error": repr(exc), "database": database}
        return {"outcome": "booked", "public_id": str(appointment.public_id), "database": database}
    finally:
        connection.close()


if __name__ == "__main__":
    print(RESULT, json.dumps(main(*sys.argv[1:5])), flush=True)
