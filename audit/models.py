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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    # "appointment.cancelled", "user.activated", "login.failed", "access.denied", ...
    action = models.CharField(_("action"), max_length=60)
    # Who did it: a user (kept even if they are later deactivated; users are never deleted),
    # and a label that says it in words: "Ada Admin (100000001)", "anonymous", "system",
    # "command:run_worker".
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor label"), max_length=200)
    # What it was done to: "scheduling.appointment" and its public id, "accounts.doctorprofile"
    # and its slug, "accounts.user" and the national ID. Never a database id alone.
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_key = models.CharField(_("object key"), max_length=100, blank=True)
    object_repr = models.CharField(_("object as it read"), max_length=200, blank=True)
    # The fields that changed, before and after (a creation: before is null, after has every
    # field). Secrets (password hashes, medical history) appear as "(changed)" only.
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    # Where from: "web" with the request, "command:<name>", or "system".
    source = models.CharField(_("source"), max_length=100)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    request = models.CharField(
        _("request"), max_length=300, blank=True, help_text=_("Method and path.")
    )
    # Why a request was refused, or other context of the action.
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["object_type", "object_key", "at"], name="audit_entry_object_idx"),
            models.Index(fields=["actor", "at"], name="audit_entry_actor_idx"),
            models.Index(fields=["action", "at"], name="audit_entry_action_idx"),
        ]

    def __str__(self) -> str:
        what = (
            f"{self.action} {self.object_repr or self.object_key}"
            if self.object_key
            else self.action
        )
        return gettext("%(time)s %(what)s by %(actor)s") % {
            "time": f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}",
            "what": what,
            "actor": self.actor_label,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly
