from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Case, QuerySet, Value, When
from django.http import HttpRequest

from accounts import normalise, services
from accounts.forms import NationalIdField, PhoneField
from accounts.models import AdminProfile, DoctorProfile, PatientProfile, User


class PendingFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("pending", "Waiting for activation"),
            ("active", "Active"),
            ("deactivated", "Deactivated"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        match self.value():
            case "pending":
                return queryset.pending()
            case "active":
                return queryset.filter(is_active=True)
            case "deactivated":
                return queryset.filter(is_active=False, activated_at__isnull=False)
        return queryset


class UserCreationForm(forms.ModelForm):
    national_id = NationalIdField(label="National ID", max_length=40)
    phone = PhoneField(max_length=30)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["national_id", "full_name", "email", "phone", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field, message in services.duplicate_errors(
            national_id=data.get("national_id", ""),
            email=normalise.email(data.get("email") or ""),
            phone=data.get("phone", ""),
        ).items():
            self.add_error(field, message)
        if data.get("role") == User.Role.ADMIN and not services.admin_seat_free():
            self.add_error("role", services.ADMIN_CAP_MESSAGE)
        return data

    def validate_unique(self) -> None:
        # Uniqueness is checked above in the same words as registration; the seat constraint
        # is the service's to fill.
        pass

    def validate_constraints(self) -> None:
        pass


class UserChangeForm(forms.ModelForm):
    phone = PhoneField(max_length=30)

    class Meta:
        model = User
        fields = ["full_name", "email", "phone", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field, message in services.duplicate_errors(
            national_id="",
            email=normalise.email(data.get("email") or ""),
            phone=data.get("phone", ""),
            exclude=self.instance,
        ).items():
            self.add_error(field, message)
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
    list_display = [
        "national_id",
        "full_name",
        "role",
        "account_status",
        "email",
        "phone",
        "date_joined",
    ]
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
        "is_active",
        "activated_at",
        "deactivated_at",
        "last_login",
        "date_joined",
    ]
    fieldsets = [
        (None, {"fields": ["national_id", "full_name", "email", "phone", "role"]}),
        (
            "Status",
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
        (None, {"fields": ["national_id", "full_name", "email", "phone", "role", "password"]}),
    ]
    filter_horizontal = []
    actions = ["activate_accounts", "deactivate_accounts"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is hard-deleted: deactivate instead.
        return False

    @admin.display(description="Status", ordering="is_active")
    def account_status(self, obj: User) -> str:
        if obj.is_active:
            return "Active"
        return "Waiting for activation" if obj.activated_at is None else "Deactivated"

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                if data["role"] == User.Role.ADMIN:
                    created = services.create_admin(
                        national_id=data["national_id"],
                        password=data["password"],
                        email=data["email"],
                        full_name=data["full_name"],
                        phone=data["phone"],
                    )
                else:
                    created = User.objects.create_user(
                        data["national_id"],
                        data["password"],
                        email=data["email"],
                        full_name=data["full_name"],
                        phone=data["phone"],
                        role=data["role"],
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

    @admin.action(description="Activate the selected accounts")
    def activate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(services.activate(user=user) for user in queryset)
        self.message_user(request, f"{done} account(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate the selected accounts")
    def deactivate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        own = queryset.filter(pk=request.user.pk).exists()
        done = sum(services.deactivate(user=user) for user in queryset.exclude(pk=request.user.pk))
        self.message_user(request, f"{done} account(s) deactivated.", messages.SUCCESS)
        if own:
            self.message_user(request, "You cannot deactivate your own account.", messages.WARNING)


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
