from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from common.kept import RecordedQuerySet


class Specialty(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)

    objects = RecordedQuerySet["Specialty"].as_manager()

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    objects = RecordedQuerySet["Branch"].as_manager()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceQuerySet(RecordedQuerySet["Service"]):
    def active(self) -> ServiceQuerySet:
        return self.filter(is_active=True)

    def offered_by(self, doctor_id: int) -> ServiceQuerySet:
        return self.active().filter(doctors=doctor_id)


class Service(models.Model):
    """A branch's priced offering (a consultation, a check-up, a vaccination), offered by some
    of its doctors. An appointment keeps the service and its price as they were when it was
    booked; a later price change rewrites no history. Retired, never deleted."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="services", verbose_name=_("branch")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price"), max_digits=8, decimal_places=2, help_text=_("In the clinic's currency.")
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.PROTECT,
        related_name="services",
        null=True,
        blank=True,
        verbose_name=_("specialty"),
    )
    # Doctors of the branch who offer it. accounts does not import directory, so the link is
    # kept here, on the service.
    doctors = models.ManyToManyField(
        "accounts.DoctorProfile",
        related_name="services",
        blank=True,
        verbose_name=_("offered by"),
    )
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["branch", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="directory_service_price_not_negative"
            ),
            models.UniqueConstraint(
                fields=["branch", "name"],
                condition=models.Q(is_active=True),
                name="directory_service_unique_active_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.branch})"
