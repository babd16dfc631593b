"""A doctor's openings over a range of days: what the grid shows and what booking offers.

Three queries whatever the size of the calendar: the doctor's active slots, their time off
and the appointments holding a slot in the range. Nothing here is cached: computing two
weeks costs well under a millisecond (see README, Performance).

The one thing kept in the cache is a *version* of each doctor's calendar, a random token that
every change of their openings replaces (`changed`, called by the scheduling services). The
grid's 10-second poll sends it back as an ETag and gets `304 Not Modified` while it holds.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import DoctorProfile
from common import rows
from scheduling import clock

logger = logging.getLogger(__name__)

FREE = "free"
TAKEN = "taken"
PAST = "past"


class SlotTime(NamedTuple):
    """What the calendar reads of a slot."""

    pk: int
    public_id: uuid.UUID
    weekday: int
    start_time: dt.time
    end_time: dt.time


class Opening(NamedTuple):
    # A tuple: two weeks make a hundred or more of these per page.
    slot: SlotTime
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str

    @property
    def is_free(self) -> bool:
        return self.state == FREE

    @property
    def time_label(self) -> str:
        return f"{self.starts_at:%H:%M}"


@dataclass
class Day:
    date: dt.date
    off: bool = False
    openings: list[Opening] = field(default_factory=list)

    @property
    def free_count(self) -> int:
        return sum(1 for o in self.openings if o.is_free)


def horizon_end(today: dt.date | None = None) -> dt.date:
    """The last date a patient may book."""
    return (today or clock.today()) + dt.timedelta(days=settings.BOOKING_HORIZON_DAYS)


def earliest_bookable(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES)


@functools.lru_cache(maxsize=1024)
def date_label(date: dt.date, fmt: str, language: str | None) -> str:
    """A localised date label (`language` is the cache's key: the caller's language). Every
    grid shows the same few dozen dates, and the localised formatter is slow."""
    return date_format(date, fmt)


def _same_offset_all_day(date: dt.date, tz: dt.tzinfo) -> bool:
    """False on the two days a year the clocks change."""
    midnight = dt.datetime.combine(date, dt.time.min, tzinfo=tz)
    return midnight.utcoffset() == (midnight + dt.timedelta(days=1)).utcoffset()


# The calendar's three reads, in plain SQL: through the ORM, building each query cost several
# times what running it did, and together more than computing and rendering two weeks. On
# PostgreSQL they are prepared statements of the connection (common.rows.cursor).
# Indexes: scheduling_slot_doctor_idx, scheduling_timeoff_doctor_idx and the partial unique
# index on appointments (doctor, slot, date).
# Weekly slots, and the extra ones dated in the range (Slot.objects.on_dates).
_SLOTS = (
    "SELECT id, public_id, weekday, start_time, end_time, date FROM scheduling_slot"
    " WHERE doctor_id = %s AND is_active AND (date IS NULL OR (date >= %s AND date <= %s))"
    " ORDER BY start_time"
)
# Whole days off (no times) and part days (the hours of each of those days).
_TIME_OFF = (
    "SELECT start_date, end_date, start_time, end_time FROM scheduling_timeoff"
    " WHERE doctor_id = %s AND is_active AND start_date <= %s AND end_date >= %s"
)
# The appointments holding a slot: every one but the cancelled (Appointment.holding_slot).
_TAKEN = (
    "SELECT slot_id, date FROM scheduling_appointment"
    " WHERE doctor_id = %s AND date >= %s AND date <= %s AND status <> 'cancelled'"
)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with rows.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def calendar(
    doctor: DoctorProfile,
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None = None,
) -> Iterator[Day]:
    """Every date from start to end (inclusive) with the doctor's openings on it, one day at a
    time: the three queries run at the first, and a reader that stops early pays for no more
    days than it reads."""
    slots = _rows(_SLOTS, [doctor.pk, start, end])
    absences = _rows(_TIME_OFF, [doctor.pk, end, start])
    taken = set(_rows(_TAKEN, [doctor.pk, start, end]))
    yield from _days(slots, absences, taken, start, end, now=now)


def _days(
    slot_rows: list[tuple[Any, ...]],
    absences: list[tuple[Any, ...]],
    taken: set[tuple[Any, ...]],
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None,
) -> Iterator[Day]:
    """One doctor's days from the rows of their slots, time off and taken (slot, date)."""
    tz = clock.clinic_tz()
    # In the clinic's zone, so that comparing it with an opening (same zone) is cheap.
    cutoff = earliest_bookable(now).astimezone(tz)
    # Weekly slots by weekday, extra ones by their date.
    by_weekday: dict[int, list[SlotTime]] = {}
    by_date: dict[dt.date, list[SlotTime]] = {}
    for pk, public_id, weekday, start_time, end_time, date in slot_rows:
        if not isinstance(public_id, uuid.UUID):  # SQLite keeps it as hex text
            public_id = uuid.UUID(public_id)
        slot = SlotTime(pk, public_id, weekday, start_time, end_time)
        if date is None:
            by_weekday.setdefault(weekday, []).append(slot)
        else:
            by_date.setdefault(date, []).append(slot)
    whole_days = [(a, b) for a, b, from_, _ in absences if from_ is None]
    part_days = [(a, b, from_, to) for a, b, from_, to in absences if from_ is not None]

    date = start
    while date <= end:
        day = Day(date=date, off=any(a <= date <= b for a, b in whole_days))
        slots = [] if day.off else by_weekday.get(date.weekday(), [])
        if not day.off and date in by_date:
            slots = sorted(slots + by_date[date], key=lambda s: s.start_time)
        hours_off = [(f, t) for a, b, f, t in part_days if a <= date <= b]
        plain_day = bool(slots) and _same_offset_all_day(date, tz)
        for slot in slots:
            # A part-day absence hides the slots it overlaps, as a whole day hides all.
            if hours_off and any(f < slot.end_time and slot.start_time < t for f, t in hours_off):
                continue
            if plain_day:
                starts_at = dt.datetime.combine(date, slot.start_time, tzinfo=tz)
                ends_at = dt.datetime.combine(date, slot.end_time, tzinfo=tz)
            else:
                window = clock.slot_window(date, slot.start_time, slot.end_time)
                if window is None:  # the hour the clocks skip
                    continue
                starts_at, ends_at = window
            if (slot.pk, date) in taken:
                state = TAKEN
            elif starts_at < cutoff:
                state = PAST
            else:
                state = FREE
            day.openings.append(Opening(slot, date, starts_at, ends_at, state))
        yield day
        date += dt.timedelta(days=1)


