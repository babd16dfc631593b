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
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.formats import date_format
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from common import i18n
from notifications.models import Delivery, Event
from scheduling import clock

Mail = Delivery.Mail

SUBJECTS = {
    Mail.BOOKED: gettext_lazy("Your appointment with %(doctor)s on %(when)s is booked"),
    Mail.CANCELLED: gettext_lazy("Your appointment with %(doctor)s on %(when)s is cancelled"),
    Mail.RESCHEDULED: gettext_lazy("Your appointment with %(doctor)s has moved to %(when)s"),
    Mail.REMINDER: gettext_lazy("Reminder: your appointment with %(doctor)s on %(when)s"),
    Mail.DOCTOR_BOOKED: gettext_lazy("New booking: %(patient)s on %(when)s"),
}


def uid_for(appointment_public_id: str) -> str:
    return f"{appointment_public_id}@clinic"


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _instant(iso: str) -> dt.datetime:
    return timezone.localtime(dt.datetime.fromisoformat(iso), clock.clinic_tz())


def _context(event: Event) -> dict:
    data = event.payload["data"]
    appt = data["appointment"]
    starts, ends = _instant(appt["starts_at"]), _instant(appt["ends_at"])
    previous = appt.get("previous_starts_at")
    public_id = appt["id"]
    return {
        # Absolute links (SITE_URL): a mail is read away from the site.
        "appointment_url": _site(reverse("scheduling:appointment", args=[public_id])),
        "calendar_url": _site(reverse("notifications:appointment-ics", args=[public_id])),
        "clinic_name": settings.CLINIC_NAME,
        "appointment": appt,
        "doctor": data["doctor"],
        "branch": data["branch"],
        "patient": data["patient"],
        "service": data.get("service"),
        "dependant": data.get("dependant"),
        "starts_at": starts,
        "ends_at": ends,
        "previous_starts_at": _instant(previous) if previous else None,
        "when": _("%(day)s at %(time)s")
        % {"day": date_format(starts, i18n.date_format_for("l j F Y")), "time": f"{starts:%H:%M}"},
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
    if doctor.get("specialty"):
        summary = _("Appointment with %(doctor)s (%(specialty)s)") % {
            "doctor": doctor["name"],
            "specialty": doctor["specialty"],
        }
    else:
        summary = _("Appointment with %(doctor)s") % {"doctor": doctor["name"]}
    vevent.add("summary", summary)
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


ACCOUNT_SUBJECTS = {
    Mail.ACTIVATED: gettext_lazy("Your %(clinic)s account is active"),
    Mail.SET_PASSWORD: gettext_lazy("Welcome to %(clinic)s: choose your password"),
    Mail.NEW_REGISTRATION: gettext_lazy("New registration waiting for activation: %(name)s"),
}


def _account_context(delivery: Delivery) -> dict:
    """An account mail's context. The set-password link is made now, at sending: a token
    in the outbox's rows would be a password in the database."""
    data = delivery.event.payload["data"]["user"]
    ctx = {
        "clinic_name": settings.CLINIC_NAME,
        "user": data,
        "role": dict(User.Role.choices).get(data["role"], data["role"]).lower(),
        "login_url": _site(reverse("accounts:login")),
        "pending_url": _site(reverse("admin:accounts_user_changelist") + "?status=pending"),
    }
    if delivery.mail == Mail.SET_PASSWORD:
        user = User.objects.filter(public_id=data["id"]).first()
        if user is None:  # the payload names someone who is not there: nothing to link
            raise ValueError(f"No user {data['id']} for a set-password mail.")
        ctx["set_password_url"] = _site(
            reverse(
                "accounts:password-reset-confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
        )
    return ctx


def _build_account_mail(delivery: Delivery) -> EmailMultiAlternatives:
    kind = Mail(delivery.mail)
    ctx = _account_context(delivery)
    subject = ACCOUNT_SUBJECTS[kind] % {"clinic": settings.CLINIC_NAME, "name": ctx["user"]["name"]}
    template = f"emails/account_{kind.value}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", ctx),
        to=[delivery.recipient],
        headers={"X-Clinic-Event-Id": str(delivery.event.id)},
    )
    message.attach_alternative(render_to_string(f"{template}.html", ctx), "text/html")
    return message


def recipient_language(delivery: Delivery) -> str:
    """The language to write this mail in: the recipient's saved choice now (they may have
    changed it since the event), else the one the event recorded for them, else the clinic's.
    Whatever language the process sending it (the web request's thread, the worker) is in."""
    saved = (
        User.objects.filter(email__iexact=delivery.recipient)
        .values_list("language", flat=True)
        .first()
    )
    if i18n.supported(saved):
        return str(saved)
    data = delivery.event.payload.get("data", {})
    person = data.get("patient") or data.get("user") or {}
    recorded = person.get("language") if person.get("email") == delivery.recipient else None
    return str(recorded) if i18n.supported(recorded) else settings.LANGUAGE_CODE


def _build_offer_mail(delivery: Delivery) -> EmailMultiAlternatives:
    data = delivery.event.payload["data"]
    offer = data["offer"]
    starts, ends = _instant(offer["starts_at"]), _instant(offer["ends_at"])
    ctx = {
        "clinic_name": settings.CLINIC_NAME,
        "offer": offer,
        "doctor": data["doctor"],
        "branch": data["branch"],
        "patient": data["patient"],
        "dependant": data.get("dependant"),
        "starts_at": starts,
        "ends_at": ends,
        "expires_at": _instant(offer["expires_at"]),
        "appointment": {"time_zone": offer["time_zone"]},
    }
    when = f"{starts:%A} {starts.day} {starts:%B %Y} at {starts:%H:%M}"
    subject = " ".join(
        (
            gettext("A time with %(doctor)s is free: %(when)s")
            % {"doctor": data["doctor"]["name"], "when": when}
        ).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/waitlist_offered.txt", ctx),
        to=[delivery.recipient],
        headers={"X-Clinic-Event-Id": str(delivery.event.id)},
    )
    message.attach_alternative(render_to_string("emails/waitlist_offered.html", ctx), "text/html")
    return message


def build(delivery: Delivery) -> EmailMultiAlternatives:
    """The message for an e-mail delivery: text, HTML and (for the patient) the invitation,
    in the recipient's language."""
    with translation.override(recipient_language(delivery)):
        return _build(delivery)


def _build(delivery: Delivery) -> EmailMultiAlternatives:
    if delivery.mail in ACCOUNT_SUBJECTS:
        return _build_account_mail(delivery)
    if delivery.mail == Mail.WAITLIST_OFFERED:
        return _build_offer_mail(delivery)
    event = delivery.event
    ctx = _context(event)
    kind = Mail(delivery.mail)
    # One line whatever the names hold: a line break in a header value stops the mail
    # (BadHeaderError), and events recorded before names were checked may carry one.
    subject = " ".join(
        (
            SUBJECTS[kind]
            % {
                "doctor": ctx["doctor"]["name"],
                "patient": (ctx["dependant"] or ctx["patient"])["name"],
                "when": ctx["when"],
            }
        ).split()
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
