"""The API: /api/v1/..., its OpenAPI schema at /api/openapi.json and docs at /api/docs/."""

from __future__ import annotations

from django.views.decorators.cache import never_cache
from ninja import NinjaAPI, Swagger

from api import auth, errors
from api.endpoints import admin, appointments, directory, doctor, family, patients, waitlist
from api.endpoints import auth as auth_endpoints

DESCRIPTION = """
The clinic's JSON API: the same rules as the web pages (the same services run them).

**Sign in**: `POST /api/v1/auth/token` with a national ID and password returns an access
token (1 hour) and a refresh token (1 day). Send `Authorization: Bearer <access token>`;
`POST /api/v1/auth/refresh` gives a new access token. A signed-in browser session works too
(with the `X-CSRFToken` header on POST/PUT).

**Errors** are JSON `{"detail": "...", "code": "..."}`: 400, 401, 403, 404, 409, 422, 429.

**Idempotency**: send an `Idempotency-Key` header when booking; the same key again returns
the same appointment instead of booking twice.
"""

api = NinjaAPI(
    title="Clinic API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[auth.bearer, auth.session],
    openapi_url="/openapi.json",
    docs_url="/docs/",
    # Swagger UI from ninja's own static files (no CDN), started by its init script (no
    # inline script: our Content Security Policy allows scripts from our origin only).
    # No validator badge: it would call out to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=never_cache,
)
errors.install(api)

api.add_router("/v1/", auth_endpoints.router)
api.add_router("/v1/", directory.router)
api.add_router("/v1/", appointments.router)
api.add_router("/v1/", family.router)
api.add_router("/v1/", waitlist.router)
api.add_router("/v1/", doctor.router)
api.add_router("/v1/", patients.router)
api.add_router("/v1/", admin.router)
