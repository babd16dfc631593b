"""The audit trail in Django admin: read-only for everyone, superusers included."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from audit.models import AuditEntry


def _may_read(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or user.is_clinic_admin)  # type: ignore[union-attr]
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor_label", "object_type", "object_key", "ip", "source"]
    list_filter = ["action", "object_type", "source"]
    search_fields = ["=object_key", "actor_label", "=ip", "action", "request"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    # No bulk actions at all: the only built-in one deletes.
    actions = None
    fields = [
        "at",
        "action",
        "actor_label",
        "object_type",
        "object_key",
        "object_repr",
        "changes",
        "detail",
        "source",
        "ip",
        "user_agent",
        "request",
    ]
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

    @admin.display(description="before → after")
    def changes(self, obj: AuditEntry) -> str:
        return format_html(
            "<pre>before: {}\nafter:  {}</pre>",
            json.dumps(obj.before, indent=2, ensure_ascii=False),
            json.dumps(obj.after, indent=2, ensure_ascii=False),
        )
