"""Which language a page, an e-mail or a calendar file is written in.

A page: the language the person chose with the header's switcher (Django's language cookie;
for a signed-in person also kept on their account and put back in the cookie at each login),
else the browser's Accept-Language, else settings.LANGUAGE_CODE: Django's LocaleMiddleware,
plus the cookie written at login. Something sent to a person (an e-mail, an .ics invitation)
is written in *their* language, whatever the sender's request or the worker's default is:
`for_user(user)` says which, `translation.override(...)` applies it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware import locale
from django.utils import translation

# Set on the request by the login view: the signed-in person's saved language, which
# LocaleMiddleware.process_response writes into the language cookie.
REMEMBER_ATTR = "_clinic_remember_language"


def supported(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def for_user(user: Any) -> str:
    """The language to write to this person in: their saved choice, else the clinic's."""
    code = getattr(user, "language", "") if user is not None else ""
    return code if supported(code) else settings.LANGUAGE_CODE


def remember(request: HttpRequest, code: str) -> None:
    """Have this response set the language cookie to `code` (at login)."""
    if supported(code):
        setattr(request, REMEMBER_ATTR, code)


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's, plus the cookie for a language put back at login (see `remember`)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        code = getattr(request, REMEMBER_ATTR, None)
        if code:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                code,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
            )
        return response


# The date formats the templates write, in English as they are written there (Django's `date`
# format characters), and what each becomes in another language: German puts a comma after the
# weekday and a full stop after the day ("Montag, 15. Juni 2026"). Day and month names come
# from Django's own catalogues. A format not listed here is used as it is.
DATE_FORMATS: dict[str, dict[str, str]] = {
    "de": {
        "l j F Y": "l, j. F Y",
        "l j F": "l, j. F",
        "D j M": "D, j. M",
        "D j M Y": "D, j. M Y",
        "j M": "j. M",
        "j F": "j. F",
        "j M Y": "j. M Y",
        "j F Y": "j. F Y",
        "j M Y H:i": "j. M Y, H:i",
        "l j F \\a\\t H:i": "l, j. F, H:i \\U\\h\\r",
        "D j M H:i": "D, j. M, H:i",
        "D j M, H:i": "D, j. M, H:i",
    },
    "ar": {
        "D j M, H:i": "D j M، H:i",
        "l j F \\a\\t H:i": "l j F، الساعة H:i",
    },
}


def date_format_for(fmt: str, language: str | None = None) -> str:
    """The format `fmt` (written for English) takes in `language` (default: the active one)."""
    code = (language or translation.get_language() or "").split("-")[0]
    return DATE_FORMATS.get(code, {}).get(fmt, fmt)
