"""The admin index's line about failing deliveries: `{% failing_deliveries_panel %}`."""

from __future__ import annotations

from django import template
from django.urls import reverse

from notifications import selectors

register = template.Library()


@register.inclusion_tag("admin/notifications/failing_deliveries.html")
def failing_deliveries_panel() -> dict:
    counts = selectors.failing_counts()
    retrying = sum(c["retrying"] for c in counts.values())
    given_up = sum(c["given_up"] for c in counts.values())
    return {
        "total": retrying + given_up,
        "retrying": retrying,
        "given_up": given_up,
        "webhooks": sum(counts["webhook"].values()),
        "emails": sum(counts["email"].values()),
        "url": reverse("admin:notifications_delivery_changelist") + "?failing=yes",
    }
