"""One pass of the worker: waitlist offers that ran out passed on, due reminders, then every
due delivery, batch by batch."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.utils import timezone

from notifications import delivery, reminders
from notifications.models import Delivery
from scheduling import services as scheduling_services

logger = logging.getLogger(__name__)


@dataclass
class PassResult:
    reminders: int = 0
    offers_passed_on: int = 0
    attempted: int = 0
    delivered: int = 0
    stopped: bool = False


def run_pass(*, batch: int = 20, stop: threading.Event | None = None) -> PassResult:
    """Sends what is due now. With `stop` set mid-way it finishes the delivery in hand, gives
    the rest of its claimed batch back, and returns."""
    # Before the deliveries: the next patient's offer is then sent in this same pass.
    passed = scheduling_services.pass_on_expired_offers()
    result = PassResult(reminders=reminders.send_due(), offers_passed_on=passed)
    while not (stop and stop.is_set()):
        ids = delivery.claim_due(limit=batch)
        if not ids:
            break
        for n, pk in enumerate(ids):
            if stop and stop.is_set():
                delivery.release(ids[n:])
                result.stopped = True
                return result
            outcome = delivery.deliver(pk)
            result.attempted += 1
            result.delivered += outcome == Delivery.Status.DELIVERED
    result.stopped = bool(stop and stop.is_set())
    return result


def describe_due() -> list[str]:
    """What a pass would do now, without doing it (for --dry-run)."""
    now = timezone.now()
    lines = [
        f"reminder: {a.public_id} at {timezone.localtime(a.starts_at):%Y-%m-%d %H:%M}"
        for a in reminders.due(now)
    ]
    for d in (
        Delivery.objects.due(now)
        .select_related("event", "endpoint")
        .order_by("next_attempt_at", "pk")
    ):
        lines.append(
            f"delivery {d.pk}: {d.event.type} → {d.target} (attempt {d.attempts + 1}"
            f" of {d.max_attempts})"
        )
    return lines
