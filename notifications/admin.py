"""Django admin: the endpoints, and the outbox to read (nothing in it is edited or deleted)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from notifications import selectors, services
from notifications.models import Delivery, DeliveryAttempt, Event, EventType, WebhookEndpoint


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Event types"),
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "event_types", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "is_active", "health", "from_environment"]
    list_filter = ["is_active", "from_environment"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "from_environment",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "last_error",
        "last_error_at",
        "created_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        failing = (
            selectors.failing_deliveries()
            .filter(endpoint=OuterRef("pk"))
            .order_by()
            .values("endpoint")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(failing=Coalesce(Subquery(failing), 0))

    @admin.display(description=_("health"))
    def health(self, obj: WebhookEndpoint) -> str:
        if not obj.is_active:
            reason = obj.disabled_reason or gettext("by an admin")
            return gettext("Disabled: %(reason)s") % {"reason": reason}
        # Annotated by get_queryset above: the model declares no such field.
        failing = getattr(obj, "failing", 0)
        if obj.failing_since is None and not failing:
            return gettext("OK")
        if obj.failing_since:
            failing_text = ngettext(
                "Failing since %(since)s: %(n)d delivery",
                "Failing since %(since)s: %(n)d deliveries",
                failing,
            ) % {
                "since": formats.date_format(
                    timezone.localtime(obj.failing_since), "SHORT_DATETIME_FORMAT"
                ),
                "n": failing,
            }
        else:
            failing_text = ngettext(
                "Failing: %(n)d delivery", "Failing: %(n)d deliveries", failing
            ) % {"n": failing}
        error = ""
        if obj.last_error_at:
            error = f"{timezone.localtime(obj.last_error_at):%H:%M} {obj.last_error}"
        return format_html(
            '<a href="{}?endpoint__id__exact={}&amp;failing=yes">{}</a><br><small>{}</small>',
            reverse("admin:notifications_delivery_changelist"),
            obj.pk,
            failing_text,
            Truncator(error).chars(120),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if obj is not None and obj.from_environment:
            # Set by N8N_WEBHOOK_URL and WEBHOOK_SECRET; an edit here would be undone.
            fields += ["url", "secret"]
        return fields

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if obj.is_active:
            obj.disabled_reason, obj.disabled_at = "", None
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deliveries point at it; switch it off instead.
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "at", "outcome", "status_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FailingFilter(admin.SimpleListFilter):
    title = _("failing")
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", gettext("Failing: retrying or given up"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        if self.value() == "yes":
            return queryset.filter(selectors.FAILING)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = [
        "created_at",
        "event_type",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = [FailingFilter, "status", "channel", "event__type", "endpoint"]
    search_fields = ["=event__id", "=event__appointment_public_id", "recipient"]
    list_select_related = ["event", "endpoint"]
    date_hierarchy = "created_at"
    fields = (
        "event",
        "channel",
        "endpoint",
        "recipient",
        "mail",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "created_at",
        "payload",
    )
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["retry_now"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only pages, but "change" is what lets the action run (the admins' group has it).
        return request.user.has_perm("notifications.change_delivery")

    @admin.display(description=_("target"))
    def target(self, obj: Delivery) -> str:
        return obj.target

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.get_type_display()

    @admin.display(description=_("error"))
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error[:80]

    @admin.display(description=_("body"))
    def payload(self, obj: Delivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.event.payload, indent=2))

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = services.retry_now(deliveries=queryset)
        skipped = queryset.count() - len(ids)
        self.message_user(
            request,
            ngettext(
                "%(n)d delivery will be sent now.", "%(n)d deliveries will be sent now.", len(ids)
            )
            % {"n": len(ids)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d already delivered or being sent: left alone.",
                    "%(n)d already delivered or being sent: left alone.",
                    skipped,
                )
                % {"n": skipped},
                messages.INFO,
            )
        disabled = queryset.filter(pk__in=ids, endpoint__is_active=False).count()
        if disabled:
            self.message_user(
                request,
                ngettext(
                    "%(n)d goes to a disabled endpoint and will fail again: enable it first.",
                    "%(n)d go to a disabled endpoint and will fail again: enable it first.",
                    disabled,
                )
                % {"n": disabled},
                messages.WARNING,
            )


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("channel", "target", "status", "attempts", "next_attempt_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description=_("target"))
    def target(self, obj: Delivery) -> str:
        return obj.target

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(_ReadOnly):
    list_display = ["created_at", "type", "appointment_public_id", "user_email", "id"]
    list_filter = ["type"]
    search_fields = ["=id", "=appointment_public_id", "user_email"]
    date_hierarchy = "created_at"
    fields = (
        "id",
        "type",
        "created_at",
        "appointment_public_id",
        "user_email",
        "sequence",
        "body",
    )
    readonly_fields = fields
    inlines = [DeliveryInline]

    @admin.display(description=_("body"))
    def body(self, obj: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2))
