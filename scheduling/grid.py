"""The availability grid's columns as HTML, built in one pass.

The grid is the most rendered part of the most read page: two weeks, often a hundred cells
or more. Through the template language each cell cost about 65 µs (variable lookups,
auto-escaping, the `|date` filter); here every variable piece is escaped once, a slot's time
and id once per slot and a day's labels once per day, and a cell is one f-string. The rest of
the grid (pager, empty states, legend) stays in `doctor_detail.html#grid`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from common.i18n import date_format_for
from scheduling.availability import FREE, TAKEN, Day, date_label


def window_label(first: dt.date, last: dt.date) -> str:
    """The pager's "7 Dec – 20 Dec 2026", as `|ldate:"j M"` and `|ldate:"j M Y"` write it."""
    language = get_language()
    return (
        f"{date_label(first, date_format_for('j M', language), language)} – "
        f"{date_label(last, date_format_for('j M Y', language), language)}"
    )


def columns(days: Iterable[Day], *, base_url: str, today: dt.date) -> SafeString:
    """One `<div class="day">` per day: its heading, then its openings (a free one links to
    `base_url` with the date and the slot), "Not working" or "No consultations"."""
    language = get_language()
    # The language's own order of weekday, day and month ("Mo., 15. Juni" in German).
    short, long = date_format_for("D j M", language), date_format_for("l j F", language)
    base = escape(base_url)
    book, not_working, no_consultations = (
        escape(gettext("Book")),
        escape(gettext("Not working")),
        escape(gettext("No consultations")),
    )
    # A cell that cannot be booked: its title and the prefix a screen reader announces.
    taken = (escape(gettext("Taken")), escape(gettext("Taken: ")))
    past = (escape(gettext("No longer bookable")), escape(gettext("Past: ")))
    slot_parts: dict[int, tuple[str, str]] = {}  # slot id -> (time label, public id)
    out = []
    for day in days:
        classes = "day"
        if day.off:
            classes += " day-off"
        if day.date == today:
            classes += " day-today"
        out.append(
            f'<div class="{classes}"><h3>{escape(date_label(day.date, short, language))}</h3>'
        )
        if day.off:
            out.append(f'<p class="muted small">{not_working}</p></div>')
            continue
        if not day.openings:
            out.append(f'<p class="muted small">{no_consultations}</p></div>')
            continue
        iso = day.date.isoformat()
        long_label = escape(date_label(day.date, long, language))
        out.append("<ul>")
        for o in day.openings:
            parts = slot_parts.get(o.slot.pk)
            if parts is None:
                parts = slot_parts[o.slot.pk] = (o.time_label, str(o.slot.public_id))
            time, public_id = parts
            if o.state == FREE:
                out.append(
                    f'<li><a class="slot" href="{base}?date={iso}&amp;slot={public_id}" '
                    f'aria-label="{book} {long_label} {time}">{time}</a></li>'
                )
            else:
                title, prefix = taken if o.state == TAKEN else past
                out.append(
                    f'<li><span class="slot slot-taken" title="{title}">'
                    f'<span class="visually-hidden">{prefix}</span>{time}</span></li>'
                )
        out.append("</ul></div>")
    # Safe: every piece above is our own markup or went through escape().
    return mark_safe("".join(out))  # noqa: S308
