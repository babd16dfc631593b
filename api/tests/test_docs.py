"""/api/docs/ works offline under our Content Security Policy; /api/openapi.json is the
OpenAPI 3 schema."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client


@pytest.mark.django_db
def test_docs_page_uses_only_our_own_static_files(client: Client, settings: object) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html
    assert "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    static = "/" + settings.STATIC_URL.lstrip("/")  # type: ignore[attr-defined]
    for asset in assets:
        assert asset.startswith(static), asset
        assert finders.find(asset.removeprefix(static)), f"{asset} is not one of our files"
        assert client.get(asset).status_code == 200, asset


@pytest.mark.django_db
def test_docs_page_runs_no_inline_script_and_is_under_our_csp(client: Client) -> None:
    response = client.get("/api/docs/")
    html = response.content.decode()

    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # Each script is a file of ours, or data (JSON) that the browser does not run.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes
        if "src=" in attributes:
            assert not body.strip()


@pytest.mark.django_db
def test_the_swagger_bundle_calls_no_validator_service(client: Client) -> None:
    html = client.get("/api/docs/").content.decode()

    assert '"validatorUrl": null' in html


@pytest.mark.django_db
def test_openapi_schema_lists_the_api(client: Client) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in schema["paths"]
    assert "/api/v1/doctors/{slug}/availability" in schema["paths"]
    book = schema["paths"]["/api/v1/appointments"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in book["parameters"])
    assert {"401", "403", "409", "422"} <= set(book["responses"])
    # A doctor carries the next free time the directory's cards show, null when none.
    doctor = schema["components"]["schemas"]["DoctorOut"]
    assert "next_free" in doctor["required"]
    assert {"$ref": "#/components/schemas/Opening"} in doctor["properties"]["next_free"]["anyOf"]
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    # No database id anywhere: ids are UUIDs, doctors slugs.
    text = response.content.decode()
    assert '"pk"' not in text
