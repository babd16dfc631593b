"""The audit trail in Django admin: read-only for everyone, superusers included."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.models import AuditEntry

# Every action the trail records, in words. An action missing here (a model tracked later) is
# spelled out from its code in English, and test_admin_translated's walk fails on it in German.
_ACTION_NAMES = {
    "login.succeeded": _("Logged in"),
    "login.failed": _("Login failed"),
    "login.locked_out": _("Locked out after failed logins"),
    "logout": _("Logged out"),
    "access.denied": _("Access refused"),
    "ratelimit.refused": _("Refused: too many requests"),
    "user.created": _("Account created"),
    "user.changed": _("Account changed"),
    "user.activated": _("Account activated"),
    "user.deactivated": _("Account deactivated"),
    "user.role_changed": _("Account's role changed"),
    "user.password_changed": _("Password changed"),
    "patient_profile.created": _("Patient profile created"),
    "patient_profile.changed": _("Patient profile changed"),
    "doctor_profile.created": _("Doctor profile created"),
    "doctor_profile.changed": _("Doctor profile changed"),
    "doctor_profile.bookings_paused": _("Doctor profile bookings paused"),
    "doctor_profile.bookings_resumed": _("Doctor profile bookings resumed"),
    "front_desk_profile.created": _("Front-desk profile created"),
    "front_desk_profile.changed": _("Front-desk profile changed"),
    "slot.created": _("Slot created"),
    "slot.changed": _("Slot changed"),
    "slot.retired": _("Slot retired"),
    "slot.reactivated": _("Slot reactivated"),
    "time_off.created": _("Time off created"),
    "time_off.changed": _("Time off changed"),
    "time_off.removed": _("Time off removed"),
    "time_off.restored": _("Time off restored"),
    "appointment.created": _("Appointment created"),
    "appointment.changed": _("Appointment changed"),
    "appointment.scheduled": _("Appointment scheduled again"),
    "appointment.checked_in": _("Appointment checked in"),
    "appointment.completed": _("Appointment completed"),
    "appointment.cancelled": _("Appointment cancelled"),
    "appointment.no_show": _("Appointment marked no-show"),
    "appointment.rescheduled": _("Appointment rescheduled"),
    "appointment.notes_changed": _("Doctor's notes changed"),
    "appointment.reminder_sent": _("Reminder sent"),
    "appointment.reminder_cleared": _("Reminder to be sent again"),
    "specialty.created": _("Specialty created"),
    "specialty.changed": _("Specialty changed"),
    "branch.created": _("Branch created"),
    "branch.changed": _("Branch changed"),
    "service.created": _("Service created"),
    "service.changed": _("Service changed"),
    "service.retired": _("Service retired"),
    "service.offered": _("Service offered again"),
}
_VERBS = {"no_show": "marked no-show", "checked_in": "checked in"}


def action_name(action: str) -> str:
    """'appointment.checked_in' -> 'Appointment checked in': the trail in words, not codes."""
    if action in _ACTION_NAMES:
        return str(_ACTION_NAMES[action])
    thing, _sep, verb = action.partition(".")
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
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        actions = AuditEntry.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((a, action_name(a)) for a in actions), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEntry]) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
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

    @admin.display(description=_("what happened"), ordering="action")
    def what(self, obj: AuditEntry) -> str:
        return action_name(obj.action)

    @admin.display(description=_("object"), ordering="object_type")
    def object_kind(self, obj: AuditEntry) -> str:
        return object_type_name(obj.object_type)

    @admin.display(description=_("before → after"))
    def changes(self, obj: AuditEntry) -> str:
        return format_html(
            "<pre>{}: {}\n{}:  {}</pre>",
            gettext("before"),
            json.dumps(obj.before, indent=2, ensure_ascii=False),
            gettext("after"),
            json.dumps(obj.after, indent=2, ensure_ascii=False),
        )
