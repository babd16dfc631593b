from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts import services as accounts_services
from accounts.http import AuthenticatedRequest
from notifications import feeds
from scheduling import selectors


@never_cache
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private .ics feed the token opens; an unknown or revoked token is a 404."""
    user = accounts_services.user_for_calendar_token(token)
    if user is None:
        raise Http404("No such calendar.")
    base_url = f"{request.scheme}://{request.get_host()}"
    response = HttpResponse(
        feeds.build(user, base_url=base_url), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    # The URL is a secret: keep it out of search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@login_required
@require_safe
def appointment_ics(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """ "Add to calendar": one appointment the user may see as a .ics download (someone
    else's is a 404, as its page)."""
    appointment = selectors.get_appointment_for_user(request.user, public_id)
    body = feeds.one(appointment, request.user, base_url=settings.SITE_URL.rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
