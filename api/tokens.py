"""JSON Web Tokens for API clients: a 1-hour access token and a 1-day refresh token.

HS256 with a key derived from SECRET_KEY (never SECRET_KEY itself), so rotating SECRET_KEY
(with the old one in SECRET_KEY_FALLBACKS) keeps tokens valid until they expire. The payload
says who (`sub`, the user's public id), `email`, `role`, the token's `type` and its expiry;
`pwd` is a fingerprint of the password hash, so changing the password ends every token, as
it ends every browser session.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User
from api.errors import ApiError

ACCESS = "access"
REFRESH = "refresh"
LIFETIMES = {ACCESS: dt.timedelta(hours=1), REFRESH: dt.timedelta(days=1)}
ISSUER = "clinic"
AUDIENCE = "clinic-api"
ALGORITHM = "HS256"


def _key(secret: str) -> bytes:
    return salted_hmac("clinic.api.jwt", "signing-key", secret=secret, algorithm="sha256").digest()


def _password_fingerprint(user: User, secret: str | None = None) -> str:
    # The password hash and the last revocation (a deactivation): either change ends the token.
    return salted_hmac(
        "clinic.api.jwt.password", user.credentials_material(), secret=secret, algorithm="sha256"
    ).hexdigest()[:16]


def issue(user: User, token_type: str, *, now: dt.datetime | None = None) -> tuple[str, int]:
    """A signed token of that type for the user, and its lifetime in seconds."""
    now = now or timezone.now()
    lifetime = LIFETIMES[token_type]
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.public_id),
        "email": user.email,
        "role": user.role,
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "pwd": _password_fingerprint(user),
    }
    token = jwt.encode(payload, _key(settings.SECRET_KEY), algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def _decode(token: str) -> dict[str, Any]:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    last_error: jwt.InvalidTokenError = jwt.InvalidSignatureError()
    for secret in secrets:
        try:
            payload = jwt.decode(
                token,
                _key(secret),
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "type", "pwd"]},
            )
        except jwt.InvalidSignatureError as exc:
            last_error = exc
            continue
        payload["_secret"] = secret
        return payload
    raise last_error


def user_for(token: str, token_type: str) -> User:
    """The active user the token was issued to, or ApiError 401 saying why not."""
    try:
        payload = _decode(token)
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(
            401, "token_expired", _("The token has expired: refresh it or sign in again.")
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, "invalid_token", _("The token is not valid.")) from exc
    if payload.get("type") != token_type:
        raise ApiError(
            401,
            "invalid_token",
            _("This is not an access token.")
            if token_type == "access"  # noqa: S105 (a token's type, not a secret)
            else _("This is not a refresh token."),
        )
    try:
        public_id = uuid.UUID(str(payload["sub"]))
    except ValueError as exc:
        raise ApiError(401, "invalid_token", _("The token is not valid.")) from exc
    user: User | None = User.objects.filter(public_id=public_id).first()
    if user is None or not user.is_active:
        raise ApiError(401, "inactive", _("This account is not active."))
    if not constant_time_compare(
        str(payload["pwd"]), _password_fingerprint(user, payload["_secret"])
    ):
        raise ApiError(
            401,
            "token_revoked",
            _(
                "This token was revoked: the password changed or the account was deactivated "
                "since it was issued. Sign in again."
            ),
        )
    return user
