"""Rows kept for the record.

A *recorded* model's rows change only through `save()`: the audit trail hears of every
change from the model signals save() sends, and queryset update(), bulk_create() and
bulk_update() send none, so its querysets refuse them (related managers too: they are built
from the same queryset class). A *kept* model is recorded and never hard-deleted either:
deactivate, cancel or retire its rows instead.

    class SlotQuerySet(KeptQuerySet): ...

    class Slot(KeptForever, models.Model):
        objects = SlotQuerySet.as_manager()

Tests that arrange data past the trail use the model's `_base_manager`, a plain manager.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.db import models


class NeverDeleted(Exception):
    """Users, doctor profiles, appointments, slots and time off are kept for the record:
    deactivate, cancel or retire them instead."""

    def __init__(self, model: type[Any]) -> None:
        super().__init__(
            f"{str(model._meta.verbose_name_plural).capitalize()} are never deleted: deactivate, "
            "cancel or retire instead."
        )


class UnrecordedWrite(Exception):
    """A write that would change recorded rows without the audit trail hearing of it."""

    def __init__(self, model: type[models.Model], method: str) -> None:
        super().__init__(
            f"{method}() on {model._meta.verbose_name_plural} would bypass the audit trail: "
            "save each row (through the app's services) instead."
        )


_M = TypeVar("_M", bound=models.Model)


class RecordedQuerySet(models.QuerySet[_M]):
    """A queryset whose rows change only through save(), which the audit trail hears."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise UnrecordedWrite(self.model, "update")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise UnrecordedWrite(self.model, "bulk_create")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise UnrecordedWrite(self.model, "bulk_update")


class NeverDeletedQuerySet(models.QuerySet[_M]):
    """A queryset whose rows are never hard-deleted, for a model the audit trail does not
    follow (its rows may be written in bulk)."""

    def delete(self) -> NoReturn:
        raise NeverDeleted(self.model)


class KeptQuerySet(RecordedQuerySet[_M]):
    """A recorded queryset whose rows are never hard-deleted either."""

    def delete(self) -> NoReturn:
        raise NeverDeleted(self.model)


class KeptForever:
    """Model mixin: `obj.delete()` refuses, as the queryset's delete() does."""

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NeverDeleted(type(self))
