"""Every error the API answers is JSON {"detail": "...", "code": "..."} with the right status.

`detail` is a sentence for a person; `code` is stable, for programs. Rules broken in the
services (scheduling.services.SchedulingError) keep the service's own code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from api.schemas import opening_out
from common.outage import DATABASE_RETRY_AFTER, database_unavailable
from scheduling.errors import SchedulingError, SlotTaken

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Exception)

# The code of an error answered by status alone (Django's 404, a 405, a rate limit...).
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by the API's views to answer {"detail", "code"} (and any `extra` fields)."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


def body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code or STATUS_CODES.get(status, "error"), **extra}


# The statuses an error may be answered with by status alone, in words a person reads (in the
# request's language; HTTP's own reason phrases are English only).
_REASONS = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Not signed in"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Conflict"),
    413: gettext_lazy("Request too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Invalid request"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
    503: gettext_lazy("Service unavailable"),
}


def reason_phrase(status: int) -> str:
    if status in _REASONS:
        return str(_REASONS[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _("Error")


def validation_message(error: dict[str, Any]) -> str:
    """A validation error in the request's language. pydantic's own message (kept in the
    answer's `errors`, for programs) is English only; the kinds a client meets are said here,
    with their limits, and any other kind falls back to pydantic's words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "greater_than_equal":
        return _("It must be %(limit)s or more.") % {"limit": ctx.get("ge")}
    if kind == "less_than_equal":
        return _("It must be %(limit)s or less.") % {"limit": ctx.get("le")}
    if kind == "greater_than":
        return _("It must be more than %(limit)s.") % {"limit": ctx.get("gt")}
    if kind == "less_than":
        return _("It must be less than %(limit)s.") % {"limit": ctx.get("lt")}
    if kind in ("string_too_long", "too_long"):
        n = int(ctx.get("max_length", 0))
        return ngettext(
            "It may be at most %(n)d character long.", "It may be at most %(n)d characters long.", n
        ) % {"n": n}
    if kind in ("string_too_short", "too_short"):
        n = int(ctx.get("min_length", 0))
        return ngettext(
            "It must be at least %(n)d character long.",
            "It must be at least %(n)d characters long.",
            n,
        ) % {"n": n}
    if kind.startswith(("date_", "datetime_")):
        return _("It is not a valid date (YYYY-MM-DD).")
    if kind.startswith("time_"):
        return _("It is not a valid time (HH:MM).")
    if kind.startswith("uuid_"):
        return _("It is not a valid id.")
    if kind.startswith("int_"):
        return _("It is not a whole number.")
    if kind.startswith("bool_"):
        return _("It is not true or false.")
    if kind in ("literal_error", "enum"):
        return _("It is not one of the allowed values.")
    if kind.startswith("json_"):
        return _("The body is not valid JSON.")
    if kind in ("string_type", "model_type", "dict_type", "list_type"):
        return _("It has the wrong type.")
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])  # our own validators' words, in the request's language
    return str(error.get("msg", ""))


def install(api: NinjaAPI) -> None:
    """Replaces ninja's default exception handlers with ours."""

    def respond(request: HttpRequest, status: int, payload: dict[str, Any]) -> HttpResponse:
        response = api.create_response(request, payload, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="clinic"'
        return response

    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, body(exc.status, exc.detail, exc.code, **exc.extra))

    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "loc": [str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
            for error in exc.errors
        ]
        where = ".".join(errors[0]["loc"]) if errors else ""
        message = validation_message(exc.errors[0]) if errors else _("Invalid request.")
        detail = f"{where}: {message}" if where else message
        return respond(request, 422, body(422, detail, "validation_error", errors=errors))

    def on_scheduling(request: HttpRequest, exc: SchedulingError) -> HttpResponse:
        # The status comes from scheduling.errors.HTTP_STATUS, the table the pages use too.
        extra: dict[str, Any] = {}
        if isinstance(exc, SlotTaken):
            extra["alternatives"] = [opening_out(o) for o in exc.alternatives]
        return respond(request, exc.status, body(exc.status, exc.text, exc.code, **extra))

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return respond(request, 400, body(400, " ".join(exc.messages), "invalid"))

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            request,
            401,
            body(
                401,
                _(
                    "Sign in: send 'Authorization: Bearer <access token>' (POST "
                    "/api/v1/auth/token) or use a signed-in browser session."
                ),
                "not_authenticated",
            ),
        )

    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return respond(request, 429, body(429, _("Too many requests; try again later.")))

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        detail = str(exc)
        if detail.startswith("Cannot parse request body"):  # django-ninja's words, English only
            detail = _("The body is not valid JSON.")
        return respond(request, status, body(status, detail or reason_phrase(status)))

    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, body(404, _("Not found.")))

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, body(403, str(exc) or _("You may not do this.")))

    def on_crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        if database_unavailable(exc):
            logger.error(
                "API: the database is unavailable on %s %s",
                request.method,
                request.path,
                exc_info=exc,
            )
            response = respond(
                request,
                503,
                body(503, _("The service is briefly unavailable; try again in a few seconds.")),
            )
            response["Retry-After"] = str(DATABASE_RETRY_AFTER)
            return response
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, body(500, _("Something went wrong on our side.")))

    def handle(exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]) -> None:
        # ninja types the handler as taking the exception or its class; it passes the
        # exception.
        api.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, 413, body(413, _("The request body is too large.")))

    handle(ApiError, on_api_error)
    handle(NinjaValidationError, on_validation)
    handle(SchedulingError, on_scheduling)
    handle(DjangoValidationError, on_django_validation)
    handle(AuthenticationError, on_authentication)
    handle(Throttled, on_throttled)
    handle(HttpError, on_http_error)
    handle(Http404, on_404)
    handle(PermissionDenied, on_permission_denied)
    handle(RequestDataTooBig, on_too_big)
    handle(Exception, on_crash)
