from django.urls import path

from scheduling import front_desk_views as views

app_name = "front-desk"

urlpatterns = [
    path("", views.day, name="day"),
    path(
        "appointments/<uuid:public_id>/<slug:action>/",
        views.appointment_action,
        name="appointment-action",
    ),
    path("patients/", views.patients, name="patients"),
    path("patients/new/", views.patient_new, name="patient-new"),
    path("patients/<uuid:public_id>/", views.patient, name="patient"),
    path("patients/<uuid:public_id>/book/<slug:slug>/", views.book, name="book"),
]
