"""Django's createsuperuser, stopping with a plain message when both admin seats are taken."""

from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts import normalise
from accounts.models import User


class Command(createsuperuser.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        # Django validates the national ID before the user model sees it; spaces and dashes
        # are ignored here as everywhere else.
        field = User.USERNAME_FIELD
        if options.get(field):
            options[field] = normalise.national_id(options[field])
        try:
            super().handle(*args, **options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
