"""A doctor's openings over a range of days: what the grid shows and what booking offers.

Always the same four queries whatever the size of the calendar: the slots, the time off and
the appointments holding a slot in the range (plus one for the doctor when looked up by slug).

The public grid is read far more often than it changes, so its rendered HTML is kept in each
process's memory (the "pages" cache) under a per-doctor *version* that every scheduling write
replaces (`changed`). The version lives in the default cache (CACHE_URL), not in a process,
so with a shared one (Redis) every web process sees a booking at once, at the price of one
small read per page; the HTML itself never crosses the network. An entry also never
outlives AVAILABILITY_CACHE_SECONDS, which bounds what a process-local default cache (local
memory) can show after a write in another process. A stale "free" link only ever leads to
the booking's clean "this slot was just taken".
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts.models import DoctorProfile
from scheduling import clock
from scheduling.models import Appointment, Slot, TimeOff

FREE = "free"
TAKEN = "taken"
PAST = "past"


@dataclass(frozen=True)
class Opening:
    slot: Slot
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str

    @property
    def is_free(self) -> bool:
        return self.state == FREE

    # Plain strings for the grid: a `|date` filter per cell was most of the grid's render
    # time (hundreds of cells, each through the localised date formatter).
    @property
    def time_label(self) -> str:
        return f"{self.starts_at:%H:%M}"

    @property
    def iso_date(self) -> str:
        return self.date.isoformat()


@dataclass
class Day:
    date: dt.date
    off: bool = False
    openings: list[Opening] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The column's heading, e.g. Mon 8 Jun."""
        return _date_label(self.date, "D j M", translation.get_language())

    @property
    def long_label(self) -> str:
        """For the links' accessible names, e.g. Monday 8 June."""
        return _date_label(self.date, "l j F", translation.get_language())

    @property
    def free_count(self) -> int:
        return sum(1 for o in self.openings if o.is_free)


@functools.lru_cache(maxsize=4096)
def _date_label(date: dt.date, fmt: str, language: str | None) -> str:
    # Every doctor's grid shows the same few dozen dates: each is formatted (a localised
    # formatter, the grid's slowest part) once per process and language.
    return date_format(date, fmt)


def horizon_end(today: dt.date | None = None) -> dt.date:
    """The last date a patient may book."""
    return (today or clock.today()) + dt.timedelta(days=settings.BOOKING_HORIZON_DAYS)


def earliest_bookable(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES)


def days(
    doctor: DoctorProfile,
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None = None,
) -> list[Day]:
    """Every date from start to end (inclusive) with the doctor's openings on it."""
    return list(calendar(doctor, start, end, now=now))


def calendar(
    doctor: DoctorProfile,
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None = None,
) -> Iterator[Day]:
    """The days of `days`, one at a time: the three queries run at the first, and a reader
    that stops early (the grid's two weeks, unless it must look further for a free time)
    does not pay for the openings of the days it never reads."""
    now = now or timezone.now()
    cutoff = earliest_bookable(now)
    # Weekly slots by weekday, extra ones by their date (only those in the range are read).
    slots_by_weekday: dict[int, list[Slot]] = {}
    slots_by_date: dict[dt.date, list[Slot]] = {}
    for slot in (
        Slot.objects.active().filter(doctor=doctor).on_dates(start, end).order_by("start_time")
    ):
        if slot.date is None:
            slots_by_weekday.setdefault(slot.weekday, []).append(slot)
        else:
            slots_by_date.setdefault(slot.date, []).append(slot)
    absences = list(
        TimeOff.objects.active()
        .filter(doctor=doctor, start_date__lte=end, end_date__gte=start)
        .values_list("start_date", "end_date", "start_time", "end_time")
    )
    whole_days = [(a, b) for a, b, from_, _ in absences if from_ is None]
    part_days = [(a, b, from_, to) for a, b, from_, to in absences if from_ is not None]
    taken = set(
        Appointment.objects.holding_slot()
        .filter(doctor=doctor, date__gte=start, date__lte=end)
        .order_by()  # a set: the model's ordering would only add a sort (on SQLite)
        .values_list("slot_id", "date")
    )

    date = start
    while date <= end:
        day = Day(date=date, off=any(a <= date <= b for a, b in whole_days))
        if not day.off:
            slots = slots_by_weekday.get(date.weekday(), [])
            if date in slots_by_date:
                slots = sorted(slots + slots_by_date[date], key=lambda s: s.start_time)
            hours_off = [(f, t) for a, b, f, t in part_days if a <= date <= b]
            for slot in slots:
                # A part-day absence hides the slots it overlaps, as a whole day hides all.
                if any(f < slot.end_time and slot.start_time < t for f, t in hours_off):
                    continue
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


def free_openings(
    doctor: DoctorProfile, start: dt.date, end: dt.date, *, now: dt.datetime | None = None
) -> list[Opening]:
    return [o for day in days(doctor, start, end, now=now) for o in day.openings if o.is_free]


def nearest_free(
    doctor: DoctorProfile,
    around: dt.datetime,
    *,
    now: dt.datetime | None = None,
    limit: int = 3,
) -> list[Opening]:
    """The free openings closest in time to `around`, for "this slot was just taken"."""
    today = timezone.localdate(now, clock.clinic_tz()) if now else clock.today()
    openings = free_openings(doctor, today, horizon_end(today), now=now)
    openings.sort(key=lambda o: abs((o.starts_at - around).total_seconds()))
    return sorted(openings[:limit], key=lambda o: o.starts_at)


