"""Who is acting, from where: the request being served or the command being run.

The audit trail reads it when it records a change, so no service has to pass the request
around. AuditMiddleware binds each request; every management command binds its own name
(see AuditConfig.ready); anything else (a background thread, the test process) is "system".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Context:
    request: HttpRequest | None = None
    # "web", "command:<name>" or "system".
    source: str = "system"


_current: ContextVar[Context] = ContextVar("audit_context", default=Context())  # noqa: B039


def current() -> Context:
    return _current.get()


def bind(context: Context) -> Token[Context]:
    return _current.set(context)


def reset(token: Token[Context]) -> None:
    _current.reset(token)


@contextmanager
def acting(context: Context) -> Iterator[None]:
    token = bind(context)
    try:
        yield
    finally:
        reset(token)
