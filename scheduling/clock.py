"""Clinic-time helpers: a slot's wall-clock time on a date as an aware instant."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def clinic_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def today() -> dt.date:
    return timezone.localdate(timezone.now(), clinic_tz())


def local_instant(date: dt.date, time: dt.time) -> dt.datetime | None:
    """The aware instant of `time` on `date` in the clinic's zone, or None if that wall-clock
    time does not exist (the hour skipped when clocks spring forward). Where it exists twice
    (the hour repeated in autumn) the first is meant."""
    tz = clinic_tz()
    candidate = dt.datetime.combine(date, time, tzinfo=tz)
    # A skipped time does not survive the round trip through UTC.
    back = candidate.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return candidate


def slot_window(
    date: dt.date, start: dt.time, end: dt.time
) -> tuple[dt.datetime, dt.datetime] | None:
    starts = local_instant(date, start)
    ends = local_instant(date, end)
    if starts is None or ends is None or ends <= starts:
        return None
    return starts, ends
