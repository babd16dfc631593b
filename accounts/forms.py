from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import normalise, services
from accounts.models import Dependant, DoctorProfile, PatientProfile, User


class NationalIdField(forms.CharField):
    def to_python(self, value: Any) -> str:
        return normalise.national_id(super().to_python(value) or "")

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            normalise.validate_national_id(value)


class TelInput(forms.TextInput):
    # A phone's number pad, and the browser's saved number.
    input_type = "tel"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "tel", "inputmode": "tel", **(attrs or {})})


class PhoneField(forms.CharField):
    """A phone number as every form takes it: normalised to E.164 by the accounts'
    normaliser, a number that is not one in its country's plan refused."""

    widget = TelInput

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # "+49 30 …" typed into a right-to-left page keeps its order (the "+" in front).
        return {**super().widget_attrs(widget), "dir": "ltr"}

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return normalise.phone(value) if value else value


def add_duplicate_errors(
    form: forms.BaseForm,
    *,
    national_id: str = "",
    email: str = "",
    phone: str = "",
    exclude: User | None = None,
) -> None:
    """Each identifier someone else already holds, as an error on its field (the words are
    accounts.services.duplicate_errors', as the services answer them)."""
    for field, message in services.duplicate_errors(
        national_id=national_id, email=email, phone=phone, exclude=exclude
    ).items():
        form.add_error(field, message)


