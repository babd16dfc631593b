"""Account rules: registration, activation, roles and the two-admin cap.

Every path that creates or changes an account (the registration page, Django admin, the
createsuperuser and seed commands, later the API) goes through these functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from accounts import normalise
from accounts.models import (
    ADMIN_SEATS,
    AdminProfile,
    CalendarFeed,
    Dependant,
    DoctorProfile,
    FrontDeskProfile,
    PatientProfile,
    User,
    calendar_token_hash,
)
from accounts.selectors import front_desk_branch_id

logger = logging.getLogger(__name__)

ADMIN_GROUP = "Clinic admins"
ADMIN_CAP_MESSAGE = gettext_lazy("This clinic already has two admins; a third cannot be added.")

# What the clinic's admins may do in Django admin. Nothing is ever hard-deleted, so no
# "delete" permission is granted on anything.
_ADMIN_PERMISSION_APPS = ("accounts", "directory", "scheduling", "notifications", "clinic")
_ADMIN_PERMISSION_ACTIONS = ("view", "add", "change")

# Hooks the notifications app fills in (accounts imports nothing of ours): called inside the
# activation transaction with the user, so an event is recorded with the change or not at all.
on_activated: list[Callable[[User], None]] = []
# Called inside the transaction of a new registration that waits for an admin (a patient's
# registration, a doctor's application), so the admins are told of it with the change.
on_registered: list[Callable[[User], None]] = []


class IdentifierTaken(ValidationError):
    """A registration names a national ID, e-mail or phone someone already holds."""


class AdminCapReached(ValidationError):
    def __init__(self) -> None:
        super().__init__(ADMIN_CAP_MESSAGE, code="admin_cap")


class NotFrontDesk(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("Only an active front-desk account attached to a branch can do this."),
            code="front_desk_only",
        )


def duplicate_errors(
    *, national_id: str, email: str, phone: str, exclude: User | None = None
) -> dict[str, str]:
    """Field errors for identifiers someone else holds (inputs already normalised)."""
    others = User.objects.all()
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    errors = {}
    if national_id and others.filter(national_id=national_id).exists():
        errors["national_id"] = _("An account with this national ID already exists.")
    if email and others.filter(email__iexact=email).exists():
        errors["email"] = _("An account with this e-mail address already exists.")
    if phone and others.filter(phone=phone).exists():
        errors["phone"] = _("An account with this phone number already exists.")
    return errors


def _create_user(
    *, national_id: str, password: str | None, email: str, full_name: str, phone: str, role: str
) -> User:
    user = User(national_id=national_id, email=email, full_name=full_name, phone=phone, role=role)
    user.normalise()
    errors = duplicate_errors(national_id=user.national_id, email=user.email, phone=user.phone)
    if errors:
        raise IdentifierTaken(errors)
    user.set_password(password)
    try:
        # A savepoint, so a lost race on a unique field leaves the outer transaction usable.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Someone registered the same identifier between our check and the insert.
        errors = duplicate_errors(national_id=user.national_id, email=user.email, phone=user.phone)
        if errors:
            raise IdentifierTaken(errors) from exc
        raise ValidationError(_("This account could not be created; try again.")) from exc
    return user


def registration_received(*, email: str, password: str, created: bool) -> None:
    """What a registration's sender sees and receives, the same whether an account was made
    or an identifier was already taken: so nobody learns from the page, the e-mail or the time
    taken whether someone's national ID, e-mail or phone is registered here.

    The e-mail goes to the address given: it says the registration is waiting for an admin,
    and how to get into an account that already exists. When nothing was created, the
    password is hashed all the same (the costly part of creating an account)."""
    if not created:
        make_password(password)
    body = render_to_string(
        "emails/registration_received.txt", {"clinic_name": settings.CLINIC_NAME}
    )
    try:
        send_mail(
            _("%(clinic)s: your registration") % {"clinic": settings.CLINIC_NAME},
            body,
            None,
            [email],
            fail_silently=False,
        )
    except Exception:  # a mail server that is down must not turn a registration into a 500
        logger.exception("The registration e-mail could not be sent")


@transaction.atomic
def register_patient(
    *,
    national_id: str,
    password: str,
    email: str,
    full_name: str,
    phone: str,
    date_of_birth: dt.date | None,
    medical_history: str = "",
    notify: bool = True,
) -> User:
    """A new, inactive patient with their profile; an admin activates it later (the admins
    are told, unless `notify` is off: demo data)."""
    user = _create_patient(
        national_id=national_id,
        password=password,
        email=email,
        full_name=full_name,
        phone=phone,
        date_of_birth=date_of_birth,
        medical_history=medical_history,
    )
    if notify:
        _announce_registration(user)
    return user


def _create_patient(
    *,
    national_id: str,
    password: str | None,
    email: str,
    full_name: str,
    phone: str,
    date_of_birth: dt.date | None,
    medical_history: str,
) -> User:
    """The patient row and its profile, as self-registration and the front desk both make them."""
    user = _create_user(
        national_id=national_id,
        password=password,
        email=email,
        full_name=full_name,
        phone=phone,
        role=User.Role.PATIENT,
    )
    PatientProfile.objects.create(
        user=user, date_of_birth=date_of_birth, medical_history=medical_history
    )
    return user


def _announce_registration(user: User) -> None:
    for hook in on_registered:
        hook(user)


@transaction.atomic
def register_walk_in(
    *,
    by: User,
    national_id: str,
    email: str,
    full_name: str,
    phone: str,
    date_of_birth: dt.date | None,
    medical_history: str = "",
) -> User:
    """A patient registered at the front desk, who showed their identity there: active at
    once, with no password. The activation tells them (by e-mail) how to set their own."""
    if front_desk_branch_id(by) is None:
        raise NotFrontDesk
    user = _create_patient(
        national_id=national_id,
        password=None,
        email=email,
        full_name=full_name,
        phone=phone,
        date_of_birth=date_of_birth,
        medical_history=medical_history,
    )
    activate(user=user)
    user.refresh_from_db()
    return user


@transaction.atomic
def create_account(
    *,
    national_id: str,
    password: str | None,
    email: str,
    full_name: str,
    phone: str,
    role: str,
    active: bool,
    specialty: Any = None,
    branch: Any = None,
    notify: bool = True,
) -> User:
    """An account an admin adds by hand (Django admin), of any role, with the profile its
    role has after activation; active at once when `active` (the user is told), else it
    waits in the pending list like a registration."""
    if role not in User.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role == User.Role.ADMIN:
        return create_admin(
            national_id=national_id,
            password=password,
            email=email,
            full_name=full_name,
            phone=phone,
        )
    user = _create_user(
        national_id=national_id,
        password=password,
        email=email,
        full_name=full_name,
        phone=phone,
        role=role,
    )
    if role == User.Role.DOCTOR:
        profile = DoctorProfile(user=user, specialty=specialty, branch=branch)
        profile.ensure_slug()
        profile.save()
    elif role == User.Role.FRONT_DESK:
        FrontDeskProfile.objects.create(user=user, branch=branch)
    else:
        _ensure_profile(user)
    if active:
        activate(user=user, notify=notify)
        user.refresh_from_db()
    return user


@transaction.atomic
def apply_as_doctor(
    *,
    national_id: str,
    password: str,
    email: str,
    full_name: str,
    phone: str,
    specialty: Any,
    branch: Any,
    consultation_fee: Decimal,
    bio: str = "",
    emergency_contact: str = "",
    notify: bool = True,
) -> User:
    """A doctor's application: an inactive doctor account whose profile waits for review."""
    user = _create_user(
        national_id=national_id,
        password=password,
        email=email,
        full_name=full_name,
        phone=phone,
        role=User.Role.DOCTOR,
    )
    profile = DoctorProfile(
        user=user,
        specialty=specialty,
        branch=branch,
        consultation_fee=consultation_fee,
        bio=bio,
        emergency_contact=emergency_contact,
    )
    profile.ensure_slug()
    profile.save()
    if notify:
        _announce_registration(user)
    return user


