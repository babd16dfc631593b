"""Phone numbers as people read them. They are stored in E.164 ("+493012345678", what
accounts.normalise makes of any input); shown in the clinic's own national format when they
belong to its region (CLINIC_PHONE_REGION: "030 12345678"), in the international format
otherwise ("+33 1 23 45 67 89"). Links (tel:) keep E.164, which every dialler understands.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings


def for_humans(value: str | None) -> str:
    """The number for a page; what cannot be read as a number is shown as it is."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    home = phonenumbers.region_code_for_number(number) == settings.CLINIC_PHONE_REGION
    return phonenumbers.format_number(
        number,
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
