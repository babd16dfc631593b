"""The e-mails, built from the event's payload when they are sent, with a calendar invitation.

Built from the payload, not from today's database rows: the mail tells what the event told
(the time booked, even if a later reschedule changed it; that one sends its own mail).

The invitation (.ics) has one UID per appointment, `<public id>@clinic`, and a SEQUENCE that
grows with each reschedule and the cancellation, so a calendar updates or removes the entry
it already has instead of adding another. The doctor's new-booking mail has none: the doctor
is not told of cancellations by mail, and an invitation nobody withdraws would go stale.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Delivery, Event
from scheduling import clock

Mail = Delivery.Mail

SUBJECTS = {
    Mail.BOOKED: "Your appointment with {doctor} on {when} is booked",
    Mail.CANCELLED: "Your appointment with {doctor} on {when} is cancelled",
    Mail.RESCHEDULED: "Your appointment with {doctor} has moved to {when}",
    Mail.REMINDER: "Reminder: your appointment with {doctor} on {when}",
    Mail.DOCTOR_BOOKED: "New booking: {patient} on {when}",
}


def uid_for(appointment_public_id: str) -> str:
    return f"{appointment_public_id}@clinic"


def _instant(iso: str) -> dt.datetime:
    return timezone.localtime(dt.datetime.fromisoformat(iso), clock.clinic_tz())


def _context(event: Event) -> dict:
    data = event.payload["data"]
    appt = data["appointment"]
    starts, ends = _instant(appt["starts_at"]), _instant(appt["ends_at"])
    previous = appt.get("previous_starts_at")
    return {
        "clinic_name": settings.CLINIC_NAME,
        "appointment": appt,
        "doctor": data["doctor"],
        "branch": data["branch"],
        "patient": data["patient"],
        "starts_at": starts,
        "ends_at": ends,
        "previous_starts_at": _instant(previous) if previous else None,
        "when": f"{starts:%A} {starts.day} {starts:%B %Y} at {starts:%H:%M}",
    }


def calendar_invitation(event: Event) -> tuple[bytes, str]:
    """The .ics for the appointment as this event left it, and its METHOD."""
    ctx = _context(event)
    appt, doctor, branch = ctx["appointment"], ctx["doctor"], ctx["branch"]
    cancelled = appt["status"] == "cancelled"
    method = "CANCEL" if cancelled else "REQUEST"

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.CLINIC_NAME}//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    vevent = icalendar.Event()
    vevent.add("uid", uid_for(appt["id"]))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", event.created_at.astimezone(dt.UTC))
    # UTC instants: exact for a one-off event, and no VTIMEZONE for the client to resolve.
    vevent.add("dtstart", ctx["starts_at"].astimezone(dt.UTC))
    vevent.add("dtend", ctx["ends_at"].astimezone(dt.UTC))
    specialty = f" ({doctor['specialty']})" if doctor.get("specialty") else ""
    vevent.add("summary", f"Appointment with {doctor['name']}{specialty}")
    if branch:
        place = ", ".join(p for p in (branch["name"], branch.get("address")) if p)
        vevent.add("location", place)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = settings.CLINIC_NAME
    vevent.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{ctx['patient']['email']}")
    attendee.params["cn"] = ctx["patient"]["name"]
    attendee.params["role"] = "REQ-PARTICIPANT"
    vevent.add("attendee", attendee)
    cal.add_component(vevent)
    return cal.to_ical(), method


def build(delivery: Delivery) -> EmailMultiAlternatives:
    """The message for an e-mail delivery: text, HTML and (for the patient) the invitation."""
    event = delivery.event
    ctx = _context(event)
    kind = Mail(delivery.mail)
    # One line whatever the names hold: a line break in a header value stops the mail
    # (BadHeaderError), and events recorded before names were checked may carry one.
    subject = " ".join(
        SUBJECTS[kind]
        .format(doctor=ctx["doctor"]["name"], patient=ctx["patient"]["name"], when=ctx["when"])
        .split()
    )
    template = f"emails/appointment_{kind.value}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", ctx),
        to=[delivery.recipient],
        # The event id lets a support person find the outbox row from a forwarded mail.
        headers={"X-Clinic-Event-Id": str(event.id)},
    )
    message.attach_alternative(render_to_string(f"{template}.html", ctx), "text/html")
    if kind != Mail.DOCTOR_BOOKED:
        ics, method = calendar_invitation(event)
        message.attach("appointment.ics", ics, f"text/calendar; method={method}")
    return message
