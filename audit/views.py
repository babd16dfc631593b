from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.csrf import csrf_failure as django_csrf_failure


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal page (403), with the reason kept for the audit trail."""
    # Read by audit.middleware once the 403 is made; HttpRequest declares no place for it.
    request.audit_denied_reason = f"CSRF check failed: {reason}"  # type: ignore[attr-defined]
    return django_csrf_failure(request, reason=reason)
