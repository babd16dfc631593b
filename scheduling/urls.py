from django.urls import path

from scheduling import views, waitlist_views

app_name = "scheduling"

urlpatterns = [
    path("doctors/<slug:slug>/", views.doctor_detail, name="doctor"),
    path("doctors/<slug:slug>/availability/", views.availability_fragment, name="availability"),
    path("doctors/<slug:slug>/book/", views.book, name="book"),
    path("doctors/<slug:slug>/waitlist/", waitlist_views.join, name="waitlist-join"),
    path("waitlist/", waitlist_views.my_waitlists, name="waitlists"),
    path("waitlist/<uuid:public_id>/leave/", waitlist_views.leave, name="waitlist-leave"),
    path("waitlist/offers/<uuid:public_id>/", waitlist_views.offer, name="waitlist-offer"),
    path("appointments/", views.my_appointments, name="my-appointments"),
    path("appointments/<uuid:public_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<uuid:public_id>/reschedule/", views.reschedule, name="reschedule"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/accepting/", views.toggle_accepting, name="toggle-accepting"),
    path(
        "dashboard/appointments/<uuid:public_id>/notes/",
        views.appointment_notes,
        name="appointment-notes",
    ),
    path(
        "dashboard/appointments/<uuid:public_id>/<slug:action>/",
        views.appointment_action,
        name="appointment-action",
    ),
    path("dashboard/week/", views.week, name="week"),
    path("dashboard/print/", views.day_print, name="day-print"),
    path("dashboard/hours/", views.working_hours, name="hours"),
    path("dashboard/extra-hours/", views.extra_hours, name="extra-hours"),
    path("dashboard/slots/", views.slots, name="slots"),
    path("dashboard/slots/<uuid:public_id>/remove/", views.slot_deactivate, name="slot-deactivate"),
    path("dashboard/time-off/", views.time_off, name="time-off"),
    path(
        "dashboard/time-off/<uuid:public_id>/remove/",
        views.time_off_remove,
        name="time-off-remove",
    ),
    path("dashboard/patients/", views.patients, name="patients"),
]
