from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from directory.models import Branch, Service, Specialty


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "phone_number"]
    search_fields = ["name", "address"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=_("phone"), ordering="phone")
    def phone_number(self, obj: Branch) -> str:
        # Left to right in an Arabic page too: "+49 30 …", not "… 30 49+".
        return format_html('<span dir="ltr">{}</span>', obj.phone)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["branch", "name", "description", "price", "specialty", "doctors", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        branch = data.get("branch")
        elsewhere = [d for d in data.get("doctors") or [] if branch and d.branch_id != branch.pk]
        if elsewhere:
            self.add_error(
                "doctors",
                _("Only doctors of %(branch)s can offer its services: %(names)s.")
                % {"branch": branch, "names": ", ".join(d.display_name for d in elsewhere)},
            )
        return data


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """A branch's services and who offers them. A price change applies to bookings made from
    then on; booked appointments keep the price they were booked at. Retire a service by
    unticking "offered" (appointments point at it)."""

    form = ServiceAdminForm
    list_display = ["name", "branch", "specialty", "price", "is_active"]
    list_filter = ["is_active", "branch", "specialty"]
    search_fields = ["name", "description"]
    filter_horizontal = ["doctors"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
