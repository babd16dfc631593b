from __future__ import annotations

import functools
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        # Nothing of ours imports this app: it listens. Model changes arrive through Django's
        # model signals (whatever path saved them: a service, Django admin, a form, a
        # command), logins through the auth signals, lockouts through django-axes' signal,
        # rate-limit refusals through common.ratelimit's hook.
        from audit import recorder

        recorder.connect()
        _name_management_commands()
        post_migrate.connect(
            keep_append_only_triggers, sender=self, dispatch_uid="audit.append_only"
        )


def keep_append_only_triggers(*, using: str, **kwargs: Any) -> None:
    """After every migrate: the append-only triggers are back if a migration rebuilt the
    audit table on SQLite (which drops a table's triggers). See audit.triggers."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from audit import triggers

    connection = connections[using]
    if triggers.MIGRATION in MigrationRecorder(connection).applied_migrations():
        triggers.ensure(connection)


def _name_management_commands() -> None:
    """Every management command acts as "command:<its name>" in the audit trail.

    Django has no signal for a command's start, so BaseCommand.execute (which manage.py and
    call_command both go through) is wrapped once, here.
    """
    from django.core.management.base import BaseCommand

    from audit import context

    original = BaseCommand.execute
    if getattr(original, "audit_named", False):
        return

    @functools.wraps(original)
    def execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
        name = type(self).__module__.rsplit(".", 1)[-1]
        with context.acting(context.Context(source=f"command:{name}")):
            return original(self, *args, **options)

    # A mark on the function and a method replaced on Django's class: what this hook is, and
    # neither has a place in the stubs.
    execute.audit_named = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute  # type: ignore[method-assign]
