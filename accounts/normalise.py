"""Canonical forms of the identifiers people type in many shapes."""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

_ID_SEPARATORS = re.compile(r"[\s\-]+")
NATIONAL_ID_PATTERN = re.compile(r"^[0-9A-Z]{5,20}$")


def national_id(value: str) -> str:
    """Strip spaces and dashes and upper-case letters: '300-000 001' is '300000001'."""
    return _ID_SEPARATORS.sub("", value or "").upper()


def validate_national_id(value: str) -> None:
    if not NATIONAL_ID_PATTERN.match(value or ""):
        raise ValidationError(
            "Enter a national ID of 5 to 20 letters and digits (spaces and dashes are ignored).",
            code="invalid_national_id",
        )


def phone(value: str) -> str:
    """E.164 form ('+4930123456'); numbers without a country code use CLINIC_PHONE_REGION."""
    try:
        number = phonenumbers.parse(value or "", settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Enter a valid phone number.", code="invalid_phone") from exc
    # "Possible" only checks the length ("12" passes as a local number); "valid" checks the
    # number against the country's numbering plan.
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Enter a valid phone number.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(value: str) -> str:
    return (value or "").strip().lower()
