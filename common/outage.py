"""What a database outage looks like from a request: pages and the API answer 503 with
Retry-After (clinic.views.server_error, api.errors), as /health/ does, instead of a 500.

Imports nothing of ours: any app may use it.
"""

from __future__ import annotations

from django.db.utils import InterfaceError, OperationalError

# Seconds a client is asked to wait when the database does not answer (Retry-After).
DATABASE_RETRY_AFTER = 10


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached or used: a
    refused or lost connection, a server shutting down, SQLite's lock held too long."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
