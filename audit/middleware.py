"""Binds each request to the audit context, and records the requests that were refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

from audit import context, recorder
from audit.tracked import TRACKED, object_type
from scheduling.models import Appointment, Slot, TimeOff

# Objects named by public id in our URLs: a 404 on one that exists is someone asking for what
# is not theirs (a 404 on purpose: a 403 would confirm it exists), and worth recording.
_BY_PUBLIC_ID = (Appointment, Slot, TimeOff)


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with context.acting(context.Context(request=request, source="web")):
            response = self.get_response(request)
            if response.status_code == 403:
                self._denied(request, getattr(request, "audit_denied_reason", "Forbidden."))
            elif response.status_code == 404:
                self._hidden(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            # Read back in __call__ once the response is made; HttpRequest declares no place
            # for it.
            reason = str(exception) or "Permission denied."
            request.audit_denied_reason = reason  # type: ignore[attr-defined]

    def _denied(
        self, request: HttpRequest, reason: str, target: models.Model | None = None
    ) -> None:
        if target is None:
            recorder.record("access.denied", detail=reason, request=request)
            return
        recorder.record(
            "access.denied",
            detail=reason,
            request=request,
            object_type=object_type(type(target)),
            object_key=TRACKED[type(target)].key(target),
            object_repr=str(target),
        )

    def _hidden(self, request: HttpRequest) -> None:
        """A 404 on an object that exists: recorded as a denied access to that object."""
        user = getattr(request, "user", None)
        match = request.resolver_match
        if user is None or not user.is_authenticated or match is None:
            return
        for value in match.kwargs.values():
            if not isinstance(value, uuid.UUID):
                continue
            for model in _BY_PUBLIC_ID:
                obj = model.objects.filter(public_id=value).first()
                if obj is not None:
                    self._denied(
                        request,
                        "Not found for this user: the object exists but is not theirs.",
                        obj,
                    )
                    return
