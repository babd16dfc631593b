"""The outbox: events, the endpoints that hear about them, and every delivery and attempt.

An Event row is written in the same transaction as the change it reports; its Deliveries (one
per webhook endpoint, one per e-mail) are written with it. Nothing here is ever deleted: a
delivery ends `delivered` or `failed`, with each attempt kept for the admin to read.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# A delivery is given up after this many attempts (the first try and its retries); see
# notifications.delivery.RETRY_DELAYS for the schedule, about a day in all.
MAX_ATTEMPTS = 8


class EventType(models.TextChoices):
    APPOINTMENT_BOOKED = "appointment.booked", _("Appointment booked")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled", _("Appointment rescheduled")
    APPOINTMENT_CHECKED_IN = "appointment.checked_in", _("Patient checked in")
    APPOINTMENT_COMPLETED = "appointment.completed", _("Appointment completed")
    APPOINTMENT_NO_SHOW = "appointment.no_show", _("Patient did not come")
    APPOINTMENT_REMINDER = "appointment.reminder", _("Appointment reminder")
    ACCOUNT_ACTIVATED = "account.activated", _("Account activated")
    ACCOUNT_REGISTERED = "account.registered", _("New registration waiting for an admin")
    WAITLIST_OFFERED = "waitlist.offered", _("A freed time offered from the waitlist")


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Event(models.Model):
    """Something that happened, as the receivers are told it. The id is the `webhook-id`:
    the same on every retry to every endpoint, so a receiver can drop duplicates."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    payload = models.JSONField(_("payload"), help_text=_("The JSON body every endpoint receives."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # What the event is about, for the admin's search (never a database id in a payload).
    appointment_public_id = models.UUIDField(_("appointment public ID"), null=True, blank=True)
    user_email = models.EmailField(_("user's e-mail"), blank=True)
    # The calendar SEQUENCE of the appointment after this event: 0 when booked, one more with
    # each reschedule or cancellation, so calendars apply the invitations in order.
    sequence = models.PositiveIntegerField(_("sequence"), default=0)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=EventType.values), name="notifications_event_type_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["appointment_public_id", "created_at"],
                name="notifications_event_appt_idx",
            ),
            models.Index(fields=["type", "created_at"], name="notifications_event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookEndpointQuerySet(models.QuerySet):
    def active(self) -> WebhookEndpointQuerySet:
        return self.filter(is_active=True)


class WebhookEndpoint(models.Model):
    """A URL that receives signed events (an n8n Webhook node, typically).

    The endpoint named by N8N_WEBHOOK_URL and WEBHOOK_SECRET is mirrored into one row with
    `from_environment` set, kept in step with the environment when events are recorded.
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("secret"),
        max_length=200,
        default=new_secret,
        help_text=(
            _(
                "Signs every delivery (HMAC-SHA256). A value starting with whsec_ is read as "
                "base64 (the Standard Webhooks form); any other value is used as its UTF-8 bytes."
            )
        ),
    )
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("The event types this endpoint receives; empty means all of them."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("disabled reason"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    from_environment = models.BooleanField(
        _("from environment"),
        default=False,
        editable=False,
        help_text=_("Mirrors N8N_WEBHOOK_URL and WEBHOOK_SECRET."),
    )
    # The receiver's health, as the last attempts found it: set by the sender after each
    # attempt, so the admin's list of endpoints tells at a glance which one is failing and why.
    failing_since = models.DateTimeField(
        _("failing since"),
        null=True,
        blank=True,
        help_text=_("The first failed attempt since the last delivery."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_environment"],
                condition=Q(from_environment=True),
                name="notifications_endpoint_one_from_env",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active"], name="notifications_endpoint_act_idx"),
        ]

    def __str__(self) -> str:
        if self.is_active:
            return f"{self.name}: {self.url}"
        return gettext("%(name)s: %(url)s (disabled)") % {"name": self.name, "url": self.url}

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.event_types, list) or not all(
            t in EventType.values for t in self.event_types
        ):
            raise ValidationError({"event_types": "Choose event types from the list."})
        if self.secret.startswith("whsec_"):
            try:
                base64.b64decode(self.secret.removeprefix("whsec_"), validate=True)
            except ValueError as exc:
                raise ValidationError(
                    {"secret": "A secret starting with whsec_ must be base64 after the prefix."}
                ) from exc

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryQuerySet(models.QuerySet):
    def due(self, now: object) -> DeliveryQuerySet:
        """Waiting deliveries whose time has come, and ones whose sender vanished mid-send
        (a killed process): their claim ran out, so they are sent again."""
        return self.filter(
            Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Delivery.Status.DELIVERING, locked_until__lt=now)
        )


class Delivery(models.Model):
    """One event to one destination: a webhook endpoint, or one e-mail to one person."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERING = "delivering", _("Delivering")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    class Mail(models.TextChoices):
        BOOKED = "booked", _("Booking confirmation")
        CANCELLED = "cancelled", _("Cancellation")
        RESCHEDULED = "rescheduled", _("New time")
        REMINDER = "reminder", _("Reminder")
        DOCTOR_BOOKED = "doctor_booked", _("New booking (to the doctor)")
        ACTIVATED = "activated", _("Account activated")
        SET_PASSWORD = "set_password", _("Account opened: set your password")
        NEW_REGISTRATION = "new_registration", _("New registration (to the admins)")
        WAITLIST_OFFERED = "waitlist_offered", _("A time offered from the waitlist")

    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.PROTECT,
        related_name="deliveries",
        null=True,
        blank=True,
        verbose_name=_("endpoint"),
    )
    recipient = models.EmailField(_("recipient"), blank=True)
    mail = models.CharField(_("mail"), max_length=20, choices=Mail.choices, blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=MAX_ATTEMPTS)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While `delivering`, the claim of the process sending it; a claim that ran out means the
    # sender died, and the delivery is due again.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivering", "delivered", "failed"]),
                name="notifications_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(channel="webhook") & Q(endpoint__isnull=False))
                | (Q(channel="email") & Q(endpoint__isnull=True) & ~Q(recipient="") & ~Q(mail="")),
                name="notifications_delivery_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivering") | Q(locked_until__isnull=False),
                name="notifications_delivery_claim_has_lease",
            ),
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                condition=Q(channel="webhook"),
                name="notifications_delivery_once_per_endpoint",
            ),
            models.UniqueConstraint(
                fields=["event", "recipient", "mail"],
                condition=Q(channel="email"),
                name="notifications_delivery_once_per_mail",
            ),
        ]
        indexes = [
            # The worker's question: what is due? Finished deliveries are left out.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notifications_delivery_due",
            ),
            models.Index(
                fields=["locked_until"],
                condition=Q(status="delivering"),
                name="notifications_delivery_claimed",
            ),
            models.Index(fields=["status", "created_at"], name="notifications_delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.target} ({self.get_status_display().lower()})"

    @property
    def target(self) -> str:
        if self.channel == self.Channel.WEBHOOK:
            return self.endpoint.name if self.endpoint is not None else "?"
        return f"{self.recipient} ({self.get_mail_display().lower()})"


class DeliveryAttempt(models.Model):
    """One try at a delivery and what came of it."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed")

    delivery = models.ForeignKey(
        Delivery, on_delete=models.PROTECT, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["delivered", "retry", "failed"]),
                name="notifications_attempt_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["delivery", "at"], name="notifications_attempt_idx"),
        ]

    def __str__(self) -> str:
        code = self.status_code or self.error[:40] or "-"
        return gettext("Attempt %(number)s: %(code)s (%(outcome)s)") % {
            "number": self.number,
            "code": code,
            "outcome": self.get_outcome_display().lower(),
        }