def _free_seats(exclude: User | None = None) -> list[int]:
    taken = User.objects.filter(admin_seat__isnull=False)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    seats = set(taken.values_list("admin_seat", flat=True))
    return [seat for seat in ADMIN_SEATS if seat not in seats]


def admin_seat_free(*, exclude: User | None = None) -> bool:
    """Whether one more admin fits (the user `exclude` given back their seat): the forms'
    friendly check. The seat constraint in the database is the guarantee."""
    return bool(_free_seats(exclude))


def _free_admin_seat(exclude: User | None = None) -> int:
    free = _free_seats(exclude)
    if not free:
        raise AdminCapReached
    return free[0]


def _save_with_seat(user: User) -> None:
    """Saves the user; an admin who lost their seat to a concurrent save takes the next free one.

    Two admins created at once can both see seat 1 free; the unique index lets one win. On
    PostgreSQL the loser's insert waits for the winner's commit, fails, and a fresh read (READ
    COMMITTED) then shows the seats really taken: the loser tries the next free seat, or gets
    AdminCapReached when there is none. (SQLite's IMMEDIATE transactions queue the writers, so
    there the first read is already right.)
    """
    for _attempt in ADMIN_SEATS:
        try:
            # A savepoint, so a failed insert leaves the outer transaction usable.
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            if user.role != User.Role.ADMIN:
                raise
            errors = duplicate_errors(
                national_id=user.national_id, email=user.email, phone=user.phone, exclude=user
            )
            if errors:
                raise ValidationError(errors) from exc
            user.admin_seat = _free_admin_seat(exclude=user)
        else:
            return
    raise AdminCapReached


