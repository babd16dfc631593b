from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinic.models import ContactMessage


@admin.register(ContactMessage)
class ContactMessageAdmin(admin.ModelAdmin):
    """Messages are read here, never edited or deleted: only the 'answered' mark changes."""

    list_display = ["subject", "name", "email", "phone_number", "excerpt", "created_at", "handled"]
    list_filter = ["handled", "created_at"]
    search_fields = ["subject", "name", "email", "phone", "message"]
    date_hierarchy = "created_at"
    fields = ["name", "email", "phone", "subject", "message", "created_at", "handled"]
    actions = ["mark_handled", "mark_not_handled"]
    list_per_page = 50

    @admin.display(description=_("phone"), ordering="phone")
    def phone_number(self, obj: ContactMessage) -> str:
        return format_html('<span dir="ltr">{}</span>', obj.phone)

    @admin.display(description=_("Message"))
    def excerpt(self, obj: ContactMessage) -> str:
        return Truncator(obj.message).chars(80)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # One message opens read-only (no Save button); the list's "answered" actions need
        # the change permission, asked without an object.
        return obj is None and super().has_change_permission(request)

    @admin.action(description=_("Mark the selected messages as answered"), permissions=["change"])
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[ContactMessage]) -> None:
        done = queryset.update(handled=True)
        self.message_user(
            request,
            ngettext(
                "%(n)d message marked as answered.", "%(n)d messages marked as answered.", done
            )
            % {"n": done},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Mark the selected messages as not answered"), permissions=["change"]
    )
    def mark_not_handled(self, request: HttpRequest, queryset: QuerySet[ContactMessage]) -> None:
        done = queryset.update(handled=False)
        self.message_user(
            request,
            ngettext(
                "%(n)d message marked as not answered.",
                "%(n)d messages marked as not answered.",
                done,
            )
            % {"n": done},
            messages.SUCCESS,
        )
