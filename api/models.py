"""What the API keeps of its own: the Idempotency-Key of each booking made through it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for one booking: the same key again returns the same
    appointment instead of booking twice.

    The row is written first, in the booking's own transaction: a second request with the
    same key waits on the unique index until the first commits (PostgreSQL; SQLite queues
    every writer) and then finds it. A booking that fails rolls its key back with it, so
    the client may retry with the same key.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the request that used the key: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    # Set in the same transaction as the row is created; empty only inside that transaction.
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