def days(
    doctor: DoctorProfile, start: dt.date, end: dt.date, *, now: dt.datetime | None = None
) -> list[Day]:
    return list(calendar(doctor, start, end, now=now))


def free_openings(
    doctor: DoctorProfile, start: dt.date, end: dt.date, *, now: dt.datetime | None = None
) -> list[Opening]:
    return [o for day in calendar(doctor, start, end, now=now) for o in day.openings if o.is_free]


# The same three reads for a page of doctors at once (the directory's "next free time").
def _of_doctors(sql: str, ids: list[int]) -> str:
    # Only placeholders are formatted in, one per doctor; the values go as parameters.
    return sql.format(ids=", ".join(["%s"] * len(ids)))


_SLOTS_OF = (
    "SELECT doctor_id, id, public_id, weekday, start_time, end_time, date FROM scheduling_slot"
    " WHERE doctor_id IN ({ids}) AND is_active AND (date IS NULL OR (date >= %s AND date <= %s))"
    " ORDER BY start_time"
)
_TIME_OFF_OF = (
    "SELECT doctor_id, start_date, end_date, start_time, end_time FROM scheduling_timeoff"
    " WHERE doctor_id IN ({ids}) AND is_active AND start_date <= %s AND end_date >= %s"
)
_TAKEN_OF = (
    "SELECT doctor_id, slot_id, date FROM scheduling_appointment"
    " WHERE doctor_id IN ({ids}) AND date >= %s AND date <= %s AND status <> 'cancelled'"
)
# The first window read for every doctor of a page; the rest of the horizon only for those
# with nothing free in it.
FIRST_LOOK_DAYS = 14


