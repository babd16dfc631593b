"""Production settings pass Django's deploy checks and refuse to start without a secret key.

Each test starts manage.py in a fresh interpreter: settings read the environment once, at import,
and the test process's settings are the test ones.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
# What must not leak from the environment running the tests into "production".
CLEARED = {
    # pytest's is the test settings module; manage.py's default is production's.
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "LOCAL_HTTP",
    "DATABASE_URL",
    "CACHE_URL",
    "RATELIMIT_ENABLED",
    "SITE_URL",
}
# Production shares one cache between its processes (the compose stack's Redis); the checks
# only read the setting, nothing connects to it.
SHARED_CACHE = "redis://127.0.0.1:6379/0"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update({"CLINIC_IGNORE_DOTENV": "1", **env})
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_pass_the_deploy_checks() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="clinic.example",
        CACHE_URL=SHARED_CACHE,
        SITE_URL="https://clinic.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_checks_require_the_sites_https_address_for_the_mails_links() -> None:
    production = {
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "clinic.example",
        "CACHE_URL": SHARED_CACHE,
    }
    for site_url in (None, "http://clinic.example", "https://127.0.0.1:8000"):
        env = production if site_url is None else {**production, "SITE_URL": site_url}
        result = manage("check", "--deploy", **env)

        assert result.returncode != 0, site_url
        assert "clinic.E001" in result.stderr
        assert "SITE_URL" in result.stderr


def test_deploy_checks_warn_when_rate_limits_count_in_one_process() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="clinic.example",
        SITE_URL="https://clinic.example",
    )

    assert result.returncode != 0
    assert "clinic.W001" in result.stderr
    assert "LocMemCache" in result.stderr


def test_deploy_checks_warn_when_rate_limits_are_off() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="clinic.example",
        CACHE_URL=SHARED_CACHE,
        RATELIMIT_ENABLED="False",
        SITE_URL="https://clinic.example",
    )

    assert result.returncode != 0
    assert "clinic.W002" in result.stderr


def test_deploy_checks_fail_on_a_short_secret_key() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY="short",
        ALLOWED_HOSTS="clinic.example",
        CACHE_URL=SHARED_CACHE,
        SITE_URL="https://clinic.example",
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_settings_refuse_to_start_without_a_secret_key_in_production() -> None:
    result = manage("check", DEBUG="False", ALLOWED_HOSTS="clinic.example")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_local_http_switch_is_the_only_way_to_turn_https_off() -> None:
    script = (
        "from django.conf import settings;"
        "print(settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,"
        " settings.SECURE_HSTS_SECONDS > 0)"
    )
    common = {"DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(64)}

    secure = manage("shell", "-c", script, **common)
    local = manage("shell", "-c", script, LOCAL_HTTP="1", **common)

    # The last line: the shell may first list what it imported automatically.
    assert secure.stdout.splitlines()[-1] == "True True True", secure.stderr
    assert local.stdout.splitlines()[-1] == "False False False", local.stderr


def test_production_cookies_headers_and_password_hashing() -> None:
    script = (
        "from django.conf import settings as s;"
        "from django.contrib.auth.hashers import make_password;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY,"
        " make_password('copper-kettle-sings-at-dawn').split('$')[1])"
    )

    result = manage("shell", "-c", script, DEBUG="False", SECRET_KEY=secrets.token_urlsafe(64))

    assert result.stdout.splitlines()[-1] == (
        "True True True Lax Lax 31536000 True DENY same-origin argon2id"
    ), result.stderr