@transaction.atomic
def create_admin(
    *,
    national_id: str,
    password: str | None,
    email: str,
    full_name: str,
    phone: str,
    superuser: bool = False,
) -> User:
    """One of the clinic's (at most two) admins, active at once."""
    user = User(national_id=national_id, email=email, full_name=full_name, phone=phone)
    user.normalise()
    errors = duplicate_errors(national_id=user.national_id, email=user.email, phone=user.phone)
    if errors:
        raise ValidationError(errors)
    user.role = User.Role.ADMIN
    user.admin_seat = _free_admin_seat()
    user.is_staff = True
    user.is_superuser = superuser
    user.is_active = True
    user.activated_at = timezone.now()
    user.set_password(password)
    _save_with_seat(user)
    AdminProfile.objects.get_or_create(user=user)
    user.groups.add(ensure_admin_group())
    return user


@transaction.atomic
def change_role(*, user: User, role: str) -> User:
    """Moves a user to another role, taking or giving back an admin seat."""
    if role not in User.Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    admin_group = ensure_admin_group()
    if role == User.Role.ADMIN:
        user.admin_seat = _free_admin_seat(exclude=user)
        user.is_staff = True
    else:
        user.admin_seat = None
        user.is_staff = False
        user.is_superuser = False
        user.groups.remove(admin_group)
    user.role = role
    _save_with_seat(user)
    if role == User.Role.ADMIN:
        user.groups.add(admin_group)
    if user.is_active:
        _ensure_profile(user)
    return user


def _ensure_profile(user: User) -> None:
    if user.role == User.Role.PATIENT:
        PatientProfile.objects.get_or_create(user=user)
    elif user.role == User.Role.ADMIN:
        AdminProfile.objects.get_or_create(user=user)
    elif user.role == User.Role.FRONT_DESK:
        FrontDeskProfile.objects.get_or_create(user=user)
    elif user.role == User.Role.DOCTOR and not hasattr(user, "doctor_profile"):
        profile = DoctorProfile(user=user, accepting_bookings=False)
        profile.ensure_slug()
        profile.save()


@transaction.atomic
def activate(*, user: User, notify: bool = True) -> bool:
    """Lets the user in and gives them the profile of their role. False if already active.
    notify=False tells no one (the `on_activated` hooks are skipped): for demo data."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return False
    user.is_active = True
    user.activated_at = user.activated_at or timezone.now()
    user.deactivated_at = None
    user.save(update_fields=["is_active", "activated_at", "deactivated_at"])
    _ensure_profile(user)
    for hook in on_activated if notify else ():
        hook(user)
    return True


@transaction.atomic
def deactivate(*, user: User) -> bool:
    """Locks the user out; every row stays. False if already inactive.

    Ends the user's access for good, not only while inactive: every browser session and API
    token issued so far is bound to `credentials_revoked_at` (User.credentials_material), so
    none works again after a later activation, and the calendar feed's address is revoked.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return False
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.credentials_revoked_at = now
    user.save(update_fields=["is_active", "deactivated_at", "credentials_revoked_at"])
    revoke_calendar_token(user=user, now=now)
    return True