def next_free_of(
    doctor_ids: list[int], *, now: dt.datetime | None = None
) -> dict[int, Opening | None]:
    """Each doctor's first free opening from now to the booking horizon (None: nothing free).
    Three queries for the first fortnight whatever the number of doctors, and three more
    only when some have nothing free in it: never a query per doctor."""
    today = timezone.localdate(now, clock.clinic_tz()) if now else clock.today()
    last = horizon_end(today)
    found: dict[int, Opening | None] = dict.fromkeys(doctor_ids)
    pending = list(dict.fromkeys(doctor_ids))
    first_end = min(today + dt.timedelta(days=FIRST_LOOK_DAYS - 1), last)
    for start, end in ((today, first_end), (first_end + dt.timedelta(days=1), last)):
        if not pending or start > end:
            break
        slots: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in pending}
        absences: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in pending}
        taken: dict[int, set[tuple[Any, ...]]] = {pk: set() for pk in pending}
        for doctor_id, *row in _rows(_of_doctors(_SLOTS_OF, pending), [*pending, start, end]):
            slots[doctor_id].append(tuple(row))
        for doctor_id, *row in _rows(_of_doctors(_TIME_OFF_OF, pending), [*pending, end, start]):
            absences[doctor_id].append(tuple(row))
        for doctor_id, *row in _rows(_of_doctors(_TAKEN_OF, pending), [*pending, start, end]):
            taken[doctor_id].add(tuple(row))
        for pk in pending:
            if not slots[pk]:
                continue
            days = _days(slots[pk], absences[pk], taken[pk], start, end, now=now)
            found[pk] = next((o for day in days for o in day.openings if o.is_free), None)
        pending = [pk for pk in pending if found[pk] is None]
    return found


def annotate_next_free(doctors: list[DoctorProfile]) -> None:
    """Sets `next_free` (an Opening or None) on each doctor of a directory page; a doctor who
    is not taking bookings has none."""
    accepting = [d.pk for d in doctors if d.accepting_bookings]
    found = next_free_of(accepting) if accepting else {}
    for doctor in doctors:
        doctor.next_free = found.get(doctor.pk)  # type: ignore[attr-defined]


# The first look for alternatives: this many days either side of the time that was taken.
NEAR_DAYS = 3


def nearest_free(
    doctor: DoctorProfile,
    around: dt.datetime,
    *,
    now: dt.datetime | None = None,
    limit: int = 3,
) -> list[Opening]:
    """The free openings closest in time to `around`, for "this slot was just taken". The days
    around it first; the whole horizon only when they have fewer than `limit`: a request
    that lost a race should not wait longer than the winner."""
    today = timezone.localdate(now, clock.clinic_tz()) if now else clock.today()
    last = horizon_end(today)
    day = timezone.localdate(around, clock.clinic_tz())
    near = dt.timedelta(days=NEAR_DAYS)
    first, final = max(day - near, today), min(day + near, last)
    openings = free_openings(doctor, first, final, now=now) if first <= final else []
    if len(openings) < limit:
        openings = free_openings(doctor, today, last, now=now)
    openings.sort(key=lambda o: abs((o.starts_at - around).total_seconds()))
    return sorted(openings[:limit], key=lambda o: o.starts_at)


# --- The calendar's version, for the poll's ETag ------------------------------------------


def _version_key(slug: str) -> str:
    # By slug, the poll's own key: a poll is answered without reading the doctor.
    return f"scheduling:calendar-version:{slug}"


def version(slug: str, *, create: bool = True) -> str:
    """The calendar version of the doctor with that slug; made on first use when `create`
    (only for a doctor known to exist: a poll of any made-up slug must not add a key).
    "" when there is none or the cache does not answer. A random token rather than a
    counter: should the cache drop it, the next one is new, so an old ETag never matches."""
    key = _version_key(slug)
    try:
        current = cache.get(key)
        if current is None and create:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            current = cache.get(key)
    except Exception:  # a cache that is down (Redis): no ETag, every poll gets the grid
        logger.warning("The cache did not answer for %s's calendar version", slug)
        return ""
    return current or ""


def _replace(slug: str) -> None:
    try:
        cache.set(_version_key(slug), uuid.uuid4().hex, timeout=None)
    except Exception:
        # A booking must not fail for the cache. A poll may then be told "not modified" for
        # what it already shows, within the ETag's minute (see views._grid_etag).
        logger.warning("The cache did not answer; %s's grid may lag a minute", slug)


def changed(doctor: DoctorProfile) -> None:
    """The doctor's openings changed (a booking, a cancellation, a slot, time off, the pause).

    Called by the services inside their transaction: the version is replaced now, and again
    after the commit, since a poll answered between the two read the rows from before it.
    """
    slug = doctor.slug
    _replace(slug)
    transaction.on_commit(lambda: _replace(slug))
