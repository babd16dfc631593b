from django.urls import path, re_path

from notifications import views

app_name = "notifications"

urlpatterns = [
    # The token is secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-].
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$",
        views.calendar_feed,
        name="calendar-feed",
    ),
    path(
        "appointments/<uuid:public_id>/calendar.ics",
        views.appointment_ics,
        name="appointment-ics",
    ),
]
