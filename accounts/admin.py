from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import normalise, services
from accounts.forms import AccountFields, PhoneField, _targets_of, add_duplicate_errors
from accounts.http import signed_in_user
from accounts.models import AdminProfile, DoctorProfile, FrontDeskProfile, PatientProfile, User
from common import phones


class PendingFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("pending", gettext("Waiting for activation")),
            ("active", gettext("Active")),
            ("deactivated", gettext("Deactivated")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        match self.value():
            case "pending":
                return queryset & User.objects.pending()
            case "active":
                return queryset.filter(is_active=True)
            case "deactivated":
                return queryset.filter(is_active=False, activated_at__isnull=False)
        return queryset


class UserCreationForm(AccountFields, forms.ModelForm):
    """An account an admin adds by hand: any role, with the profile of its role. The identity
    and password fields, and their checks, are registration's (accounts.forms.AccountFields);
    unlike registration, the admin is told which identifier someone already holds."""

    specialty = forms.ModelChoiceField(
        queryset=_targets_of("specialty"),
        required=False,
        label=_("Specialty"),
        help_text=_("Doctors: listed in the directory once the specialty and the branch are set."),
    )
    branch = forms.ModelChoiceField(
        queryset=_targets_of("branch"),
        required=False,
        label=_("Branch"),
        help_text=_("Doctors and front desk: where they work."),
    )
    active = forms.BooleanField(
        label=_("Active at once"),
        required=False,
        initial=True,
        help_text=_(
            "The user can log in at once and is told by e-mail. Untick to leave the "
            "account waiting in the pending list."
        ),
    )

    class Meta:
        model = User
        fields = ["national_id", "full_name", "email", "phone", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The admin need not invent a password to pass on: without one, the e-mail that
        # tells the user of their account carries a link to choose their own.
        self.fields["password1"].required = False
        self.fields["password2"].required = False
        self.fields["password1"].help_text = format_html(
            "<p>{}</p>{}",
            gettext(
                "Leave both empty and the user chooses their own: the e-mail that tells them "
                "of their account (on activation) carries the link. An admin account needs "
                "one here."
            ),
            self.fields["password1"].help_text,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if not {"password1", "password2"} & set(self.errors):
            if bool(p1) != bool(p2):
                self.add_error(
                    "password2", gettext("Type the password twice, or leave both empty.")
                )
            elif not p1 and data.get("role") == User.Role.ADMIN:
                self.add_error(
                    "password1", gettext("An admin account gets no e-mail: give it a password.")
                )
        add_duplicate_errors(
            self,
            national_id=data.get("national_id", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
        )
        role = data.get("role")
        if role == User.Role.ADMIN and not services.admin_seat_free():
            self.add_error("role", services.ADMIN_CAP_MESSAGE)
        if role == User.Role.FRONT_DESK and not data.get("branch"):
            self.add_error("branch", gettext("A front-desk account works at a branch: choose it."))
        return data

    def validate_unique(self) -> None:
        # Uniqueness is checked above in the same words as registration; the seat constraint
        # is the service's to fill.
        pass

    def validate_constraints(self) -> None:
        pass


class UserChangeForm(forms.ModelForm):
    phone = PhoneField(label=_("Phone"), max_length=30)

    class Meta:
        model = User
        fields = ["full_name", "email", "phone", "role"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        add_duplicate_errors(
            self,
            email=normalise.email(data.get("email") or ""),
            phone=data.get("phone", ""),
            exclude=self.instance,
        )
        becomes_admin = (
            data.get("role") == User.Role.ADMIN and self.instance.role != User.Role.ADMIN
        )
        if becomes_admin and not services.admin_seat_free(exclude=self.instance):
            self.add_error("role", services.ADMIN_CAP_MESSAGE)
        return data

    def validate_unique(self) -> None:
        # Checked above; the role goes through services.change_role (seat, staff flag, group)
        # in save_model, so the model's seat constraint is not checked against the form.
        pass

    def validate_constraints(self) -> None:
        pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    # Six narrow columns (e-mail and phone share one) beside the menu and the filters: the
    # table fits a 1280 px screen.
    list_display = ["national_id", "full_name", "role", "account_status", "contact", "joined"]
    list_display_links = ["national_id", "full_name"]
    list_filter = [PendingFilter, "role", "date_joined"]
    search_fields = ["national_id", "full_name", "email", "phone"]
    # Accounts waiting for activation first (not the deactivated ones), the newest on top.
    ordering = [
        Case(When(is_active=False, activated_at__isnull=True, then=Value(0)), default=Value(1)),
        "-date_joined",
    ]
    readonly_fields = [
        "national_id",
        "profile",
        "is_active",
        "activated_at",
        "deactivated_at",
        "last_login",
        "date_joined",
    ]
    fieldsets = [
        (None, {"fields": ["national_id", "full_name", "email", "phone", "role", "profile"]}),
        (
            _("Status"),
            {
                "fields": [
                    "is_active",
                    "activated_at",
                    "deactivated_at",
                    "last_login",
                    "date_joined",
                ]
            },
        ),
    ]
    add_fieldsets = [
        (None, {"fields": ["national_id", "full_name", "email", "phone", "role"]}),
        (_("Where they work (doctors and front desk)"), {"fields": ["specialty", "branch"]}),
        (_("Password and status"), {"fields": ["password1", "password2", "active"]}),
    ]
    change_form_template = "admin/accounts/user/change_form.html"
    filter_horizontal = []
    actions = ["activate_accounts", "deactivate_accounts"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is hard-deleted: deactivate instead.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The national ID is typed once, when the account is added; after that it names the
        # person in the audit trail and never changes.
        return list(self.readonly_fields) if obj is not None else []

    @admin.display(description=_("Profile"))
    def profile(self, obj: User) -> str:
        """The role's profile (specialty and branch, branch, date of birth), one click away:
        where a doctor's or a front desk's branch is changed."""
        for model in (DoctorProfile, FrontDeskProfile, PatientProfile, AdminProfile):
            found = model._default_manager.filter(user=obj).first()
            if found is not None:
                meta = found._meta
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[found.pk])
                return format_html('<a href="{}">{}</a>', url, found)
        return gettext("None yet (made when the account is activated).")

    @admin.display(description=_("E-mail and phone"), ordering="email")
    def contact(self, obj: User) -> str:
        return format_html(
            '{}<br><a href="tel:{}" dir="ltr">{}</a>',
            obj.email,
            obj.phone,
            phones.for_humans(obj.phone),
        )

    @admin.display(description=_("Joined"), ordering="date_joined")
    def joined(self, obj: User) -> str:
        return formats.date_format(timezone.localtime(obj.date_joined), "SHORT_DATE_FORMAT")

    @admin.display(description=_("Status"), ordering="is_active")
    def account_status(self, obj: User) -> str:
        if obj.is_active:
            return gettext("Active")
        if obj.activated_at is None:
            return gettext("Waiting for activation")
        return gettext("Deactivated")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                created = services.create_account(
                    **form.account_kwargs(),
                    role=data["role"],
                    active=data["active"],
                    specialty=data.get("specialty"),
                    branch=data.get("branch"),
                )
                obj.pk = created.pk
                return
            new_role = obj.role
            obj.role = User.objects.values_list("role", flat=True).get(pk=obj.pk)
            obj.normalise()
            obj.save(update_fields=["full_name", "email", "phone"])
            if new_role != obj.role:
                services.change_role(user=obj, role=new_role)
        except ValidationError as exc:
            # The form checked this already; a concurrent change can still lose the race.
            messages.error(request, "; ".join(exc.messages))

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/activate/",
                self.admin_site.admin_view(self.activate_view),
                name="accounts_user_activate",
            ),
            path(
                "<path:object_id>/deactivate/",
                self.admin_site.admin_view(self.deactivate_view),
                name="accounts_user_deactivate",
            ),
        ]
        return own + super().get_urls()

    def _user_to_change(self, request: HttpRequest, object_id: str) -> User:
        if not self.has_change_permission(request):
            raise Http404
        if not object_id.isdigit():
            raise Http404
        return get_object_or_404(User, pk=int(object_id))

    def activate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Activate button of the user's own page (POST)."""
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        user = self._user_to_change(request, object_id)
        if services.activate(user=user):
            self.message_user(
                request,
                gettext("%(name)s is active and has been told by e-mail.")
                % {"name": user.full_name},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("%(name)s was already active.") % {"name": user.full_name},
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    def deactivate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The Deactivate button of the user's own page (POST)."""
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        user = self._user_to_change(request, object_id)
        if user.pk == request.user.pk:
            self.message_user(
                request, gettext("You cannot deactivate your own account."), messages.ERROR
            )
        elif services.deactivate(user=user):
            self.message_user(
                request,
                gettext("%(name)s is deactivated.") % {"name": user.full_name},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("%(name)s was already inactive.") % {"name": user.full_name},
                messages.INFO,
            )
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    @admin.action(description=_("Activate the selected accounts"))
    def activate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(services.activate(user=user) for user in queryset)
        self.message_user(
            request,
            ngettext("%(n)d account activated.", "%(n)d accounts activated.", done) % {"n": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        me = signed_in_user(request)
        own = queryset.filter(public_id=me.public_id).exists()
        done = sum(
            services.deactivate(user=user) for user in queryset.exclude(public_id=me.public_id)
        )
        self.message_user(
            request,
            ngettext("%(n)d account deactivated.", "%(n)d accounts deactivated.", done)
            % {"n": done},
            messages.SUCCESS,
        )
        if own:
            self.message_user(
                request, gettext("You cannot deactivate your own account."), messages.WARNING
            )


class _NoDelete(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PatientProfile)
class PatientProfileAdmin(_NoDelete):
    list_display = ["user", "date_of_birth"]
    search_fields = ["user__full_name", "user__national_id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(DoctorProfile)
class DoctorProfileAdmin(_NoDelete):
    list_display = ["__str__", "specialty", "branch", "consultation_fee", "accepting_bookings"]
    list_filter = ["specialty", "branch", "accepting_bookings"]
    search_fields = ["user__full_name", "user__national_id", "slug"]
    list_select_related = ["user", "specialty", "branch"]
    raw_id_fields = ["user"]
    prepopulated_fields = {}


@admin.register(FrontDeskProfile)
class FrontDeskProfileAdmin(_NoDelete):
    list_display = ["user", "branch"]
    list_filter = ["branch"]
    search_fields = ["user__full_name", "user__national_id"]
    list_select_related = ["user", "branch"]
    raw_id_fields = ["user"]


@admin.register(AdminProfile)
class AdminProfileAdmin(_NoDelete):
    list_display = ["user", "job_title"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


# Django registers its Group admin; ours is the same without delete (the "Clinic admins" group
# is maintained by accounts.services and nothing in admin is hard-deleted).
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
