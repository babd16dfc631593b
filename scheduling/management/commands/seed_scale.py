"""A clinic group at scale, for benchmarks: thousands of doctors, years of appointments.

    manage.py seed_scale --doctors 1000 --patients 100000 --days 250 --appointments 1000000

Realistic and valid: every doctor works Monday to Friday in 30-minute weekly slots from
09:00; the calendar spans `--days` days ending at the booking horizon, so most of it is
history (completed, no-shows, cancellations, some of them rebooked) and the rest is the
bookable future (scheduled, some cancelled, a few doctors on time off). Every database rule
holds: one active appointment per slot and date (the partial unique index), and no patient
ever holds two appointments at once (all doctors share the same slot times, and the patients
of one time are all different).

Fast: rows are generated as plain tuples and written in large batches, with COPY on
PostgreSQL and executemany in one transaction on SQLite, bypassing model instances (and so
the services' rules, which the construction above keeps instead). A progress bar on stderr.
Meant for a fresh database: it refuses to run twice on one.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import DoctorProfile, PatientProfile, User
from directory.models import Branch, Specialty
from scheduling import clock
from scheduling.models import Appointment, Slot, TimeOff

SPECIALTIES = [
    "Cardiologist",
    "Dentist",
    "Dermatologist",
    "General Physician",
    "Neurologist",
    "Paediatrician",
    "Psychiatrist",
    "Orthopaedist",
]
BRANCHES = ["Old Town", "Harbour", "University", "North Park", "Airport"]
FIRST = ["Anna", "Ben", "Chloe", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Weber", "Nowak", "Rossi", "Yilmaz", "Okafor", "Kim", "Laurent", "Haddad", "Ali", "Berg"]
REASONS = ["", "", "", "Check-up", "Follow-up", "Pain in the back", "Prescription renewal"]

DOCTOR_ID = "4{:08d}"  # national IDs of the generated doctors and patients
PATIENT_ID = "9{:08d}"
SLOT_MINUTES = 30
FIRST_SLOT = dt.time(9)
BATCH = 20_000

Status = Appointment.Status


class Progress:
    """One line on stderr, redrawn: what, how many of how many, the rate."""

    def __init__(self, label: str, total: int, *, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self.started = time.perf_counter()
        self._drawn = -1.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._drawn > 0.2 or self.done >= self.total):
            self._drawn = now
            width = 30
            filled = min(int(width * self.done / max(self.total, 1)), width)
            rate = self.done / max(now - self.started, 1e-9)
            sys.stderr.write(
                f"\r  {self.label:<13} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done:>9,}/{self.total:,} {rate:>9,.0f}/s"
            )
            sys.stderr.flush()

    def close(self) -> float:
        elapsed = time.perf_counter() - self.started
        if self.enabled:
            sys.stderr.write("\n")
        return elapsed


class Table:
    """Writes rows of one model's table as tuples of database values, in batches.

    Columns left out of a row get the field's default, adapted once; every value goes
    through the field's own `get_db_prep_save` (memoised for the repeated ones, such as the
    few hundred distinct slot times), so each backend gets what Django would send it.
    """

    def __init__(self, model: type[models.Model], given: list[str]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        names = [f.name for f in self.fields]
        unknown = set(given) - set(names)
        if unknown:
            raise CommandError(
                ngettext(
                    "%(model)s has no field %(names)s",
                    "%(model)s has no fields %(names)s",
                    len(unknown),
                )
                % {"model": model.__name__, "names": ", ".join(sorted(unknown))}
            )
        self.given = given
        self._position = {name: names.index(name) for name in given}
        self._template = [
            None if f.name in given or callable(f.default) else self._default(f)
            for f in self.fields
        ]
        # Fields whose default is made per row (a random public id): a fresh value each row.
        self._per_row = [
            (i, f) for i, f in enumerate(self.fields) if f.name not in given and callable(f.default)
        ]
        self._prep = {f.name: f for f in self.fields if f.name in given}
        self._memo: dict[tuple[str, Any], Any] = {}

    @staticmethod
    def _default(field: models.Field) -> Any:
        if field.has_db_default():
            raise CommandError(f"{field} has a database default: give it a value")
        value = field.get_default()
        if value is None and not field.null:
            raise CommandError(f"{field} needs a value")
        return field.get_db_prep_save(value, connection)

    def prep(self, name: str, value: Any, *, memo: bool = False) -> Any:
        if value is None:
            return None
        if memo:
            key = (name, value)
            if key not in self._memo:
                self._memo[key] = self._prep[name].get_db_prep_save(value, connection)
            return self._memo[key]
        return self._prep[name].get_db_prep_save(value, connection)

    def row(self, values: dict[str, Any]) -> tuple:
        out = list(self._template)
        for i, f in self._per_row:
            out[i] = f.get_db_prep_save(f.get_default(), connection)
        for name, value in values.items():
            out[self._position[name]] = value
        return tuple(out)

    def write(self, rows: Iterable[tuple], progress: Progress) -> int:
        table = self.model._meta.db_table
        columns = [str(f.column) for f in self.fields]  # concrete fields: each has a column
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
                raw = cursor.cursor  # psycopg's own cursor, for COPY
                with raw.copy(
                    f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
                ) as copy:
                    for batch in _batches(rows, BATCH):
                        for row in batch:
                            copy.write_row(row)
                        count += len(batch)
                        progress.advance(len(batch))
            else:
                quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                # Names from the model's own metadata, quoted; the values are parameters.
                sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})"  # noqa: S608
                for batch in _batches(rows, BATCH):
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    progress.advance(len(batch))
        return count


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Command(BaseCommand):
    help = "Builds a large realistic clinic fast (bulk inserts) for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--doctors", type=int, default=1000)
        parser.add_argument("--patients", type=int, default=100_000)
        parser.add_argument(
            "--days",
            type=int,
            default=250,
            help="Days of calendar, ending at the booking horizon (the rest is history).",
        )
        parser.add_argument("--slots-per-day", type=int, default=8)
        parser.add_argument(
            "--appointments",
            type=int,
            default=None,
            help="Exactly this many slot bookings (default: 70%% of the slots, cancellations "
            "and rebookings included).",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        doctors, patients, days = options["doctors"], options["patients"], options["days"]
        per_day = options["slots_per_day"]
        if not (1 <= doctors <= 100_000 and 1 <= patients <= 10_000_000 and days >= 1):
            raise CommandError("Give at least one doctor, one patient and one day.")
        if patients < doctors:
            raise CommandError(
                "Give at least as many patients as doctors: the patients of one time of day "
                "must all be different people."
            )
        if not 1 <= per_day <= 20:
            raise CommandError("--slots-per-day is 1 to 20 (30-minute slots from 09:00).")
        if User.objects.filter(national_id=DOCTOR_ID.format(0)).exists():
            raise CommandError("This database already holds the scale data; use a fresh one.")
        # Repeatable made-up data, not secrets.
        self.rng = random.Random(options["seed"])  # noqa: S311
        self.show = not options["no_progress"]
        self.timings: dict[str, tuple[int, float]] = {}
        started = time.perf_counter()

        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # 256 MB of page cache instead of 2 MB: the indexes of a million rows (random
                # public ids above all) otherwise send most inserts to the disk.
                cursor.execute("PRAGMA cache_size = -262144")
        with transaction.atomic():
            doctor_ids = self._doctors(doctors)
            patient_ids = self._patients(patients)
            slots = self._slots(doctor_ids, per_day)
            off = self._time_off(doctor_ids)
            made = self._appointments(
                doctor_ids, patient_ids, slots, off, days, per_day, options["appointments"]
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        total = time.perf_counter() - started

        for label, (rows, seconds) in self.timings.items():
            rate = rows / max(seconds, 1e-9)
            self.stdout.write(f"{label:<13} {rows:>10,} rows {seconds:>7.1f} s {rate:>10,.0f}/s")
        self.stdout.write(
            f"Seeded {doctors:,} doctors, {patients:,} patients and {made:,} appointments on "
            f"{connection.vendor} in {total:.1f} s."
        )

    # --- People -----------------------------------------------------------------------------

    def _timed(self, label: str, table: Table, rows: Iterable[tuple], total: int) -> int:
        progress = Progress(label, total, enabled=self.show)
        count = table.write(rows, progress)
        self.timings[label] = (count, progress.close())
        return count

    def _users(self, label: str, n: int, role: str, national_id: str, phone: str) -> list[int]:
        now = timezone.now()
        table = Table(
            User,
            [
                "password",
                "national_id",
                "email",
                "full_name",
                "phone",
                "role",
                "is_active",
                "date_joined",
                "activated_at",
            ],
        )
        joined = table.prep("date_joined", now)
        rng = self.rng

        def rows() -> Iterator[tuple]:
            for i in range(n):
                yield table.row(
                    {
                        # Unusable: nobody signs in as a generated person with a password.
                        "password": "!",
                        "national_id": national_id.format(i),
                        "email": f"{role}{i}@scale.example",
                        "full_name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
                        "phone": phone.format(i),
                        "role": role,
                        "is_active": True,
                        "date_joined": joined,
                        "activated_at": joined,
                    }
                )

        self._timed(label, table, rows(), n)
        prefix = national_id.format(0)[0]
        return list(
            User.objects.filter(
                national_id__startswith=prefix, role=role, email__endswith="@scale.example"
            )
            .order_by("national_id")
            .values_list("pk", flat=True)
        )

    def _doctors(self, n: int) -> list[int]:
        specialties = [
            Specialty.objects.get_or_create(
                slug=name.lower().replace(" ", "-"), defaults={"name": name}
            )[0]
            for name in SPECIALTIES
        ]
        branches = [
            Branch.objects.get_or_create(
                slug=name.lower().replace(" ", "-"),
                defaults={"name": name, "address": f"{len(name)} {name} Street"},
            )[0]
            for name in BRANCHES
        ]
        user_ids = self._users("doctors", n, User.Role.DOCTOR, DOCTOR_ID, "+49170{:07d}")
        table = Table(
            DoctorProfile,
            ["user", "slug", "specialty", "branch", "bio", "consultation_fee"],
        )
        rows = (
            table.row(
                {
                    "user": user_id,
                    "slug": f"doctor-{i}",
                    "specialty": specialties[i % len(specialties)].pk,
                    "branch": branches[i % len(branches)].pk,
                    "bio": "Consultations for adults and children.",
                    "consultation_fee": table.prep(
                        "consultation_fee", Decimal(40 + i % 80), memo=True
                    ),
                }
            )
            for i, user_id in enumerate(user_ids)
        )
        self._timed("doctor pages", table, rows, n)
        by_user = dict(
            DoctorProfile.objects.filter(user_id__in=user_ids).values_list("user_id", "pk")
        )
        return [by_user[u] for u in user_ids]

    def _patients(self, n: int) -> list[int]:
        user_ids = self._users("patients", n, User.Role.PATIENT, PATIENT_ID, "+49160{:07d}")
        table = Table(PatientProfile, ["user", "medical_history"])
        rows = (
            table.row({"user": u, "medical_history": "" if i % 3 else "Asthma since childhood."})
            for i, u in enumerate(user_ids)
        )
        self._timed("patient files", table, rows, n)
        return user_ids

    # --- Calendars --------------------------------------------------------------------------

    def _slots(self, doctor_ids: list[int], per_day: int) -> dict[tuple[int, int, int], int]:
        """(doctor, weekday, index of the time of day) -> slot id."""
        table = Table(
            Slot, ["public_id", "doctor", "weekday", "start_time", "end_time", "created_at"]
        )
        created = table.prep("created_at", timezone.now())
        times = [_slot_time(i) for i in range(per_day)]
        rows = (
            table.row(
                {
                    "public_id": table.prep("public_id", uuid.uuid4()),
                    "doctor": doctor,
                    "weekday": weekday,
                    "start_time": table.prep("start_time", start, memo=True),
                    "end_time": table.prep("end_time", end, memo=True),
                    "created_at": created,
                }
            )
            for doctor in doctor_ids
            for weekday in range(5)
            for start, end in times
        )
        self._timed("slots", table, rows, len(doctor_ids) * 5 * per_day)
        index = {start: i for i, (start, _) in enumerate(times)}
        return {
            (doctor, weekday, index[start]): pk
            for pk, doctor, weekday, start in Slot.objects.filter(doctor_id__in=doctor_ids)
            .values_list("pk", "doctor_id", "weekday", "start_time")
            .iterator(chunk_size=10_000)
        }

    def _time_off(self, doctor_ids: list[int]) -> dict[int, tuple[dt.date, dt.date]]:
        """One doctor in fifty is away for a week within the coming month."""
        today = clock.today()
        away = {}
        for doctor in doctor_ids[::50]:
            first = today + dt.timedelta(days=self.rng.randrange(7, 30))
            away[doctor] = (first, first + dt.timedelta(days=6))
        table = Table(
            TimeOff, ["public_id", "doctor", "start_date", "end_date", "reason", "created_at"]
        )
        created = table.prep("created_at", timezone.now())
        rows = (
            table.row(
                {
                    "public_id": table.prep("public_id", uuid.uuid4()),
                    "doctor": doctor,
                    "start_date": table.prep("start_date", first),
                    "end_date": table.prep("end_date", last),
                    "reason": "Conference",
                    "created_at": created,
                }
            )
            for doctor, (first, last) in away.items()
        )
        self._timed("time off", table, rows, len(away))
        return away

    def _appointments(
        self,
        doctor_ids: list[int],
        patient_ids: list[int],
        slots: dict[tuple[int, int, int], int],
        off: dict[int, tuple[dt.date, dt.date]],
        days: int,
        per_day: int,
        wanted: int | None,
    ) -> int:
        now = timezone.now()
        today = clock.today()
        last = today + dt.timedelta(days=settings.BOOKING_HORIZON_DAYS)
        dates = [last - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
        workdays = [d for d in dates if d.weekday() < 5]
        capacity = len(workdays) * per_day * len(doctor_ids)
        if wanted is None:
            wanted = int(capacity * 0.7)
        if wanted > capacity:
            raise CommandError(
                f"{wanted:,} appointments do not fit in {capacity:,} slot-days: give more "
                "--days, --doctors or --slots-per-day."
            )
        table = Table(
            Appointment,
            [
                "public_id",
                "patient",
                "doctor",
                "slot",
                "date",
                "starts_at",
                "ends_at",
                "status",
                "reason",
                "created_at",
                "updated_at",
                "checked_in_at",
                "completed_at",
                "no_show_at",
                "cancelled_at",
                "reminder_sent_at",
            ],
        )
        rng = self.rng
        n_doctors, n_patients = len(doctor_ids), len(patient_ids)
        # A cancelled time is rebooked by someone else now and then: the second patient of a
        # time is picked past all the first ones, so still nobody is in two places at once.
        can_rebook = n_patients >= 2 * n_doctors
        remaining_cells = capacity
        needed = wanted
        made = 0

        def rows() -> Iterator[tuple]:
            nonlocal remaining_cells, needed, made
            for date in workdays:
                sdate = table.prep("date", date)
                for index in range(per_day):
                    window = clock.slot_window(date, *_slot_time(index))
                    offset = rng.randrange(n_patients)
                    if window is None:  # a time the clocks skip: never on a working hour
                        remaining_cells -= n_doctors
                        continue
                    starts_at, ends_at = window
                    past = starts_at < now
                    at = {
                        name: table.prep(name, value, memo=True)
                        for name, value in {
                            "starts_at": starts_at,
                            "ends_at": ends_at,
                            "created_at": starts_at - dt.timedelta(days=12),
                            "checked_in_at": starts_at - dt.timedelta(minutes=5),
                            "completed_at": ends_at,
                            "no_show_at": ends_at,
                            "cancelled_at": starts_at - dt.timedelta(days=2),
                            "reminder_sent_at": starts_at - dt.timedelta(hours=24),
                        }.items()
                    }
                    for d, doctor in enumerate(doctor_ids):
                        # Knuth's selection sampling: exactly `wanted` of all the cells.
                        take = rng.random() * remaining_cells < needed
                        remaining_cells -= 1
                        if not take:
                            continue
                        needed -= 1
                        away = off.get(doctor)
                        if away and away[0] <= date <= away[1]:
                            continue
                        slot = slots[doctor, date.weekday(), index]
                        patient = patient_ids[(offset + d) % n_patients]
                        status = _status(rng, past)
                        yield _row(table, at, sdate, patient, doctor, slot, status, rng)
                        made += 1
                        if status == Status.CANCELLED and can_rebook and rng.random() < 0.3:
                            other = patient_ids[(offset + n_doctors + d) % n_patients]
                            status = _status(rng, past, rebooked=True)
                            yield _row(table, at, sdate, other, doctor, slot, status, rng)
                            made += 1

        self._timed("appointments", table, rows(), wanted)
        return made


def _slot_time(index: int) -> tuple[dt.time, dt.time]:
    start = dt.datetime.combine(dt.date.min, FIRST_SLOT) + dt.timedelta(
        minutes=SLOT_MINUTES * index
    )
    return start.time(), (start + dt.timedelta(minutes=SLOT_MINUTES)).time()


def _status(rng: random.Random, past: bool, *, rebooked: bool = False) -> str:
    r = rng.random()
    if past:
        if r < 0.80:
            return Status.COMPLETED
        if r < 0.86:
            return Status.NO_SHOW
        return Status.COMPLETED if rebooked else Status.CANCELLED
    if r < 0.90 or rebooked:
        return Status.SCHEDULED
    return Status.CANCELLED


def _row(
    table: Table,
    at: dict[str, Any],
    date: Any,
    patient: int,
    doctor: int,
    slot: int,
    status: str,
    rng: random.Random,
) -> tuple:
    return table.row(
        {
            "public_id": table.prep("public_id", uuid.UUID(int=rng.getrandbits(128), version=4)),
            "patient": patient,
            "doctor": doctor,
            "slot": slot,
            "date": date,
            "starts_at": at["starts_at"],
            "ends_at": at["ends_at"],
            "status": status,
            "reason": rng.choice(REASONS),
            "created_at": at["created_at"],
            "updated_at": at["created_at"],
            "checked_in_at": at["checked_in_at"] if status == Status.COMPLETED else None,
            "completed_at": at["completed_at"] if status == Status.COMPLETED else None,
            "no_show_at": at["no_show_at"] if status == Status.NO_SHOW else None,
            "cancelled_at": at["cancelled_at"] if status == Status.CANCELLED else None,
            "reminder_sent_at": at["reminder_sent_at"] if status != Status.CANCELLED else None,
        }
    )
