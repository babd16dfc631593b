"""The language of the pages: the header's switcher, the account's saved choice applied at
login, the browser's Accept-Language for everyone else, and the page's direction."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD
from clinic.tests.test_settings import CLEARED

pytestmark = pytest.mark.django_db


def html_tag(response: object) -> str:
    match = re.search(r"<html [^>]*>", response.content.decode())  # type: ignore[attr-defined]
    assert match
    return match.group(0)


def test_a_visitor_gets_the_language_their_browser_asks_for(client: Client) -> None:
    german = client.get("/about/", headers={"accept-language": "de-DE,de;q=0.9,en;q=0.5"})
    assert html_tag(german) == '<html lang="de" dir="ltr">'
    assert german["Content-Language"] == "de"
    assert 'aria-label="Sprache"' in german.content.decode()

    arabic = client.get("/about/", headers={"accept-language": "ar-OM"})
    assert html_tag(arabic) == '<html lang="ar" dir="rtl">'
    assert 'aria-label="اللغة"' in arabic.content.decode()

    # A language the clinic does not offer: the default.
    other = client.get("/about/", headers={"accept-language": "fr-FR"})
    assert html_tag(other) == f'<html lang="{settings.LANGUAGE_CODE}" dir="ltr">'


def test_the_switcher_sets_the_language_for_a_visitor_and_returns_to_the_page(
    client: Client,
) -> None:
    page = client.get("/about/")
    # The switcher is a plain form: one submit button per language, the current one pressed.
    assert 'action="/i18n/setlang/"' in page.content.decode()
    assert 'name="language" value="ar" lang="ar"' in page.content.decode()
    assert re.search(r'value="en" lang="en"[^>]*aria-pressed="true"', page.content.decode())

    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/about/"})
    assert response.status_code == 302
    assert response["Location"] == "/about/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    # The choice beats the browser's own preference.
    after = client.get("/about/", headers={"accept-language": "de"})
    assert html_tag(after) == '<html lang="ar" dir="rtl">'


def test_a_language_not_offered_changes_nothing(client: Client, patient: User) -> None:
    client.force_login(patient)
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/about/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    patient.refresh_from_db()
    assert patient.language == ""


def test_a_signed_in_persons_choice_is_kept_and_applied_at_their_next_login(
    client: Client, patient: User
) -> None:
    client.force_login(patient)
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    patient.refresh_from_db()
    assert patient.language == "de"

    # Another browser, which asks for English: the login puts the account's language back.
    other = Client(headers={"accept-language": "en"})
    response = other.post(
        "/accounts/login/", {"username": patient.national_id, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = other.get("/appointments/")
    assert html_tag(page) == '<html lang="de" dir="ltr">'


def test_a_login_without_a_saved_choice_keeps_the_browsers_language(
    client: Client, patient: User
) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": patient.national_id, "password": PASSWORD},
        headers={"accept-language": "ar"},
    )
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_a_registration_keeps_the_language_it_was_made_in(client: Client) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "national_id": "400-000-123",
            "full_name": "Layla Haddad",
            "email": "layla@example.com",
            "phone": "+968 9123 4567",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
            "date_of_birth": "1990-04-02",
        },
        headers={"accept-language": "ar"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(national_id="400000123").language == "ar"


def test_django_admins_time_shortcuts_are_in_24_hours(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    catalogue = client.get("/admin/jsi18n/", headers={"accept-language": "en"}).content.decode()
    for label, hours in (("6 a.m.", "06:00"), ("Noon", "12:00"), ("6 p.m.", "18:00")):
        assert f'"{label}": "{hours}"' in catalogue
    assert '"Midnight": "00:00"' in catalogue


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """Production's settings imported in a fresh interpreter with this environment."""
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update({"CLINIC_IGNORE_DOTENV": "1", "SECRET_KEY": "x" * 50, **env})
    code = "import clinic.settings as s; print(s.LANGUAGES, s.LANGUAGE_CODE)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_languages_come_from_the_environment() -> None:
    result = settings_with(CLINIC_LANGUAGES="de,ar", LANGUAGE_CODE="ar")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('de', 'German'), ('ar', 'Arabic')] ar"

    unknown = settings_with(CLINIC_LANGUAGES="en,fr")
    assert unknown.returncode != 0
    assert "CLINIC_LANGUAGES='en,fr'" in unknown.stderr

    outside = settings_with(CLINIC_LANGUAGES="en,de", LANGUAGE_CODE="ar")
    assert outside.returncode != 0
    assert "LANGUAGE_CODE='ar' is not one of CLINIC_LANGUAGES" in outside.stderr


def test_a_choice_made_before_logging_in_is_kept_on_the_account(
    client: Client, patient: User
) -> None:
    client.post("/i18n/setlang/", {"language": "ar", "next": "/"})
    patient.refresh_from_db()
    assert patient.language == ""

    client.post("/accounts/login/", {"username": patient.national_id, "password": PASSWORD})

    patient.refresh_from_db()
    assert patient.language == "ar"


def test_django_admin_follows_the_admins_language(admin_user: User) -> None:
    admin_user.language = "de"
    admin_user.save(update_fields=["language"])
    browser = Client(headers={"accept-language": "en"})
    response = browser.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.national_id, "password": PASSWORD},
    )
    assert response.status_code == 302
    page = browser.get("/admin/")
    assert html_tag(page).startswith('<html lang="de"')
    assert "Konten, Ärztinnen und Ärzte, Termine" in page.content.decode()
    assert "Abmelden" in page.content.decode()
