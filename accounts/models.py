from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import normalise
from common.kept import KeptForever, KeptQuerySet, RecordedQuerySet

# The clinic's admins hold one of these seats; the database allows no third.
ADMIN_SEATS = (1, 2)


class UserQuerySet(KeptQuerySet["User"]):
    def pending(self) -> UserQuerySet:
        return self.filter(is_active=False, activated_at__isnull=True)

    def active(self) -> UserQuerySet:
        return self.filter(is_active=True)

    def patients(self) -> UserQuerySet:
        return self.filter(role=User.Role.PATIENT)

    def doctors(self) -> UserQuerySet:
        return self.filter(role=User.Role.DOCTOR)

    def admins(self) -> UserQuerySet:
        return self.filter(role=User.Role.ADMIN)

    def front_desk(self) -> UserQuerySet:
        return self.filter(role=User.Role.FRONT_DESK)


# django-stubs cannot follow from_queryset() in a class's bases (its plugin knows only the
# module-level form, which would rename the manager the migrations name).
class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def create_user(self, national_id: str, password: str | None = None, **fields: object) -> User:
        """A plain row; registration, activation and roles go through accounts.services."""
        user = self.model(national_id=national_id, **fields)
        user.normalise()
        user.set_password(password)
        user.save(using=self._db)
        return user

    # Set by AccountsConfig.ready to accounts.services.create_admin: an admin takes a seat, a
    # group and a profile, which are the service's business. The model does not import the
    # services (they import it).
    make_admin: ClassVar[Callable[..., User] | None] = None

    def create_superuser(
        self, national_id: str, password: str | None = None, **fields: object
    ) -> User:
        """Django's createsuperuser lands here: one of the two admin seats."""
        if UserManager.make_admin is None:
            raise RuntimeError("The accounts app is not ready: admins are made by its services.")
        return UserManager.make_admin(
            national_id=national_id,
            password=password,
            email=str(fields.get("email", "")),
            full_name=str(fields.get("full_name", "")),
            phone=str(fields.get("phone", "")),
            superuser=True,
        )


