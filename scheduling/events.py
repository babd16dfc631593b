"""How scheduling announces what happened, without knowing who listens.

`publish` is called inside the transaction that makes the change, so a listener that writes
(the notifications outbox) commits or rolls back with it. Listeners register at start-up
(notifications does so in its AppConfig.ready); scheduling imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduling.models import Appointment, WaitlistOffer

BOOKED = "appointment.booked"
CANCELLED = "appointment.cancelled"
RESCHEDULED = "appointment.rescheduled"
CHECKED_IN = "appointment.checked_in"
COMPLETED = "appointment.completed"
NO_SHOW = "appointment.no_show"
REMINDER = "appointment.reminder"
WAITLIST_OFFERED = "waitlist.offered"

Listener = Callable[[str, "Appointment", dict[str, Any]], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def publish(event_type: str, appointment: Appointment, **details: Any) -> None:
    for listener in _listeners:
        listener(event_type, appointment, details)


# Freed times offered to waiting patients: not appointments yet, so listeners of their own.
# One call for all the offers one change makes (new weekly hours make dozens at once), so a
# listener can write them in bulk.
OfferListener = Callable[[str, "Sequence[WaitlistOffer]"], None]
_offer_listeners: list[OfferListener] = []


def subscribe_offers(listener: OfferListener) -> None:
    if listener not in _offer_listeners:
        _offer_listeners.append(listener)


def unsubscribe_offers(listener: OfferListener) -> None:
    if listener in _offer_listeners:
        _offer_listeners.remove(listener)


def publish_offers(event_type: str, offers: Sequence[WaitlistOffer]) -> None:
    for listener in _offer_listeners:
        listener(event_type, offers)
