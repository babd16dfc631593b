"""Input no part of the site can store: NUL characters, refused at the door.

PostgreSQL cannot hold a NUL (0x00) in a text value, so a `?q=%00` or a form field with one
reached the database as an error (a 500) in the directory, admin filters and anywhere else a
value is used in a query. This middleware answers 400 (the friendly page; JSON under /api/)
for a NUL anywhere in the path, the query string or a form's fields, whatever the database,
so the answer does not depend on it. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 here,
before any view reads it. The JSON API validates its own input (422, or 413).

Imports nothing of ours: any app may use it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import loader

NUL = "\x00"
API = "/api/"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path:
        return True
    if any(NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    if request.content_type in _FORMS:
        if request.content_type == "multipart/form-data":
            # Kept whole first, so that a view that reads the raw body still can (a parsed
            # multipart stream cannot be read again). RequestDataTooBig past the limit.
            request.body  # noqa: B018
        return any(
            NUL in key or any(NUL in v for v in values) for key, values in request.POST.lists()
        )
    return False


def _answer(status: int, template_name: str) -> HttpResponse:
    # Rendered without the request's context: this runs before the session and the user.
    return HttpResponse(loader.get_template(template_name).render({}), status=status)


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(API):
            # The API checks every value it takes against its schema (api/schemas.py): a NUL
            # there is a 422 naming the field, an oversize body a 413 (api/errors.py).
            return self.get_response(request)
        try:
            refused = _has_nul(request)
        except RequestDataTooBig:
            return _answer(413, "413.html")
        if refused:
            return _answer(400, "400.html")
        return self.get_response(request)
