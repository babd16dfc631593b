"""Helpers for the tests of scheduling's and the directory's HTML pages.

The people and the frozen clock come from the conftests and `scheduling.tests.factories`;
these only read pages and arrange the few things those factories don't.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import HttpResponse

from accounts.models import DoctorProfile
from scheduling.models import Appointment, Slot
from scheduling.tests.factories import AppointmentFactory, SlotFactory

# Every URL a page hands the browser: links, form targets and htmx requests.
_URL_ATTRIBUTE = re.compile(r'\b(?:href|action|hx-get|hx-post)="([^"]*)"')
# A path segment made of digits only ("/appointments/42/") or a slot named by number.
_INTEGER_ID = re.compile(r"/\d+(?:/|$|\?)|[?&](?:amp;)?slot=\d+(?:&|$)")


def html(response: HttpResponse) -> str:
    return response.content.decode()


def urls_in(page: str) -> list[str]:
    return _URL_ATTRIBUTE.findall(page)


def assert_no_integer_ids(page: str) -> None:
    """No database id in any URL of the page: slugs and random public ids only."""
    urls = urls_in(page)
    assert urls, "the page links nowhere: nothing was checked"
    leaking = [u for u in urls if _INTEGER_ID.search(u)]
    assert not leaking, f"URLs with an integer id: {leaking}"


def book_url(doctor: DoctorProfile, date: dt.date, slot: Slot) -> str:
    """The link a free time in the grid points at, as the template writes it."""
    return f"/doctors/{doctor.slug}/book/?date={date:%Y-%m-%d}&amp;slot={slot.public_id}"


def slot_at(
    doctor: DoctorProfile, weekday: int, start: dt.time, minutes: int = 30, **kwargs: Any
) -> Slot:
    end = (dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=minutes)).time()
    return SlotFactory(doctor=doctor, weekday=weekday, start_time=start, end_time=end, **kwargs)


def booked(slot: Slot, date: dt.date, **kwargs: Any) -> Appointment:
    """An appointment written straight to the database (no rules checked)."""
    return AppointmentFactory(slot=slot, date=date, **kwargs)


def is_fragment(page: str) -> bool:
    return "<html" not in page and "<body" not in page
