"""The stack's first admin, from the environment, once: `manage.py ensure_admin`.

Reads the variables Django's `createsuperuser --noinput` reads: DJANGO_SUPERUSER_NATIONAL_ID,
DJANGO_SUPERUSER_PASSWORD, DJANGO_SUPERUSER_EMAIL, DJANGO_SUPERUSER_FULL_NAME and
DJANGO_SUPERUSER_PHONE. Idempotent, so compose runs it after every migrate: an account with
that national ID already there is left as it is (its password too), no national ID set does
nothing, and both admin seats taken is said and is not an error (the cap of two holds).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import normalise, services
from accounts.models import User

PREFIX = "DJANGO_SUPERUSER_"
FIELDS = ("password", "email", "full_name", "phone")


class Command(BaseCommand):
    help = "Creates the first admin from DJANGO_SUPERUSER_* once; does nothing when it exists."

    def handle(self, *args: Any, **options: Any) -> None:
        national_id = normalise.national_id(os.environ.get(PREFIX + "NATIONAL_ID", ""))
        if not national_id:
            self.stdout.write("No DJANGO_SUPERUSER_NATIONAL_ID set: no admin to create.")
            return
        if User.objects.filter(national_id=national_id).exists():
            self.stdout.write(f"The account {national_id} exists already: nothing changed.")
            return
        values = {field: os.environ.get(PREFIX + field.upper(), "").strip() for field in FIELDS}
        missing = [PREFIX + field.upper() for field, value in values.items() if not value]
        if missing:
            raise CommandError(f"Set {', '.join(missing)} to create the first admin.")
        try:
            services.create_admin(national_id=national_id, superuser=True, **values)
        except services.AdminCapReached:
            self.stdout.write(
                self.style.WARNING(f"Both admin seats are taken: {national_id} was not created.")
            )
            return
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Admin {national_id} created."))
