"""Reads of the outbox that more than one caller needs: the admin, /metrics."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from notifications.models import Delivery

# A delivery is failing when its last attempt failed and nothing has delivered it since:
# waiting for its next retry, or given up. A given-up one stays counted until an admin
# retries it (Deliveries → Retry now): it is an event someone has not received.
FAILING = Q(status=Delivery.Status.PENDING, attempts__gt=0) | Q(status=Delivery.Status.FAILED)


def failing_deliveries() -> QuerySet[Delivery]:
    return Delivery.objects.filter(FAILING)


def failing_counts() -> dict[str, dict[str, int]]:
    """{channel: {"retrying": n, "given_up": n}} for both channels, zeros included."""
    rows = (
        failing_deliveries()
        .order_by()
        .values("channel")
        .annotate(
            retrying=Count("pk", filter=Q(status=Delivery.Status.PENDING)),
            given_up=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        )
    )
    counts = {c: {"retrying": 0, "given_up": 0} for c in Delivery.Channel.values}
    for row in rows:
        counts[row["channel"]] = {"retrying": row["retrying"], "given_up": row["given_up"]}
    return counts
