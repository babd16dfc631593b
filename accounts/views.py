from __future__ import annotations

from typing import Any
from uuid import UUID

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import (
    DependantForm,
    DoctorApplicationForm,
    DoctorProfileForm,
    LoginForm,
    PatientProfileForm,
    PatientRegistrationForm,
    ProfileForm,
    QuietPasswordResetForm,
)
from accounts.http import AuthenticatedRequest
from accounts.models import CalendarFeed, Dependant, PatientProfile, User
from common.ratelimit import limit

# The new feed URL waits here between the POST that made it and the page that shows it once.
_NEW_FEED_TOKEN = "accounts.new_calendar_token"  # noqa: S105 (a session key)


def _apply_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@limit("write")
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    as_doctor = request.GET.get("as") == "doctor"
    form_class = DoctorApplicationForm if as_doctor else PatientRegistrationForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A taken national ID, e-mail or phone is not told apart from a new account: the same
        # page and the same e-mail (accounts.services.registration_received).
        created: bool | None = True
        try:
            if as_doctor:
                d = form.cleaned_data
                user = services.apply_as_doctor(
                    **form.account_kwargs(),
                    specialty=d["specialty"],
                    branch=d["branch"],
                    consultation_fee=d["consultation_fee"],
                    bio=d["bio"],
                    emergency_contact=d["emergency_contact"],
                )
            else:
                user = services.register_patient(
                    **form.account_kwargs(),
                    date_of_birth=form.cleaned_data["date_of_birth"],
                    medical_history=form.cleaned_data["medical_history"],
                )
            # The language the page was read in: their e-mails until they choose another.
            services.set_language(user=user, language=translation.get_language() or "")
        except services.IdentifierTaken:
            created = False
        except ValidationError as exc:
            _apply_service_errors(form, exc)
            created = None
        if created is not None:
            services.registration_received(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                created=created,
            )
            return redirect("accounts:register-done")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/register.html", {"form": form, "as_doctor": as_doctor}, status=status
    )


def register_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Sent here by a page that needs a login (LOGIN_URL's ?next=): say so.
        context["login_required"] = bool(self.request.GET.get(self.redirect_field_name))
        return context

    def form_invalid(self, form: Any) -> HttpResponse:
        """A wrong password: when the next one would lock this national ID out (django-axes,
        AXES_FAILURE_LIMIT), the page says so before it happens."""
        failures = AxesProxyHandler.get_failures(
            self.request, {"username": self.request.POST.get("username", "")}
        )
        context = self.get_context_data(form=form)
        if failures == settings.AXES_FAILURE_LIMIT - 1:
            context["last_attempt_minutes"] = round(settings.AXES_COOLOFF_TIME * 60)
        return self.render_to_response(context)


@login_required
def after_login(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if user.is_clinic_admin:
        return redirect("admin:index")
    if user.is_doctor:
        return redirect("scheduling:dashboard")
    if user.is_front_desk:
        return redirect("front-desk:day")
    return redirect("scheduling:my-appointments")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user, prefix="account")
    role_form: PatientProfileForm | DoctorProfileForm | None = None
    if user.is_patient:
        patient_profile, _created = PatientProfile.objects.get_or_create(user=user)
        role_form = PatientProfileForm(
            request.POST or None, instance=patient_profile, prefix="patient"
        )
    elif user.is_doctor and hasattr(user, "doctor_profile"):
        role_form = DoctorProfileForm(
            request.POST or None, instance=user.doctor_profile, prefix="doctor"
        )
    if request.method == "POST":
        forms_valid = form.is_valid() and (role_form is None or role_form.is_valid())
        if forms_valid:
            with transaction.atomic():
                form.save()
                if role_form is not None:
                    role_form.save()
            messages.success(request, _("Your details are saved."))
            return redirect("accounts:profile")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "role_form": role_form,
            "calendar": _calendar_context(request, user),
            **_family_context(user),
        },
        status=status,
    )


def _family_context(user: User, form: DependantForm | None = None) -> dict[str, Any]:
    if not user.is_patient:
        return {}
    return {
        "family": list(Dependant.objects.of(user).filter(is_active=True).order_by("full_name")),
        "family_form": form or DependantForm(),
    }


@limit("write")
@login_required
@require_POST
def add_family_member(request: AuthenticatedRequest) -> HttpResponse:
    """Adds a family member the patient books for (the form is on the profile page)."""
    user = request.user
    if not user.is_patient:
        raise PermissionDenied
    form = DependantForm(request.POST)
    if form.is_valid():
        try:
            dependant = services.add_dependant(guardian=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("%(name)s is on your profile: you can book for them now.")
                % {"name": dependant.full_name},
            )
            return redirect(reverse("accounts:profile") + "#family-h")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": ProfileForm(instance=user, prefix="account"),
            "role_form": PatientProfileForm(
                instance=PatientProfile.objects.get_or_create(user=user)[0], prefix="patient"
            ),
            "calendar": _calendar_context(request, user),
            **_family_context(user, form),
        },
        status=400,
    )


@login_required
@require_POST
def remove_family_member(request: AuthenticatedRequest, public_id: UUID) -> HttpResponse:
    """No more bookings for them; their appointments stay as they are."""
    dependant = get_object_or_404(
        Dependant.objects.of(request.user).filter(is_active=True), public_id=public_id
    )
    services.remove_dependant(dependant=dependant)
    messages.success(
        request,
        gettext("%(name)s is no longer on your profile.") % {"name": dependant.full_name},
    )
    return redirect(reverse("accounts:profile") + "#family-h")


def _calendar_context(request: HttpRequest, user: User) -> dict | None:
    if not services.has_calendar(user):
        return None
    feed = CalendarFeed.objects.filter(user=user, token_hash__isnull=False).first()
    token = request.session.pop(_NEW_FEED_TOKEN, None)
    url = None
    if token and feed is not None:
        # The URL lives in the named route of the notifications app, which serves the feed.
        url = request.build_absolute_uri(reverse("notifications:calendar-feed", args=[token]))
    return {"feed": feed, "url": url, "webcal_url": url and "webcal" + url[url.index(":") :]}


@login_required
@require_POST
@limit("write")
def calendar_feed(request: AuthenticatedRequest) -> HttpResponse:
    """Makes a new private feed URL (the old one stops working) or turns the feed off."""
    user = request.user
    action = request.POST.get("action")
    if action == "regenerate" and services.has_calendar(user):
        # Shown once on the next page: only the token's hash is stored.
        request.session[_NEW_FEED_TOKEN] = services.issue_calendar_token(user=user)
        messages.success(
            request, _("Your calendar feed has a new address; the old one no longer works.")
        )
    elif action == "revoke":
        if services.revoke_calendar_token(user=user):
            messages.success(request, _("Your calendar feed is turned off."))
    else:
        messages.error(request, _("Nothing was changed."))
    return redirect("accounts:profile")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QuietPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def get_extra_email_context(self) -> dict[str, str]:
        # The clinic's name, not the host the request came to ("127.0.0.1:8000"), and the
        # link on SITE_URL like every other mail's.
        return {"site_name": settings.CLINIC_NAME, "site_url": settings.SITE_URL.rstrip("/")}

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
