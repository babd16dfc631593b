"""Canonical forms of the identifiers people type in many shapes."""

import datetime as dt
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_ID_SEPARATORS = re.compile(r"[\s\-]+")
NATIONAL_ID_PATTERN = re.compile(r"^[0-9A-Z]{5,20}$")


def national_id(value: str) -> str:
    """Strip spaces and dashes and upper-case letters: '300-000 001' is '300000001'."""
    return _ID_SEPARATORS.sub("", value or "").upper()


def validate_national_id(value: str) -> None:
    if not NATIONAL_ID_PATTERN.match(value or ""):
        raise ValidationError(
            _("Enter a national ID of 5 to 20 letters and digits (spaces and dashes are ignored)."),
            code="invalid_national_id",
        )


def phone(value: str) -> str:
    """E.164 form ('+4930123456'); numbers without a country code use CLINIC_PHONE_REGION."""
    try:
        number = phonenumbers.parse(value or "", settings.CLINIC_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
    # "Possible" only checks the length ("12" passes as a local number); "valid" checks the
    # number against the country's numbering plan.
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(value: str) -> str:
    return (value or "").strip().lower()


# Line breaks, tabs and other control characters (C0, DEL, C1) and the Unicode line and
# paragraph separators: a name is one line (it goes into e-mail subjects and calendar files).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def validate_single_line(value: str) -> None:
    if _CONTROL.search(value or ""):
        raise ValidationError(
            _("Write the name on one line, without line breaks or tabs."), code="multi_line"
        )


def name(value: str) -> str:
    """A person's name on one line, with single spaces: what any path stores."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def validate_date_of_birth(dob: dt.date, *, today: dt.date | None = None) -> None:
    """A date of birth a person can have: not in the future, not before 1900. Registration,
    the desk's walk-in form, the profile and the family members all check it here."""
    if dob > (today or timezone.localdate()):
        raise ValidationError(_("The date of birth cannot be in the future."), code="born")
    if dob.year < 1900:
        raise ValidationError(_("Enter a date of birth after 1900."), code="born_early")
