"""Recording events in the outbox, inside the transaction of the change they report.

Scheduling and accounts know nothing of this module: `NotificationsConfig.ready` subscribes
`on_appointment_event` to `scheduling.events` and appends `on_account_activated` to
`accounts.services.on_activated`. Both run inside the caller's transaction, so the Event and
its Deliveries commit or roll back with the booking, cancellation or activation. Sending is
someone else's job: a background thread of the web process right after commit
(`notifications.dispatch`), and `manage.py run_worker` for whatever that thread did not finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from accounts.models import DoctorProfile, User
from common import i18n
from notifications.models import Delivery, Event, EventType, WebhookEndpoint
from scheduling import clock
from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer

logger = logging.getLogger(__name__)

# Which e-mails an event sends: to the patient, and to a doctor who opted in to new bookings.
PATIENT_MAIL = {
    EventType.APPOINTMENT_BOOKED: Delivery.Mail.BOOKED,
    EventType.APPOINTMENT_CANCELLED: Delivery.Mail.CANCELLED,
    EventType.APPOINTMENT_RESCHEDULED: Delivery.Mail.RESCHEDULED,
    EventType.APPOINTMENT_REMINDER: Delivery.Mail.REMINDER,
}
# Events after which the appointment's calendar entry changes version (ics SEQUENCE).
_NEW_VERSION = (EventType.APPOINTMENT_RESCHEDULED, EventType.APPOINTMENT_CANCELLED)


# --- Payloads -----------------------------------------------------------------------------


def _local_iso(instant: dt.datetime) -> str:
    return timezone.localtime(instant, clock.clinic_tz()).isoformat()


def _envelope(
    event_id: uuid.UUID, event_type: str, now: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    # The Standard Webhooks shape ({type, timestamp, data}) plus the id, so a receiver that
    # logs bodies can match them to the webhook-id header.
    return {
        "id": str(event_id),
        "type": event_type,
        "timestamp": now.astimezone(dt.UTC).isoformat(),
        "data": data,
    }


def _cancelled_by(appt: Appointment) -> str:
    if appt.cancelled_by_id is None:
        return ""
    if appt.cancelled_by_id == appt.patient_id:
        return "patient"
    if appt.cancelled_by_id == appt.doctor.user_id:
        return "doctor"
    return "clinic"


def appointment_data(appt: Appointment, details: dict[str, Any]) -> dict[str, Any]:
    """What the receivers are told about an appointment: who, where and when, enough to write
    to the patient. Never the medical history, the reason for the visit or a national ID."""
    doctor = appt.doctor
    branch = doctor.branch
    appointment: dict[str, Any] = {
        "id": str(appt.public_id),
        "status": appt.status,
        "starts_at": _local_iso(appt.starts_at),
        "ends_at": _local_iso(appt.ends_at),
        "time_zone": settings.TIME_ZONE,
    }
    previous = details.get("previous_starts_at")
    if isinstance(previous, dt.datetime):
        appointment["previous_starts_at"] = _local_iso(previous)
    if appt.status == Appointment.Status.CANCELLED:
        appointment["cancelled_by"] = _cancelled_by(appt)
        appointment["cancellation_reason"] = appt.cancellation_reason
    if appt.price is not None:
        appointment["price"] = f"{appt.price:.2f}"
        appointment["currency"] = settings.CLINIC_CURRENCY
    service = appt.service
    dependant = appt.dependant
    return {
        "appointment": appointment,
        # The family member seen, when the patient booked for one; the patient is the account
        # holder, who is written to. Neither a date of birth nor a national ID is sent.
        "dependant": (
            {
                "id": str(dependant.public_id),
                "name": dependant.full_name,
                "relationship": dependant.relationship,
            }
            if dependant is not None
            else None
        ),
        "service": (
            {
                "id": str(service.public_id),
                "name": service.name,
                "price": f"{appt.price:.2f}" if appt.price is not None else None,
                "currency": settings.CLINIC_CURRENCY,
            }
            if service is not None
            else None
        ),
        "doctor": {
            "name": doctor.display_name,
            "specialty": doctor.specialty.name if doctor.specialty else None,
        },
        "branch": (
            {"name": branch.name, "address": branch.address, "phone": branch.phone}
            if branch
            else None
        ),
        "patient": {
            "name": appt.patient.full_name,
            "email": appt.patient.email,
            "phone": appt.patient.phone,
            # The language the patient reads (a code: "en", "de", "ar"), for a receiver that
            # writes to them; the rest of the payload is codes and ISO dates.
            "language": i18n.for_user(appt.patient),
        },
    }


# --- Endpoints ----------------------------------------------------------------------------


def _sync_environment_endpoint(endpoints: list[WebhookEndpoint]) -> None:
    """Keeps the row that mirrors N8N_WEBHOOK_URL / WEBHOOK_SECRET in step with them."""
    url, secret = settings.N8N_WEBHOOK_URL, settings.WEBHOOK_SECRET
    mirror = next((e for e in endpoints if e.from_environment), None)
    if not url:
        if mirror is not None and mirror.is_active:
            mirror.is_active = False
            mirror.disabled_reason = "N8N_WEBHOOK_URL is no longer set."
            mirror.disabled_at = timezone.now()
            mirror.save(update_fields=["is_active", "disabled_reason", "disabled_at", "updated_at"])
        return
    if mirror is None:
        try:
            # A savepoint: two first events at once may both try; the unique index lets one in.
            with transaction.atomic():
                mirror = WebhookEndpoint.objects.create(
                    name="n8n (N8N_WEBHOOK_URL)", url=url, secret=secret, from_environment=True
                )
        except IntegrityError:
            mirror = WebhookEndpoint.objects.get(from_environment=True)
        endpoints.append(mirror)
    elif mirror.url != url or mirror.secret != secret:
        # A new URL is the operator's new word: the endpoint is live again even if the old
        # one had answered 410.
        if mirror.url != url:
            mirror.is_active, mirror.disabled_reason, mirror.disabled_at = True, "", None
        mirror.url, mirror.secret = url, secret
        mirror.save()


# The (URL, secret) this process last put the mirror row in step with. Only that sync writes
# the row's URL and secret (the admin shows them read-only), so once in step it stays so:
# the row is read again only when the settings change (tests) or after a restart. Set after
# the commit: a rolled-back sync has put nothing in step.
_mirror_synced: tuple[str, str] | None = None


@receiver(setting_changed)
def _forget_mirror(*, setting: str, **kwargs: Any) -> None:
    global _mirror_synced
    if setting in ("N8N_WEBHOOK_URL", "WEBHOOK_SECRET"):
        _mirror_synced = None


def _ensure_environment_endpoint() -> None:
    pair = (settings.N8N_WEBHOOK_URL, settings.WEBHOOK_SECRET)
    if _mirror_synced == pair:
        return
    _sync_environment_endpoint(list(WebhookEndpoint.objects.filter(from_environment=True)))

    def remember() -> None:
        global _mirror_synced
        _mirror_synced = pair

    transaction.on_commit(remember)


# --- Recording ----------------------------------------------------------------------------


def _hand_off(ids: list[int]) -> None:
    if ids and settings.NOTIFICATIONS_SEND_ON_COMMIT:
        from notifications import dispatch

        # After commit only: a rolled-back change must send nothing, and the receiver must
        # find the appointment it is told about. robust: a failure here never breaks the
        # response; the worker sends what the thread did not.
        transaction.on_commit(partial(dispatch.submit, ids), robust=True)


# An endpoint wants the events its list names, or every event when the list is empty
# (WebhookEndpoint.wants), in each database's JSON.
_WANTS = {
    "postgresql": "(jsonb_array_length(e.event_types) = 0 OR e.event_types ? %s)",
    "sqlite": (
        "(json_array_length(e.event_types) = 0"
        " OR EXISTS (SELECT 1 FROM json_each(e.event_types) WHERE json_each.value = %s))"
    ),
}


def _insert_deliveries(batch: list[tuple[Event, list[tuple[str, str]]]]) -> list[int]:
    """One statement for all the deliveries of a batch of events of one type (usually one
    event; a change that offers many waitlist times at once writes all theirs): a webhook
    delivery of each event to each active endpoint that wants the type (selected by the
    INSERT itself: the endpoints are not read into Python), then each e-mail. Each column
    holds what Delivery.save() would write, defaults included; the ones still empty (NULL)
    are left out. Returns the new ids."""
    events = [event for event, _mails in batch]
    (event_type,) = {event.type for event in events}
    endpoint = Delivery._meta.get_field("endpoint")
    event_column = Delivery._meta.get_field("event")
    hook = Delivery(event=events[0], channel=Delivery.Channel.WEBHOOK)
    fields = [
        f
        for f in Delivery._meta.concrete_fields
        if not f.primary_key and (f is endpoint or f.pre_save(hook, True) is not None)
    ]

    def values(delivery: Delivery) -> list[Any]:
        return [f.get_db_prep_save(f.pre_save(delivery, True), connection) for f in fields]

    columns = ("e.id" if f is endpoint else "ev.id" if f is event_column else "%s" for f in fields)
    params = [
        v
        for f, v in zip(fields, values(hook), strict=True)
        if f is not endpoint and f is not event_column
    ]
    params += [Event._meta.pk.get_db_prep_value(event.pk, connection) for event in events]
    params.append(event_type)
    sql = (
        f"INSERT INTO {Delivery._meta.db_table} ({', '.join(str(f.column) for f in fields)})"  # noqa: S608
        f" SELECT {', '.join(columns)}"
        f" FROM {WebhookEndpoint._meta.db_table} e, {Event._meta.db_table} ev"
        f" WHERE ev.id IN ({', '.join('%s' for _ in events)})"
        f" AND e.is_active AND {_WANTS[connection.vendor]}"
    )
    for event, mails in batch:
        for to, kind in mails:
            sql += f" UNION ALL SELECT {', '.join('%s' for _ in fields)}"
            params += values(
                Delivery(event=event, channel=Delivery.Channel.EMAIL, recipient=to, mail=kind)
            )
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING id", params)
        return [pk for (pk,) in cursor.fetchall()]


def _save(event: Event, mails: list[tuple[str, str]], *, hand_off: bool) -> Event:
    event.save(force_insert=True)
    _ensure_environment_endpoint()
    ids = _insert_deliveries([(event, [(to, kind) for to, kind in mails if to])])
    if hand_off:
        _hand_off(ids)
    return event


def _has_people(appt: Appointment) -> bool:
    """The appointment came with what its payload names (a booking's does: it read them
    under its locks), so they are not read again."""
    return (
        Appointment.patient.is_cached(appt)
        and Appointment.doctor.is_cached(appt)
        and (appt.service_id is None or Appointment.service.is_cached(appt))
        and (appt.dependant_id is None or Appointment.dependant.is_cached(appt))
        and all(
            getattr(DoctorProfile, name).is_cached(appt.doctor)
            for name in ("user", "specialty", "branch")
        )
    )


def _with_people(appt: Appointment) -> Appointment:
    return Appointment.objects.with_people().get(pk=appt.pk)


# In the caller's transaction when there is one (a booking's): no savepoint of its own, two
# round trips fewer; whatever fails here rolls the whole change back, outbox and all.
@transaction.atomic(savepoint=False)
def record_appointment_event(
    *,
    event_type: str,
    appointment: Appointment,
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    hand_off: bool = True,
) -> Event:
    """Writes the event, a delivery to each endpoint that wants it, and its e-mails."""
    now = now or timezone.now()
    appt = appointment if _has_people(appointment) else _with_people(appointment)
    sequence = 0
    if event_type != EventType.APPOINTMENT_BOOKED:
        sequence = Event.objects.filter(
            appointment_public_id=appt.public_id, type__in=_NEW_VERSION
        ).count() + (event_type in _NEW_VERSION)
    event_id = uuid.uuid4()
    event = Event(
        id=event_id,
        type=event_type,
        payload=_envelope(event_id, event_type, now, appointment_data(appt, details or {})),
        created_at=now,
        appointment_public_id=appt.public_id,
        user_email=appt.patient.email,
        sequence=sequence,
    )
    mails: list[tuple[str, str]] = []
    if event_type in PATIENT_MAIL:
        mails.append((appt.patient.email, PATIENT_MAIL[EventType(event_type)]))
    if event_type == EventType.APPOINTMENT_BOOKED and appt.doctor.email_on_new_booking:
        mails.append((appt.doctor.user.email, Delivery.Mail.DOCTOR_BOOKED))
    return _save(event, mails, hand_off=hand_off)


def _user_data(user: User) -> dict[str, Any]:
    return {
        "user": {
            "id": str(user.public_id),
            "name": user.full_name,
            "email": user.email,
            "role": user.role,
            "language": i18n.for_user(user),
        }
    }


@transaction.atomic
def record_account_activated(*, user: User, now: dt.datetime | None = None) -> Event:
    """The webhook, and the user's e-mail: a link to log in, or, for an account opened with
    no password (a walk-in patient at the front desk), a link to set one."""
    now = now or timezone.now()
    event_id = uuid.uuid4()
    event = Event(
        id=event_id,
        type=EventType.ACCOUNT_ACTIVATED,
        payload=_envelope(event_id, EventType.ACCOUNT_ACTIVATED, now, _user_data(user)),
        created_at=now,
        user_email=user.email,
    )
    kind = Delivery.Mail.ACTIVATED if user.has_usable_password() else Delivery.Mail.SET_PASSWORD
    return _save(event, [(user.email, kind)], hand_off=True)


@transaction.atomic
def record_account_registered(*, user: User, now: dt.datetime | None = None) -> Event:
    """A registration waits for an admin: the webhook, and one e-mail to each active admin
    with a link to the pending list."""
    now = now or timezone.now()
    event_id = uuid.uuid4()
    event = Event(
        id=event_id,
        type=EventType.ACCOUNT_REGISTERED,
        payload=_envelope(event_id, EventType.ACCOUNT_REGISTERED, now, _user_data(user)),
        created_at=now,
        user_email=user.email,
    )
    admins = User.objects.admins().active().values_list("email", flat=True)
    return _save(
        event, [(email, Delivery.Mail.NEW_REGISTRATION) for email in admins], hand_off=True
    )


def offer_url(offer: WaitlistOffer) -> str:
    site: str = settings.SITE_URL
    return site.rstrip("/") + reverse("scheduling:waitlist-offer", args=[offer.public_id])


def offer_data(offer: WaitlistOffer) -> dict[str, Any]:
    """What the receivers are told of a time offered from the waitlist: the time, until when
    it is held, the link that books it, and whom to write to."""
    entry = offer.entry
    doctor = offer.doctor
    branch = doctor.branch
    dependant = entry.dependant
    return {
        "offer": {
            "id": str(offer.public_id),
            "starts_at": _local_iso(offer.starts_at),
            "ends_at": _local_iso(offer.ends_at),
            "time_zone": settings.TIME_ZONE,
            "expires_at": _local_iso(offer.expires_at),
            "url": offer_url(offer),
        },
        "waitlist_entry": {"id": str(entry.public_id)},
        "dependant": (
            {
                "id": str(dependant.public_id),
                "name": dependant.full_name,
                "relationship": dependant.relationship,
            }
            if dependant is not None
            else None
        ),
        "doctor": {
            "name": doctor.display_name,
            "specialty": doctor.specialty.name if doctor.specialty else None,
        },
        "branch": (
            {"name": branch.name, "address": branch.address, "phone": branch.phone}
            if branch
            else None
        ),
        "patient": {
            "name": entry.patient.full_name,
            "email": entry.patient.email,
            "phone": entry.patient.phone,
        },
    }


@transaction.atomic(savepoint=False)
def record_waitlist_offers(
    *, offers: Sequence[WaitlistOffer], now: dt.datetime | None = None
) -> list[Event]:
    """The `waitlist.offered` webhook and the patient's e-mail with the link for each offer,
    in the transaction that made the offers; written in bulk (a doctor's new hours may offer
    dozens of times at once), a fixed number of statements whatever their number."""
    if not offers:
        return []
    now = now or timezone.now()
    # What the payloads name, read once for the whole batch.
    entries = WaitlistEntry.objects.select_related("patient", "dependant").in_bulk(
        {offer.entry_id for offer in offers}
    )
    doctors = DoctorProfile.objects.select_related("user", "specialty", "branch").in_bulk(
        {offer.doctor_id for offer in offers}
    )
    batch: list[tuple[Event, list[tuple[str, str]]]] = []
    for offer in offers:
        offer.entry, offer.doctor = entries[offer.entry_id], doctors[offer.doctor_id]
        email = offer.entry.patient.email
        event_id = uuid.uuid4()
        event = Event(
            id=event_id,
            type=EventType.WAITLIST_OFFERED,
            payload=_envelope(event_id, EventType.WAITLIST_OFFERED, now, offer_data(offer)),
            created_at=now,
            user_email=email,
        )
        batch.append((event, [(email, Delivery.Mail.WAITLIST_OFFERED)] if email else []))
    events = Event.objects.bulk_create([event for event, _mails in batch])
    _ensure_environment_endpoint()
    _hand_off(_insert_deliveries(batch))
    return events


def on_waitlist_offers(event_type: str, offers: Sequence[WaitlistOffer]) -> None:
    record_waitlist_offers(offers=offers)


def calendar_sequences(public_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The calendar SEQUENCE each appointment has reached: the one its latest invitation
    carried (0 until it is moved or cancelled), so that a calendar feed and the e-mailed
    invitations describe the same version of the entry."""
    rows = (
        Event.objects.filter(appointment_public_id__in=public_ids, type__in=_NEW_VERSION)
        .values("appointment_public_id")
        .annotate(n=Count("id"))
        .values_list("appointment_public_id", "n")
    )
    return {public_id: n for public_id, n in rows if public_id is not None}


