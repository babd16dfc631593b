"""Idempotency-Key: one client request, one effect, however often it is sent."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError
from api.models import IdempotencyKey
from scheduling.models import Appointment


def earlier(*, user: User, key: str, fingerprint: str) -> Appointment | None:
    """What this key made for this user before, or None if it is new. The same key with
    another request is refused."""
    record = IdempotencyKey.objects.select_related("appointment").filter(user=user, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
        )
    if record.appointment is None:  # pragma: no cover - written in the claim's transaction
        raise ApiError(409, "idempotency_in_progress", _("This request is still being processed."))
    return record.appointment


def once(
    *, user: User, key: str, fingerprint: str, action: Callable[[], Appointment]
) -> tuple[Appointment, bool]:
    """Runs `action` the first time this user sends this key, and returns what it made then
    on every later try. Returns (appointment, replayed).

    The key is claimed first, in the same transaction as the action: a concurrent request
    with the same key blocks on the unique index until this one commits (or rolls back,
    freeing the key: a failed booking may be retried with the same key).
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            claim = None
        if claim is not None:
            appointment = action()
            claim.appointment = appointment
            claim.save(update_fields=["appointment"])
            return appointment, False
    # Another request with this key committed between our start and our claim.
    made = earlier(user=user, key=key, fingerprint=fingerprint)
    if made is None:  # pragma: no cover - the claim failed on a row that now is gone
        raise ApiError(409, "idempotency_in_progress", _("Try this request again."))
    return made, True
