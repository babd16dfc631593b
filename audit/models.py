"""The audit trail: one row per thing that happened, written once and never changed.

Rows are only ever inserted. The ORM refuses to save an existing row or delete any, and the
database itself refuses UPDATE, DELETE and TRUNCATE on the table (triggers created by the
migration `0002_append_only`, on SQLite and PostgreSQL alike): Django admin, a script or a bug
cannot rewrite the past. Only someone who can drop the triggers can, and that takes the
database owner's rights.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """Raised on any attempt to change or remove an audit entry."""

    def __init__(self, what: str = "changed or deleted") -> None:
        super().__init__(f"Audit entries are never {what}.")


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly

    def delete(self) -> NoReturn:
        raise AppendOnly

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly

    def for_object(self, object_type: str, key: str) -> AuditEntryQuerySet:
        return self.filter(object_type=object_type, object_key=key)


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # "appointment.cancelled", "user.activated", "login.failed", "access.denied", ...
    action = models.CharField(max_length=60)
    # Who did it: a user (kept even if they are later deactivated; users are never deleted),
    # and a label that says it in words: "Ada Admin (100000001)", "anonymous", "system",
    # "command:run_worker".
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    # What it was done to: "scheduling.appointment" and its public id, "accounts.doctorprofile"
    # and its slug, "accounts.user" and the national ID. Never a database id alone.
    object_type = models.CharField(max_length=60, blank=True)
    object_key = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The fields that changed, before and after (a creation: before is null, after has every
    # field). Secrets (password hashes, medical history) appear as "(changed)" only.
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Where from: "web" with the request, "command:<name>", or "system".
    source = models.CharField(max_length=100)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request = models.CharField(max_length=300, blank=True, help_text="Method and path.")
    # Why a request was refused, or other context of the action.
    detail = models.CharField(max_length=300, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [
            models.Index(fields=["object_type", "object_key", "at"], name="audit_entry_object_idx"),
            models.Index(fields=["actor", "at"], name="audit_entry_actor_idx"),
            models.Index(fields=["action", "at"], name="audit_entry_action_idx"),
        ]

    def __str__(self) -> str:
        target = f" {self.object_repr or self.object_key}" if self.object_key else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action}{target} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly
