import sys

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from accounts import services as accounts_services
from clinic.forms import ContactForm
from common import i18n
from common.outage import DATABASE_RETRY_AFTER, database_unavailable
from common.ratelimit import limit
from directory.models import Branch, Specialty


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/home.html", {"specialties": Specialty.objects.all()})


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clinic/about.html",
        {"specialties": Specialty.objects.all(), "branches": Branch.objects.all()},
    )


@limit("write")
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """The contact form: a message is stored for the admins, who read it in Django admin.

    A plain function view, so that a rate limit can be put on it as a decorator.
    """
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(
            request, _("Thank you, your message has reached the clinic. We answer by e-mail.")
        )
        return redirect("contact")
    return render(
        request,
        "clinic/contact.html",
        {"form": form, "branches": Branch.objects.all()},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """For Docker's HEALTHCHECK, a load balancer and an operator: 503 when the database does
    not answer (nothing works without it); 200 with `"status": "degraded"` when only the
    shared cache (Redis) is down, since the site still serves every page, uncached.

    Answered by `clinic.health.HealthProbeMiddleware` before the host check and the HTTPS
    redirect, so a local probe over plain HTTP gets it whatever ALLOWED_HOSTS says."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        database = "unreachable"
    else:
        database = "ok"
    shared = caches["default"]
    ping = getattr(shared, "ping", None)
    cache = "down" if ping is not None and not ping() else "ok"
    if database != "ok":
        status, code = "error", 503
    else:
        status, code = ("ok" if cache == "ok" else "degraded"), 200
    return JsonResponse({"status": status, "database": database, "cache": cache}, status=code)


@requires_csrf_token
def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The 500 page, rendered without the request's context processors: whatever broke (the
    database, the session) may break them too. It gets only what needs no I/O.

    Django calls it inside its handler of the uncaught exception, so `sys.exception()` is
    that exception: when the database is what failed, the answer is 503 with Retry-After
    and the page says to try again shortly (under /api/ it becomes JSON, code `unavailable`)."""
    if database_unavailable(sys.exception()):
        template = loader.get_template("503.html")
        response = HttpResponse(template.render({"clinic_name": settings.CLINIC_NAME}), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    template = loader.get_template(template_name)
    return HttpResponseServerError(template.render({"clinic_name": settings.CLINIC_NAME}))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switcher: Django's set_language (the cookie, then back to `next`),
    and for a signed-in person the choice kept on their account, for their next login and their
    e-mails."""
    response = django_set_language(request)
    if not i18n.supported(request.POST.get("language")):
        # Django's own takes any language it has a catalogue for; we offer LANGUAGES only.
        response.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    if request.user.is_authenticated:
        accounts_services.set_language(
            user=request.user,
            language=request.POST.get("language", ""),
        )
    return response
