from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts import services as accounts_services
from notifications import feeds


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