# --- The hooks ready() installs -----------------------------------------------------------


def on_appointment_event(
    event_type: str, appointment: Appointment, details: dict[str, Any]
) -> None:
    if event_type not in EventType.values:
        logger.warning("Ignoring unknown event type %r", event_type)
        return
    record_appointment_event(event_type=event_type, appointment=appointment, details=details)


def on_account_activated(user: User) -> None:
    record_account_activated(user=user)


def on_account_registered(user: User) -> None:
    record_account_registered(user=user)


# --- Admin actions ------------------------------------------------------------------------


@transaction.atomic
def retry_now(*, deliveries: Any, now: dt.datetime | None = None) -> list[int]:
    """Makes these deliveries due at once: waiting ones skip the rest of their wait, failed
    ones get one more attempt. Delivered and in-flight ones are left alone. Returns the ids."""
    now = now or timezone.now()
    ids = []
    for d in Delivery.objects.select_for_update().filter(pk__in=[d.pk for d in deliveries]):
        if d.status == Delivery.Status.PENDING:
            d.next_attempt_at = now
        elif d.status == Delivery.Status.FAILED:
            d.status = Delivery.Status.PENDING
            d.next_attempt_at = now
            d.max_attempts = d.attempts + 1
        else:
            continue
        d.save(update_fields=["status", "next_attempt_at", "max_attempts", "updated_at"])
        ids.append(d.pk)
    _hand_off(ids)
    return ids
