from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from common.ratelimit import limit

# Logins are also locked per national ID and address after 5 failures (django-axes); the rate
# limit stops one address from trying many national IDs.

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register-done"),
    path("login/", limit("write")(views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("welcome/", views.after_login, name="after-login"),
    path("profile/", views.profile, name="profile"),
    path("profile/calendar/", views.calendar_feed, name="calendar-feed"),
    path("profile/family/", views.add_family_member, name="family-add"),
    path(
        "profile/family/<uuid:public_id>/remove/",
        views.remove_family_member,
        name="family-remove",
    ),
    path("password_change/", views.PasswordChangeView.as_view(), name="password-change"),
    path(
        "password_change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password-change-done",
    ),
    path(
        "password_reset/",
        limit("write")(views.PasswordResetView.as_view()),
        name="password-reset",
    ),
    path("password_reset/done/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "reset/<uidb64>/<token>/",
        limit("write")(views.PasswordResetConfirmView.as_view()),
        name="password-reset-confirm",
    ),
    path(
        "reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
]