def ensure_admin_group() -> Group:
    group, _created = Group.objects.get_or_create(name=ADMIN_GROUP)
    wanted = Permission.objects.filter(
        content_type__app_label__in=_ADMIN_PERMISSION_APPS,
        codename__regex=r"^(" + "|".join(_ADMIN_PERMISSION_ACTIONS) + r")_",
    )
    if set(group.permissions.values_list("pk", flat=True)) != {p.pk for p in wanted}:
        group.permissions.set(wanted)
    return group


def sync_admin_group_from_migrate(**kwargs: object) -> None:
    ensure_admin_group()


# --- Calendar feeds -----------------------------------------------------------------------


def has_calendar(user: User) -> bool:
    """Patients and doctors have appointments, so a calendar to subscribe to."""
    return user.is_active and user.role in (User.Role.PATIENT, User.Role.DOCTOR)


@transaction.atomic
def issue_calendar_token(*, user: User, now: dt.datetime | None = None) -> str:
    """A new private feed token for the user; the previous one stops working at once.
    Returns the token itself, which is not stored anywhere: show it to the user now."""
    if not has_calendar(user):
        raise ValidationError(_("Only active patients and doctors have a calendar feed."))
    token = secrets.token_urlsafe(32)
    feed, _created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    feed.token_hash = calendar_token_hash(token)
    feed.issued_at = now or timezone.now()
    feed.revoked_at = None
    feed.save()
    return token


@transaction.atomic
def revoke_calendar_token(*, user: User, now: dt.datetime | None = None) -> bool:
    """Turns the user's feed URL off. False if there was none."""
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None or feed.token_hash is None:
        return False
    feed.token_hash = None
    feed.revoked_at = now or timezone.now()
    feed.save()
    return True


def user_for_calendar_token(token: str) -> User | None:
    """The active patient or doctor whose feed this token opens, else None."""
    if not token or len(token) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=calendar_token_hash(token))
        .first()
    )
    if feed is None or not has_calendar(feed.user):
        return None
    return feed.user


def set_language(*, user: User, language: str) -> bool:
    """Keep `language` (one of settings.LANGUAGES) as the person's choice. False when it is
    not offered or already theirs."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True


# --- Family members ------------------------------------------------------------------------

MAX_DEPENDANTS = 20


@transaction.atomic
def add_dependant(
    *,
    guardian: User,
    full_name: str,
    date_of_birth: dt.date,
    relationship: str = Dependant.Relationship.CHILD,
    national_id: str = "",
    today: dt.date | None = None,
) -> Dependant:
    """A family member the patient books for. Raises ValidationError (nothing saved) when the
    details do not make one."""
    # The guardian's lock: two adds at once cannot both pass the count below.
    guardian = User.objects.select_for_update().get(pk=guardian.pk)
    if not (guardian.is_active and guardian.role == User.Role.PATIENT):
        raise ValidationError(gettext("Only patients add family members."), code="not_patient")
    dependant = Dependant(
        guardian=guardian,
        full_name=full_name,
        date_of_birth=date_of_birth,
        relationship=relationship,
        national_id=national_id,
    )
    dependant.normalise()
    if not dependant.full_name:
        raise ValidationError(gettext("Give the family member's name."), code="name")
    normalise.validate_date_of_birth(date_of_birth, today=today)
    if relationship not in Dependant.Relationship.values:
        raise ValidationError(gettext("Choose the relationship."), code="relationship")
    if dependant.national_id:
        normalise.validate_national_id(dependant.national_id)
        if dependant.national_id == guardian.national_id:
            raise ValidationError(gettext("That is your own national ID."), code="own_id")
        if Dependant.objects.of(guardian).filter(national_id=dependant.national_id).exists():
            raise ValidationError(
                gettext("A family member with this national ID is already on your profile."),
                code="duplicate",
            )
    if Dependant.objects.of(guardian).filter(is_active=True).count() >= MAX_DEPENDANTS:
        raise ValidationError(
            gettext("At most %(n)d family members can be added.") % {"n": MAX_DEPENDANTS},
            code="too_many",
        )
    dependant.save()
    return dependant


@transaction.atomic
def remove_dependant(*, dependant: Dependant) -> Dependant:
    """No more bookings for them; the row and their appointments stay (kept for the record)."""
    locked = Dependant.objects.select_for_update().get(pk=dependant.pk)
    if locked.is_active:
        locked.is_active = False
        locked.save(update_fields=["is_active"])
    return locked
