"""The clinic's Django admin site: a panel of what waits for an admin on its index, and a
plain 404 for a signed-in patient, doctor or front desk who opens /admin/ (Django's own site
would show them its login form with their national ID on it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext


@dataclass(frozen=True)
class Waiting:
    """One line of the panel: how many, of what, and the list that shows them."""

    count: int
    label: str
    url: str
    none: str


def waiting_for_admin() -> list[Waiting]:
    """Pending accounts and unanswered contact messages (the failing deliveries have their
    own panel beside it, from notifications)."""
    from accounts.models import User
    from clinic.models import ContactMessage

    pending = User.objects.pending().count()
    unanswered = ContactMessage.objects.filter(handled=False).count()
    return [
        Waiting(
            pending,
            ngettext("account waiting for activation", "accounts waiting for activation", pending),
            reverse("admin:accounts_user_changelist") + "?status=pending",
            gettext("No account waits for activation."),
        ),
        Waiting(
            unanswered,
            ngettext("contact message not answered", "contact messages not answered", unanswered),
            reverse("admin:clinic_contactmessage_changelist") + "?handled__exact=0",
            gettext("Every contact message is answered."),
        ),
    ]


def _refuse_non_staff(request: HttpRequest) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and not user.is_staff:
        raise Http404


class ClinicAdminSite(AdminSite):
    # The stub says admin_view returns the very view it is given; it returns a wrapper.
    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:  # type: ignore[override]
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            _refuse_non_staff(request)
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        _refuse_non_staff(request)
        return super().login(request, extra_context)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {**(extra_context or {}), "waiting": waiting_for_admin()}
        return super().index(request, context)


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.ClinicAdminSite"
