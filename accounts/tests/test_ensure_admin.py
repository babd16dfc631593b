"""`manage.py ensure_admin`: the compose stack's first admin, from DJANGO_SUPERUSER_*, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts import services
from accounts.models import User

pytestmark = pytest.mark.django_db

ENV = {
    "DJANGO_SUPERUSER_NATIONAL_ID": "100 000-009",
    "DJANGO_SUPERUSER_PASSWORD": "first-admin-pass-9431",
    "DJANGO_SUPERUSER_EMAIL": "Head@Clinic.example",
    "DJANGO_SUPERUSER_FULL_NAME": "Hedda Head",
    "DJANGO_SUPERUSER_PHONE": "+49 30 2000009",
}


def run() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_creates_the_first_admin_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)

    assert "created" in run()
    admin = User.objects.get(national_id="100000009")
    assert admin.is_active
    assert admin.is_staff
    assert admin.role == User.Role.ADMIN
    assert admin.check_password(ENV["DJANGO_SUPERUSER_PASSWORD"])

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-password-7719")
    assert "nothing changed" in run()
    admin.refresh_from_db()
    assert admin.check_password(ENV["DJANGO_SUPERUSER_PASSWORD"])
    assert User.objects.admins().count() == 1


def test_without_a_national_id_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_NATIONAL_ID", raising=False)

    assert "no admin to create" in run()
    assert not User.objects.admins().exists()


def test_a_missing_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_NATIONAL_ID", "100000009")
    for key in ("DJANGO_SUPERUSER_PASSWORD", "DJANGO_SUPERUSER_PHONE"):
        monkeypatch.delenv(key, raising=False)

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        run()


def test_the_cap_of_two_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    for n in (1, 2):
        services.create_admin(
            national_id=f"10000000{n}",
            password="x" * 12,
            email=f"a{n}@clinic.example",
            full_name=f"Admin {n}",
            phone=f"+49 30 200000{n}",
        )
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)

    assert "Both admin seats are taken" in run()
    assert User.objects.admins().count() == 2