# --- The cached grid ----------------------------------------------------------------------


def pages() -> Any:
    """This process's cache of rendered doctor pages (headings, grids, whole pages)."""
    return caches["pages"]


def _lifetime() -> float:
    """How long an entry is kept: AVAILABILITY_CACHE_SECONDS less up to a quarter, at random.
    Entries cached together (the doctors' pages after a restart) would otherwise run out
    together, and every worker would rebuild them all in one burst that the requests queued
    behind it wait for: the doctor page's p99 under load."""
    return settings.AVAILABILITY_CACHE_SECONDS * random.uniform(0.75, 1.0)  # noqa: S311


def _version_key(doctor_id: int) -> str:
    return f"scheduling:grid-version:{doctor_id}"


def grid_version(doctor_id: int) -> str:
    """The doctor's current grid version, made on first use.

    A random token rather than a counter: if the cache drops the version key, the next one is
    new, so entries cached under an older version can never be mistaken for current ones.

    A process asks the shared cache at most once every AVAILABILITY_RECHECK_SECONDS per
    doctor and keeps the answer in its own memory meanwhile: with Redis, a round trip on
    every page cost a fifth of the doctor page's throughput in `make bench`. A change made in
    this process forgets the kept answer, so it shows in the next page; one made in another
    process shows within that period.
    """
    key = _version_key(doctor_id)
    recheck = settings.AVAILABILITY_RECHECK_SECONDS
    if recheck > 0 and (known := pages().get(key)) is not None:
        return known
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key) or ""
    if recheck > 0 and version:
        pages().set(key, version, timeout=recheck)
    return version


def _bump(doctor_id: int) -> None:
    key = _version_key(doctor_id)
    cache.set(key, uuid.uuid4().hex, timeout=None)
    pages().delete(key)


def changed(doctor_id: int) -> None:
    """The doctor's openings changed (a booking, a cancellation, a slot, time off...).

    Called by the services inside their transaction. The version is replaced now, so the
    writer's own next page is fresh, and again after the commit: a reader that computed the
    grid from the rows before the commit and stored it under the version it read in between
    leaves an entry that nobody asks for any more.
    """
    _bump(doctor_id)
    transaction.on_commit(lambda: _bump(doctor_id))


def cached_card(
    *,
    slug: str,
    load: Callable[[], DoctorProfile],
    render: Callable[[DoctorProfile], str],
) -> tuple[dict[str, Any], DoctorProfile | None]:
    """The doctor page's heading for `slug` ({"pk", "title", "html", "id"}) from the cache,
    else from `load()` (which 404s) and `render(doctor)`; the doctor too when it was loaded.
    `id` names this rendering (pages built on it are cached under it).

    Kept for AVAILABILITY_CACHE_SECONDS only: the profile (name, fee, listing) is not
    scheduling's to announce, so an edit or a deactivation shows when the entry runs out,
    as it would on a page loaded a moment earlier. Booking re-checks the doctor anyway."""
    seconds = settings.AVAILABILITY_CACHE_SECONDS
    key = f"scheduling:doctor-card:{slug}"
    card = pages().get(key) if seconds > 0 else None
    if card is not None:
        return card, None
    doctor = load()
    card = {
        "pk": doctor.pk,
        "title": doctor.display_name,
        "html": render(doctor),
        "id": uuid.uuid4().hex,
    }
    if seconds > 0:
        pages().set(key, card, timeout=_lifetime())
    return card, doctor


def grid_key(doctor_id: int, variant: str) -> str | None:
    """Where the doctor's grid for `variant` (the slug, today, the window's first day) is
    cached under the doctor's current version; None when the cache is switched off."""
    if settings.AVAILABILITY_CACHE_SECONDS <= 0:
        return None
    # Read the version before the rows: see `changed`.
    return f"scheduling:grid:{doctor_id}:{grid_version(doctor_id)}:{variant}"


def cached_html(
    key: str | None,
    render: Callable[[], tuple[str, dt.datetime | None]],
    *,
    now: dt.datetime | None = None,
) -> tuple[str, float]:
    """The grid's HTML under `key`, else from `render()`, which returns the HTML and the
    instant of the earliest free opening shown (it turns "past" once within the minimum
    notice, so the entry must not outlive it). Returns the HTML and when it runs out (a
    time.time() instant)."""
    entry = pages().get(key) if key else None
    if entry is not None:
        return entry
    html, first_free = render()
    now = now or timezone.now()
    seconds = _lifetime()
    if first_free is not None:
        turns_past = first_free - dt.timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES)
        seconds = min(seconds, max((turns_past - now).total_seconds(), 1))
    entry = (html, time.time() + seconds)
    if key:
        pages().set(key, entry, timeout=seconds)
    return entry


def cached_grid(
    *,
    doctor_id: int,
    variant: str,
    render: Callable[[], tuple[str, dt.datetime | None]],
    now: dt.datetime | None = None,
) -> str:
    """The doctor's grid HTML for `variant`, from the cache when current, else rendered."""
    return cached_html(grid_key(doctor_id, variant), render, now=now)[0]
