"""Rows kept for the record: never hard-deleted (deactivate, cancel or retire them instead).

class SlotQuerySet(KeptQuerySet): ...

class Slot(KeptForever, models.Model):
    objects = SlotQuerySet.as_manager()
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class NeverDeleted(Exception):
    """Users, doctor profiles, appointments, slots and time off are kept for the record:
    deactivate, cancel or retire them instead."""

    def __init__(self, model: type[models.Model]) -> None:
        super().__init__(
            f"{model._meta.verbose_name_plural.capitalize()} are never deleted: deactivate, "
            "cancel or retire instead."
        )


class KeptQuerySet(models.QuerySet):
    """A queryset whose rows are never hard-deleted."""

    def delete(self) -> NoReturn:
        raise NeverDeleted(self.model)


class KeptForever:
    """Model mixin: `obj.delete()` refuses, as the queryset's delete() does."""

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NeverDeleted(type(self))  # type: ignore[arg-type]
