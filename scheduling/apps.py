from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self) -> None:
        from directory import cards
        from scheduling import availability

        # The directory's cards show each doctor's next free time.
        cards.register(availability.annotate_next_free)

        post_migrate.connect(
            keep_person_overlap_guard, sender=self, dispatch_uid="scheduling.person_overlap"
        )


def keep_person_overlap_guard(*, using: str, **kwargs: Any) -> None:
    """After every migrate: the per-person overlap guard is back if a migration rebuilt the
    appointment table on SQLite (which drops a table's triggers). See
    scheduling.person_overlap."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from scheduling import person_overlap

    connection = connections[using]
    if person_overlap.MIGRATION in MigrationRecorder(connection).applied_migrations():
        person_overlap.ensure(connection)
