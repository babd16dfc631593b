"""Writes the audit trail.

Changes to the tracked models (audit.tracked) are recorded from Django's pre_save/post_save
signals, so every path that saves a row is covered: the services, Django admin, the profile
forms, the management commands. The entry is written in the transaction of the change: a
change that rolls back leaves no entry, one that commits always has its entry.

Queryset update(), bulk_create() and bulk_update() send no signals: the tracked models'
querysets refuse them at run time (common.kept.RecordedQuerySet), so each write goes through
save().
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest
from django.utils import translation

from accounts import normalise
from audit import context
from audit.models import AuditEntry
from audit.tracked import TRACKED, Tracked, object_type
from common import ratelimit
from common.client import client_ip, user_agent

HIDDEN = "(hidden)"
CHANGED = "(changed)"
SET = "(set)"


# --- Who, from where -----------------------------------------------------------------------


def actor_label(user: Any) -> str:
    return f"{user.full_name} ({user.national_id})"


def _request_user(request: HttpRequest) -> Any:
    """The signed-in user: the session's, or the one an API token authenticated (ninja puts
    it in `request.auth` and leaves `request.user` anonymous)."""
    for candidate in (getattr(request, "user", None), getattr(request, "auth", None)):
        if candidate is not None and getattr(candidate, "is_authenticated", False) is True:
            return candidate
    return None


def record(
    action: str,
    *,
    object_type: str = "",
    object_key: str = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    request: HttpRequest | None = None,
    actor: Any = None,
) -> AuditEntry:
    """One entry, with the actor and the client taken from the request being served (or
    the given one) or, outside a request, from the command being run."""
    ctx = context.current()
    request = request if request is not None else ctx.request
    fields: dict[str, Any] = {"source": ctx.source}
    if request is not None:
        actor = actor or _request_user(request)
        fields.update(
            source="web",
            ip=client_ip(request),
            user_agent=user_agent(request),
            request=f"{request.method} {request.path}"[:300],
        )
    if actor is not None:
        label = actor_label(actor)
    else:
        label = "anonymous" if request is not None else ctx.source
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_label=label[:200],
        object_type=object_type,
        object_key=str(object_key)[:100],
        object_repr=object_repr[:200],
        before=before,
        after=after,
        detail=detail[:300],
        **fields,
    )


# --- Model changes -------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # One spelling whatever the source: the database returns UTC, a service local time.
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def _fields(model: type[models.Model], spec: Tracked, update_fields: Any) -> list[models.Field]:
    fields = [
        f for f in model._meta.concrete_fields if not f.primary_key and f.name not in spec.ignored
    ]
    if update_fields is not None:
        wanted = set(update_fields)
        fields = [f for f in fields if f.name in wanted or f.attname in wanted]
    return fields


def _describe(field: models.Field, raw: Any, instance: models.Model | None) -> Any:
    """A field's value for the trail; a foreign key as its target's key, never its id."""
    if raw is None or not isinstance(field, models.ForeignKey):
        return _plain(raw)
    target = None
    if instance is not None and field.is_cached(instance):
        cached = field.get_cached_value(instance)
        if cached is not None and cached.pk == raw:
            target = cached
    related: type[models.Model] = field.related_model
    if target is None:
        target = related._base_manager.filter(pk=raw).first()
    if target is None:
        return None
    spec = TRACKED.get(related._meta.concrete_model or related)
    return spec.key(target) if spec else str(target)


def _normalised(field: models.Field, value: Any) -> Any:
    try:
        return field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return value


def _tracked(sender: type[models.Model]) -> Tracked | None:
    return TRACKED.get(sender._meta.concrete_model or sender)


def before_save(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    using: str | None = None,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    spec = _tracked(sender)
    if spec is None:
        return
    instance.__dict__["_audit_before"] = None
    if instance._state.adding or instance.pk is None:
        return
    fields = _fields(sender, spec, update_fields)
    if not fields:
        return
    # The row as it is now; services hold its lock already, so this is what they change.
    instance.__dict__["_audit_before"] = (
        sender._base_manager.using(using)
        .filter(pk=instance.pk)
        .values(*[f.attname for f in fields])
        .first()
    )


def after_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool = False,
    raw: bool = False,
    using: str | None = None,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    spec = _tracked(sender)
    if spec is None:
        return
    previous = instance.__dict__.pop("_audit_before", None)
    fields = _fields(sender, spec, update_fields)
    model = sender._meta.concrete_model or sender
    if created or previous is None:
        after = {
            f.name: (SET if getattr(instance, f.attname) else "")
            if f.name in spec.secret
            else _describe(f, getattr(instance, f.attname), instance)
            for f in fields
        }
        action, before = f"{spec.name}.created", None
    else:
        changed = [
            f
            for f in fields
            if _normalised(f, previous[f.attname]) != _normalised(f, getattr(instance, f.attname))
        ]
        if not changed:
            return
        before, after = {}, {}
        for f in changed:
            if f.name in spec.secret:
                before[f.name], after[f.name] = HIDDEN, CHANGED
            else:
                before[f.name] = _describe(f, previous[f.attname], None)
                after[f.name] = _describe(f, getattr(instance, f.attname), instance)
        action = f"{spec.name}.{spec.name_change(before, after)}"
    # The trail is kept for good and read by every admin: an object's name is written in the
    # clinic's language, not in the language of whoever acted ("Dr. …", not "د. …").
    with translation.override(settings.LANGUAGE_CODE):
        object_repr = str(instance)
    record(
        action,
        object_type=object_type(model),
        object_key=spec.key(instance),
        object_repr=object_repr,
        before=before,
        after=after,
    )


# --- Logins, refusals ----------------------------------------------------------------------


class Target(TypedDict):
    object_type: str
    object_key: str


def _user_target(national_id: str) -> Target:
    return {"object_type": "accounts.user", "object_key": national_id}


def logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record("login.succeeded", request=request, actor=user, **_user_target(user.national_id))


def logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record("logout", request=request, actor=user, **_user_target(user.national_id))


def login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; only the national ID is kept,
    # in its canonical form, whether or not such an account exists.
    typed = normalise.national_id(
        str(credentials.get("username") or credentials.get("national_id") or "")
    )
    record("login.failed", request=request, **_user_target(typed))


def locked_out(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    record(
        "login.locked_out",
        request=request,
        detail="Too many failed logins for this national ID from this address.",
        **_user_target(username or ""),
    )


def rate_limited(request: HttpRequest, scope: str) -> None:
    record("ratelimit.refused", request=request, detail=f"Rate limit '{scope}' reached.")


def connect() -> None:
    from axes.signals import user_locked_out

    for model in TRACKED:
        pre_save.connect(before_save, sender=model, dispatch_uid=f"audit-pre-{model}")
        post_save.connect(after_save, sender=model, dispatch_uid=f"audit-post-{model}")
    user_logged_in.connect(logged_in, dispatch_uid="audit-logged-in")
    user_logged_out.connect(logged_out, dispatch_uid="audit-logged-out")
    user_login_failed.connect(login_failed, dispatch_uid="audit-login-failed")
    user_locked_out.connect(locked_out, dispatch_uid="audit-locked-out")
    if rate_limited not in ratelimit.on_refused:
        ratelimit.on_refused.append(rate_limited)
