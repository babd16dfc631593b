"""Passwords: at least 10 characters, not like the person's national ID, name or e-mail, not
a common password and not only digits (the hashing, Argon2id, is checked with the production
settings in clinic/tests/test_settings.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from accounts.models import User


def problems(password: str) -> list[str]:
    person = User(
        national_id="300000001", full_name="Alice Patient", email="alice.patient@example.com"
    )
    try:
        password_validation.validate_password(password, person)
    except ValidationError as exc:
        return [e.code for e in exc.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short1!x", "password_too_short"),
        ("password123", "password_too_common"),
        ("3000000012", "password_entirely_numeric"),
        ("300000001x", "password_too_similar"),
        ("alicepatient", "password_too_similar"),
        ("alice.patient@example", "password_too_similar"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    assert code in problems(password)


def test_a_long_unrelated_passphrase_is_accepted() -> None:
    assert problems("copper-kettle-sings-at-dawn") == []