class AccountFields(forms.Form):
    """The identity and the password every new account with a password is made from: the
    patient's and the doctor's registration, and the admin's add form (accounts.admin), which
    all check them here."""

    national_id = NationalIdField(
        label=_("National ID"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        validators=[normalise.validate_single_line],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    # The column's length: a form EmailField alone accepts up to 320 characters.
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PhoneField(
        label=_("Phone"), max_length=30, help_text=_("With the country code if not local.")
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        return normalise.email(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        # An identifier someone already holds is not a form error: the registration answers
        # the same either way (accounts.services.registration_received).
        super().clean()
        data = self.cleaned_data
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            probe = User(
                national_id=data.get("national_id", ""),
                full_name=data.get("full_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def account_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "national_id": d["national_id"],
            # None: no password yet (the admin's add form may leave it to the user).
            "password": d["password1"] or None,
            "email": d["email"],
            "full_name": d["full_name"],
            "phone": d["phone"],
        }


class PatientRegistrationForm(AccountFields):
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    medical_history = forms.CharField(
        label=_("Medical history"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Optional: allergies, conditions, medication. Only your doctors see it."),
    )

    def clean_date_of_birth(self) -> dt.date:
        dob: dt.date = self.cleaned_data["date_of_birth"]
        normalise.validate_date_of_birth(dob)
        return dob


def _targets_of(field: str) -> QuerySet[Any]:
    """Every row a foreign key of DoctorProfile may point at."""
    model = DoctorProfile._meta.get_field(field).related_model
    assert isinstance(model, type), f"DoctorProfile.{field} is a foreign key"
    return model._default_manager.all()


class DoctorApplicationForm(AccountFields):
    # The choices come from the directory app through DoctorProfile's own foreign keys, so
    # accounts needs no import of directory.
    specialty = forms.ModelChoiceField(label=_("Specialty"), queryset=_targets_of("specialty"))
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=_targets_of("branch"))
    consultation_fee = forms.DecimalField(
        label=_("Consultation fee"),
        min_value=0,
        max_digits=8,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    bio = forms.CharField(
        label=_("About me"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    emergency_contact = forms.CharField(
        label=_("Emergency contact"), max_length=150, required=False
    )


class LoginForm(AuthenticationForm):
    username = NationalIdField(
        label=_("National ID"),
        max_length=40,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("The national ID or the password is not right."),
        "inactive": _("Your account is waiting for an admin to activate it."),
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                # Only someone who knows the password learns the account is still pending;
                # a wrong password never reveals whether the national ID exists.
                nid = self.cleaned_data.get("username")
                password = self.cleaned_data.get("password")
                pending = User.objects.filter(national_id=nid, is_active=False).first()
                if pending is not None and password and pending.check_password(password):
                    raise ValidationError(self.error_messages["inactive"], code="inactive") from exc
            raise


class ResetForm(PasswordResetForm):
    """Django's form, which also serves an active account opened without a password (a
    walk-in patient registered at the front desk who lost their set-password mail)."""

    def get_users(self, email: str) -> Any:
        return User.objects.filter(email__iexact=email, is_active=True)


class ProfileForm(forms.ModelForm):
    phone = PhoneField(label=_("Phone"), max_length=30)

    class Meta:
        model = User
        fields = ["full_name", "email", "phone"]
        labels = {"full_name": _("Full name"), "email": _("E-mail"), "phone": _("Phone")}

    def clean_full_name(self) -> str:
        value = self.cleaned_data["full_name"]
        normalise.validate_single_line(value)
        return value

    def clean_email(self) -> str:
        return normalise.email(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        add_duplicate_errors(
            self, email=data.get("email", ""), phone=data.get("phone", ""), exclude=self.instance
        )
        return data


class PatientProfileForm(forms.ModelForm):
    class Meta:
        model = PatientProfile
        fields = ["date_of_birth", "medical_history"]
        labels = {"date_of_birth": _("Date of birth"), "medical_history": _("Medical history")}
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "medical_history": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_date_of_birth(self) -> dt.date | None:
        dob: dt.date | None = self.cleaned_data.get("date_of_birth")
        if dob:
            normalise.validate_date_of_birth(dob)
        return dob


class DoctorProfileForm(forms.ModelForm):
    class Meta:
        model = DoctorProfile
        fields = ["bio", "consultation_fee", "emergency_contact", "email_on_new_booking"]
        labels = {
            "bio": _("About me"),
            "consultation_fee": _("Consultation fee"),
            "emergency_contact": _("Emergency contact"),
            "email_on_new_booking": _("E-mail me about new bookings"),
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}


class QuietPasswordResetForm(ResetForm):
    """Django's reset form, whose costly part (rendering the e-mail and sending it) runs on a
    thread of its own after the answer. In the request, a known and an unknown address cost
    the same (one query, one thread started), so neither the page nor the time it takes
    tells whether an account has that e-mail; a slow mail server delays the mail, not the
    page. The thread touches no database: the account was read in the request."""

    # Passes Django's options on as they come; the stub spells each one out.
    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        self.senders: list[threading.Thread] = []
        super().save(**kwargs)
        if not self.senders:
            self._start(lambda: None)

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        # The thread has no language of its own: the mail is in the account's language, else
        # in the one the page was read in.
        context = kwargs.get("context", args[2] if len(args) > 2 else {})
        language = getattr(context.get("user"), "language", "") or translation.get_language()

        def send() -> None:
            try:
                with translation.override(language):
                    PasswordResetForm.send_mail(self, *args, **kwargs)
            except Exception:
                logging.getLogger(__name__).exception("The password reset e-mail failed")

        self._start(send)

    def _start(self, work: Any) -> None:
        thread = threading.Thread(target=work, name="password-reset-mail", daemon=True)
        thread.start()
        self.senders.append(thread)


class WalkInForm(forms.Form):
    """A patient registering at the desk: their identity is checked there, in person."""

    national_id = NationalIdField(
        label=_("National ID"), max_length=40, help_text=_("As on the ID card you have seen.")
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("The patient gets a link here to choose their own password."),
    )
    phone = PhoneField(
        label=_("Phone"), max_length=30, help_text=_("With the country code if not local.")
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    medical_history = forms.CharField(
        label=_("Medical history"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Optional: allergies, conditions, medication. Only their doctors see it."),
    )

    def clean_email(self) -> str:
        return normalise.email(self.cleaned_data["email"])

    def clean_date_of_birth(self) -> dt.date:
        dob: dt.date = self.cleaned_data["date_of_birth"]
        normalise.validate_date_of_birth(dob)
        return dob

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        add_duplicate_errors(
            self,
            national_id=data.get("national_id", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
        )
        return data


class DependantForm(forms.Form):
    """A family member the patient books for."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    relationship = forms.ChoiceField(
        label=_("Relationship"), choices=Dependant.Relationship.choices
    )
    national_id = NationalIdField(
        label=_("National ID"),
        required=False,
        help_text=_("When they have one: it lets them take over their appointments later."),
    )

    def clean_full_name(self) -> str:
        value = self.cleaned_data["full_name"]
        normalise.validate_single_line(value)
        return value

    def clean_date_of_birth(self) -> dt.date:
        dob = self.cleaned_data["date_of_birth"]
        if dob.year < 1900:
            raise ValidationError(_("Enter a date of birth after 1900."))
        return dob