class User(KeptForever, AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        DOCTOR = "doctor", _("Doctor")
        ADMIN = "admin", _("Admin")
        # Reception staff of one branch: not an admin, so not in the two-admin cap.
        FRONT_DESK = "front_desk", _("Front desk")

    # Names the user to API clients and in URLs: never the database id, nor the national ID
    # (which would end up in access logs).
    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    national_id = models.CharField(
        _("national ID"),
        max_length=20,
        unique=True,
        validators=[normalise.validate_national_id],
        help_text=_("Used to sign in. Spaces and dashes are ignored."),
    )
    email = models.EmailField(_("e-mail"))
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(
        _("phone"), max_length=20, help_text=_("Stored in international form (+49…).")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.PATIENT)
    # The language the person chose (the header's switcher, or the one they registered in); ""
    # until then. Their pages after login, their e-mails and .ics invitations use it
    # (clinic.i18n). No choices here: settings.LANGUAGES comes from the environment.
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    admin_seat = models.PositiveSmallIntegerField(
        _("admin seat"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Which of the two admin seats."),
    )
    # Every registration waits for an admin: inactive until activated in Django admin.
    is_active = models.BooleanField(_("active"), default=False)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)
    # Every session and API token issued before this instant is void, even once the account
    # is active again (set by accounts.services.deactivate).
    credentials_revoked_at = models.DateTimeField(
        _("credentials revoked"), null=True, blank=True, editable=False
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "national_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email", "full_name", "phone"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(fields=["phone"], name="accounts_user_phone_unique"),
            models.UniqueConstraint(fields=["admin_seat"], name="accounts_user_admin_seat_unique"),
            # The two-admin cap: an admin holds seat 1 or 2, and nobody else holds a seat.
            # "Not null" is spelled out: a NULL seat makes "IN (1, 2)" unknown, and a check
            # constraint lets an unknown result pass.
            models.CheckConstraint(
                condition=(
                    Q(role="admin") & Q(admin_seat__isnull=False, admin_seat__in=ADMIN_SEATS)
                )
                | (~Q(role="admin") & Q(admin_seat__isnull=True)),
                name="accounts_user_admin_holds_seat",
            ),
            # Only admins reach Django admin.
            models.CheckConstraint(
                condition=Q(role="admin") | Q(is_staff=False, is_superuser=False),
                name="accounts_user_staff_are_admins",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["patient", "doctor", "admin", "front_desk"]),
                name="accounts_user_role_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active", "activated_at"], name="accounts_user_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.national_id})"

    def normalise(self) -> None:
        self.national_id = normalise.national_id(self.national_id)
        self.email = normalise.email(self.email)
        self.full_name = normalise.name(self.full_name)
        if self.phone:
            self.phone = normalise.phone(self.phone)

    def clean(self) -> None:
        super().clean()
        self.normalise()

    def credentials_material(self) -> str:
        """What a browser session and an API token are bound to: the password hash (a new
        password ends them) and the last revocation (a deactivation ends them for good).
        Unchanged for an account never revoked, so sessions made before it was added hold."""
        if self.credentials_revoked_at is None:
            return self.password
        return f"{self.password}|{self.credentials_revoked_at.isoformat()}"

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's own, over credentials_material() instead of the password alone.
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            self.credentials_material(),
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.national_id

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == self.Role.DOCTOR

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_front_desk(self) -> bool:
        return self.role == self.Role.FRONT_DESK

    @property
    def is_pending(self) -> bool:
        return not self.is_active and self.activated_at is None


class PatientProfile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="patient_profile", verbose_name=_("user")
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    medical_history = models.TextField(
        _("medical history"),
        blank=True,
        help_text=_("Shown only to the patient and the doctors they book."),
    )

    objects = RecordedQuerySet["PatientProfile"].as_manager()

    class Meta:
        verbose_name = _("patient profile")
        verbose_name_plural = _("patient profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte="1900-01-01") | Q(date_of_birth__isnull=True),
                name="accounts_patient_dob_plausible",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Patient %(name)s") % {"name": self.user.full_name}


class DependantQuerySet(KeptQuerySet["Dependant"]):
    def active(self) -> DependantQuerySet:
        """Those the guardian may still book for: not removed, not linked to an account."""
        return self.filter(is_active=True, user__isnull=True)

    def of(self, guardian: User) -> DependantQuerySet:
        return self.filter(guardian=guardian)


class Dependant(KeptForever, models.Model):
    """A family member a patient books for (a child, a parent in their care). The patient
    (the guardian) holds the appointments and gets the e-mails; the appointment names the
    dependant as the person seen. A dependant who later registers is linked to their own
    account by an admin (`user`): their appointments become theirs, history kept."""

    class Relationship(models.TextChoices):
        CHILD = "child", _("Child")
        PARTNER = "partner", _("Partner")
        PARENT = "parent", _("Parent")
        OTHER = "other", _("Other")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    guardian = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="dependants", verbose_name=_("guardian")
    )
    full_name = models.CharField(_("full name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    relationship = models.CharField(
        _("relationship"), max_length=10, choices=Relationship.choices, default=Relationship.CHILD
    )
    national_id = models.CharField(
        _("national ID"),
        max_length=20,
        blank=True,
        validators=[normalise.validate_national_id],
        help_text=_("When they have one. Spaces and dashes are ignored."),
    )
    # Their own account, once they registered and an admin linked them.
    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        related_name="as_dependant",
        null=True,
        blank=True,
        verbose_name=_("own account"),
    )
    linked_at = models.DateTimeField(_("linked"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DependantQuerySet.as_manager()

    class Meta:
        ordering = ["guardian", "full_name"]
        verbose_name = _("dependant")
        verbose_name_plural = _("dependants")
        constraints = [
            # One family member once per guardian (by national ID, when they have one).
            models.UniqueConstraint(
                fields=["guardian", "national_id"],
                condition=~Q(national_id=""),
                name="accounts_dependant_unique_national_id",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(linked_at__isnull=False),
                name="accounts_dependant_link_has_time",
            ),
            models.CheckConstraint(
                condition=Q(relationship__in=["child", "partner", "parent", "other"]),
                name="accounts_dependant_relationship_valid",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (%(relationship)s of %(guardian)s)") % {
            "name": self.full_name,
            "relationship": self.get_relationship_display(),
            "guardian": self.guardian.full_name,
        }

    def normalise(self) -> None:
        self.national_id = normalise.national_id(self.national_id)
        self.full_name = normalise.name(self.full_name)


class DoctorProfileQuerySet(KeptQuerySet["DoctorProfile"]):
    def listed(self) -> DoctorProfileQuerySet:
        """Doctors a patient can find: active accounts with a specialty and a branch."""
        return self.filter(
            user__is_active=True, specialty__isnull=False, branch__isnull=False
        ).select_related("user", "specialty", "branch")


class DoctorProfile(KeptForever, models.Model):
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="doctor_profile", verbose_name=_("user")
    )
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    # Reference data of the directory app; a doctor may be activated before an admin has
    # filled these in, and is listed in the directory only once both are set.
    specialty = models.ForeignKey(
        "directory.Specialty",
        on_delete=models.PROTECT,
        related_name="doctors",
        null=True,
        blank=True,
        verbose_name=_("specialty"),
    )
    branch = models.ForeignKey(
        "directory.Branch",
        on_delete=models.PROTECT,
        related_name="doctors",
        null=True,
        blank=True,
        verbose_name=_("branch"),
    )
    bio = models.TextField(_("bio"), blank=True)
    consultation_fee = models.DecimalField(
        _("consultation fee"), max_digits=8, decimal_places=2, default=0
    )
    emergency_contact = models.CharField(_("emergency contact"), max_length=150, blank=True)
    accepting_bookings = models.BooleanField(_("accepting bookings"), default=True)
    email_on_new_booking = models.BooleanField(_("e-mail me about new bookings"), default=False)

    objects = DoctorProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("doctor profile")
        verbose_name_plural = _("doctor profiles")
        ordering = ["user__full_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(consultation_fee__gte=0), name="accounts_doctor_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Dr. {self.user.full_name}"

    @property
    def is_listed(self) -> bool:
        """DoctorProfileQuerySet.listed for one loaded row: an active account with a
        specialty and a branch."""
        return self.user.is_active and self.specialty_id is not None and self.branch_id is not None

    @property
    def display_name(self) -> str:
        # "Dr." in every language: the same in German, and in Arabic it stays with the Latin
        # name it precedes. Webhook payloads and the API carry it too, which must not change
        # with the language of whoever acted.
        return f"Dr. {self.user.full_name}"

    def ensure_slug(self) -> None:
        if self.slug:
            return
        base = slugify(self.user.full_name)[:60] or "doctor"
        candidate, n = base, 2
        while DoctorProfile.objects.filter(slug=candidate).exclude(pk=self.pk).exists():
            candidate, n = f"{base}-{n}", n + 1
        self.slug = candidate


class AdminProfile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="admin_profile", verbose_name=_("user")
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("admin profile")
        verbose_name_plural = _("admin profiles")

    def __str__(self) -> str:
        return gettext("Admin %(name)s") % {"name": self.user.full_name}


class FrontDeskProfile(models.Model):
    """Reception staff of one branch: they register walk-in patients, book for them with the
    branch's doctors and run the branch's day. No branch yet means no front-desk pages."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="front_desk_profile", verbose_name=_("user")
    )
    branch = models.ForeignKey(
        "directory.Branch",
        on_delete=models.PROTECT,
        related_name="front_desk",
        null=True,
        blank=True,
        verbose_name=_("branch"),
    )

    objects = RecordedQuerySet["FrontDeskProfile"].as_manager()

    class Meta:
        verbose_name = _("front-desk profile")
        verbose_name_plural = _("front-desk profiles")

    def __str__(self) -> str:
        if self.branch_id:
            return gettext("Front desk %(name)s at %(branch)s") % {
                "name": self.user.full_name,
                "branch": self.branch,
            }
        return gettext("Front desk %(name)s") % {"name": self.user.full_name}


def calendar_token_hash(token: str) -> str:
    """What is stored of a calendar feed token. The token is 256 random bits, so a fast hash
    without salt is enough: nobody can search that space, and the lookup stays an index hit."""
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A user's private calendar subscription (an .ics URL with a random token in it).

    Only the SHA-256 of the token is kept: the URL is shown once, when it is made, and a
    copy of the database does not let anyone read someone's calendar.
    """

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="calendar_feed", verbose_name=_("user")
    )
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=Q(token_hash__isnull=True) | Q(issued_at__isnull=False),
                name="accounts_calendarfeed_token_has_time",
            ),
        ]

    def __str__(self) -> str:
        if self.is_active:
            return gettext("Calendar feed of %(name)s (active)") % {"name": self.user.full_name}
        return gettext("Calendar feed of %(name)s (revoked)") % {"name": self.user.full_name}

    @property
    def is_active(self) -> bool:
        return self.token_hash is not None
