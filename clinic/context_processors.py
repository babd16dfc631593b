from django.conf import settings
from django.http import HttpRequest

from accounts.models import User

# Which part of the site a page belongs to, for the navigation's "you are here" mark.
_SECTIONS = {
    "directory": "find",
    "scheduling:doctor": "find",
    "scheduling:availability": "find",
    "scheduling:book": "find",
    "scheduling:my-appointments": "appointments",
    "scheduling:appointment": "appointments",
    "scheduling:cancel": "appointments",
    "scheduling:reschedule": "appointments",
    "scheduling:waitlists": "appointments",
    "scheduling:waitlist-offer": "appointments",
    "scheduling:waitlist-join": "find",
    "scheduling:dashboard": "day",
    "scheduling:slots": "day",
    "scheduling:hours": "day",
    "scheduling:extra-hours": "day",
    "scheduling:week": "day",
    "scheduling:day-print": "day",
    "scheduling:time-off": "day",
    "scheduling:patients": "day",
    "front-desk": "front-desk",
    "accounts:profile": "profile",
    "accounts:password-change": "profile",
    "accounts:login": "login",
    "accounts:register": "register",
    "home": "home",
    "about": "about",
    "contact": "contact",
}


# The appointment pages are shared: a doctor or the front desk reaches them from their own
# part of the site, and has no "My appointments" to mark.
_APPOINTMENTS_OF = {User.Role.DOCTOR: "day", User.Role.FRONT_DESK: "front-desk"}


def clinic(request: HttpRequest) -> dict[str, str]:
    match = getattr(request, "resolver_match", None)
    section = ""
    if match is not None:
        section = _SECTIONS.get(match.view_name) or _SECTIONS.get(match.namespace, "")
    if section == "appointments":
        role = getattr(getattr(request, "user", None), "role", None)
        section = _APPOINTMENTS_OF.get(role, section)  # type: ignore[arg-type]
    return {"clinic_name": settings.CLINIC_NAME, "nav_section": section}
