"""`{{ user.phone|phone }}`: the one way a page shows a phone number (common.phones). A
builtin (settings.TEMPLATES), so every template has it; `tel:` links keep the stored E.164."""

from __future__ import annotations

from django import template

from common import phones

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    return phones.for_humans(value)
