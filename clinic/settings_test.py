"""The test suite's settings (pytest's DJANGO_SETTINGS_MODULE): production's, read from the
same environment, with what a test run needs instead.

A child process a test starts (gunicorn, a worker, manage.py) names its own settings and
environment; it gets production's settings, as a deployment would.
"""

import os

# Read by the production settings below: a developer's .env does not leak into the tests, and
# without a SECRET_KEY or LOCAL_HTTP in the environment the suite runs on plain HTTP with a
# throwaway key (production would refuse to start).
os.environ.setdefault("CLINIC_IGNORE_DOTENV", "1")
os.environ.setdefault("LOCAL_HTTP", "1")
os.environ.setdefault("SECRET_KEY", "insecure-key-for-the-tests-only")

from clinic.settings import *  # noqa: F403
from clinic.settings import BASE_DIR, DATABASES

if DATABASES["default"]["ENGINE"] == "common.sqlite":
    # A file, not :memory:, so threads and processes in the tests share one database; one per
    # test process, so several runs on one checkout do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}

# Argon2 is deliberately slow; the suite hashes hundreds of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files straight from the finders, as runserver would: a fresh clone has no collected
# STATIC_ROOT, and one left over from an older collectstatic is stale.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

# Only the tests that mean to start the delivery thread do.
NOTIFICATIONS_SEND_ON_COMMIT = False
