"""The audit trail in Django admin: read-only for everyone, superusers included."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.models import User
from audit.models import AuditEntry

# Actions whose name read badly when spelled out word by word.
_ACTION_NAMES = {
    "login.succeeded": "Logged in",
    "login.failed": "Login failed",
    "login.locked_out": "Locked out after failed logins",
    "logout": "Logged out",
    "access.denied": "Access refused",
    "ratelimit.refused": "Refused: too many requests",
    "user.created": "Account created",
    "user.changed": "Account changed",
    "user.activated": "Account activated",
    "user.deactivated": "Account deactivated",
    "user.role_changed": "Account's role changed",
    "user.password_changed": "Password changed",
}
_VERBS = {"no_show": "marked no-show", "checked_in": "checked in"}


def action_name(action: str) -> str:
    """'appointment.checked_in' -> 'Appointment checked in': the trail in words, not codes."""
    if action in _ACTION_NAMES:
        return _ACTION_NAMES[action]
    thing, _, verb = action.partition(".")
    words = f"{thing.replace('_', ' ')} {_VERBS.get(verb, verb.replace('_', ' '))}".strip()
    return words[:1].upper() + words[1:]


def object_type_name(label: str) -> str:
    """'scheduling.appointment' -> 'Appointment'."""
    if not label:
        return ""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name).capitalize()


class ActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        actions = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((a, action_name(a)) for a in actions), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = "object type"
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        types = (
            AuditEntry.objects.exclude(object_type="")
            .order_by()
            .values_list("object_type", flat=True)
        )
        return sorted(((t, object_type_name(t)) for t in set(types)), key=lambda p: p[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> QuerySet:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


def _may_read(request: HttpRequest) -> bool:
    user = request.user
    return isinstance(user, User) and (
        user.is_active and user.is_staff and (user.is_superuser or user.is_clinic_admin)
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "what", "actor_label", "object_kind", "object_key", "ip", "source"]
    list_filter = [ActionFilter, ObjectTypeFilter, "source"]
    search_fields = ["=object_key", "actor_label", "=ip", "action", "request"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    # No bulk actions at all: the only built-in one deletes.
    actions = None
    fields = (
        "at",
        "what",
        "action",
        "actor_label",
        "object_kind",
        "object_key",
        "object_repr",
        "changes",
        "detail",
        "source",
        "ip",
        "user_agent",
        "request",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The clinic's admins read it without a permission row that someone could remove.
        return _may_read(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_read(request)

    @admin.display(description="what happened", ordering="action")
    def what(self, obj: AuditEntry) -> str:
        return action_name(obj.action)

    @admin.display(description="object", ordering="object_type")
    def object_kind(self, obj: AuditEntry) -> str:
        return object_type_name(obj.object_type)

    @admin.display(description="before → after")
    def changes(self, obj: AuditEntry) -> str:
        return format_html(
            "<pre>before: {}\nafter:  {}</pre>",
            json.dumps(obj.before, indent=2, ensure_ascii=False),
            json.dumps(obj.after, indent=2, ensure_ascii=False),
        )
