"""Private calendar feeds: a patient's or a doctor's appointments as an iCalendar (RFC 5545)
subscription that calendar apps poll.

Each appointment keeps the UID and SEQUENCE of the invitations e-mailed about it
(`notifications.emails.uid_for`, `services.calendar_sequences`), so an entry a patient added
from an e-mail and the same entry from the feed agree. Minimal data only: who, when, where
and a link to the appointment's page (behind the login); never the reason for the visit,
the medical history or a national ID. A doctor's feed names the patient by first name and
initial only: calendars are often synced to services outside the clinic.
"""

from __future__ import annotations

import datetime as dt

import icalendar
from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import User
from common import i18n
from notifications import services
from notifications.emails import uid_for
from scheduling import selectors
from scheduling.models import Appointment

# Past appointments stay in the feed this long: a calendar app drops an entry that leaves
# the feed, and a patient looks back at last month's visit.
PAST_DAYS = 30
# A feed is read by machines every few minutes: a bounded answer whatever the history.
MAX_ENTRIES = 500
# How often calendar apps are asked to poll (those that read the hint).
REFRESH = dt.timedelta(hours=1)

_STATUS: dict[str, str] = {
    Appointment.Status.CANCELLED: "CANCELLED",
}


def short_name(full_name: str) -> str:
    """ "Alice Marie Patient" -> "Alice P."."""
    parts = full_name.split()
    if len(parts) < 2:
        return full_name
    return f"{parts[0]} {parts[-1][0]}."


def appointments_for(user: User, *, now: dt.datetime) -> QuerySet[Appointment]:
    """The user's appointments from PAST_DAYS ago on, cancelled ones included."""
    qs = selectors.appointments_visible_to(user)
    return qs.filter(ends_at__gte=now - dt.timedelta(days=PAST_DAYS)).order_by("starts_at")[
        :MAX_ENTRIES
    ]


def _entry(
    appt: Appointment, user: User, *, sequence: int, stamp: dt.datetime, base: str
) -> icalendar.Event:
    """One appointment as the user sees it in their calendar."""
    doctor = appt.doctor
    event = icalendar.Event()
    event.add("uid", uid_for(str(appt.public_id)))
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("last-modified", appt.updated_at.astimezone(dt.UTC))
    # UTC instants, as in the invitations: exact, and no VTIMEZONE to resolve.
    event.add("dtstart", appt.starts_at.astimezone(dt.UTC))
    event.add("dtend", appt.ends_at.astimezone(dt.UTC))
    if user.is_doctor:
        event.add(
            "summary",
            gettext("Consultation: %(patient)s") % {"patient": short_name(appt.patient.full_name)},
        )
    else:
        # The same words as the e-mailed invitation's SUMMARY (notifications.emails).
        if doctor.specialty:
            summary = gettext("Appointment with %(doctor)s (%(specialty)s)") % {
                "doctor": doctor.display_name,
                "specialty": doctor.specialty.name,
            }
        else:
            summary = gettext("Appointment with %(doctor)s") % {"doctor": doctor.display_name}
        event.add("summary", summary)
    if doctor.branch:
        place = ", ".join(p for p in (doctor.branch.name, doctor.branch.address) if p)
        event.add("location", place)
    event.add("status", _STATUS.get(appt.status, "CONFIRMED"))
    link = base + reverse("scheduling:appointment", args=[appt.public_id])
    event.add("url", link, parameters={"VALUE": "URI"})
    event.add("description", gettext("Details (sign-in required): %(link)s") % {"link": link})
    return event


def one(appt: Appointment, user: User, *, base_url: str, now: dt.datetime | None = None) -> bytes:
    """One appointment as a .ics file to download ("Add to calendar"): the same UID and
    SEQUENCE as its e-mailed invitations, so a calendar that has the entry updates it."""
    now = now or timezone.now()
    sequence = services.calendar_sequences([appt.public_id]).get(appt.public_id, 0)
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(
        _entry(appt, user, sequence=sequence, stamp=now.astimezone(dt.UTC), base=base_url)
    )
    return cal.to_ical()


def build(user: User, *, base_url: str, now: dt.datetime | None = None) -> bytes:
    """The feed as bytes. `base_url` is the site's origin, for each appointment's link.

    In the user's own language: a calendar app fetches the feed without the browser's
    language cookie or a useful Accept-Language."""
    with translation.override(i18n.for_user(user)):
        return _build(user, base_url=base_url, now=now)


def _build(user: User, *, base_url: str, now: dt.datetime | None) -> bytes:
    now = now or timezone.now()
    appointments = list(appointments_for(user, now=now))
    sequences = services.calendar_sequences([a.public_id for a in appointments])

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add(
        "x-wr-calname",
        gettext("%(clinic)s: my appointments") % {"clinic": settings.CLINIC_NAME},
    )
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    stamp = now.astimezone(dt.UTC)
    for appt in appointments:
        sequence = sequences.get(appt.public_id, 0)
        cal.add_component(_entry(appt, user, sequence=sequence, stamp=stamp, base=base_url))
    return cal.to_ical()
