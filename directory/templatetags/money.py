"""Prices as the clinic shows them: two decimals and the currency (CLINIC_CURRENCY)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format

register = template.Library()


@register.filter
def money(value: object, currency: str = "") -> str:
    """ "80.00 EUR" (in the active language's number format); empty for no price."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return ""
    return f"{number_format(amount, 2)} {currency or settings.CLINIC_CURRENCY}"
