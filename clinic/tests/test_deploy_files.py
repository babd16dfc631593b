"""The Docker files, checked as far as a machine without a Docker daemon allows: the compose
file parsed and each service's dependencies, health checks, restart policy and networks
checked; the image's HEALTHCHECK command run as it is against gunicorn with production
settings (DEBUG off, a real ALLOWED_HOSTS, the HTTPS redirect on)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from clinic.tests.live import Gunicorn
from notifications.tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Services that run for good; `migrate` runs once and exits.
LONG_RUNNING = {"db", "redis", "web", "worker", "proxy"}


def healthcheck_command() -> str:
    """The Dockerfile's HEALTHCHECK CMD, its continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (.+)$", joined, re.MULTILINE)
    assert match, "the Dockerfile has no HEALTHCHECK"
    return match.group(1).strip()


def has_healthcheck(name: str) -> bool:
    service = SERVICES[name]
    check = service.get("healthcheck")
    if check is not None:
        return not check.get("disable", False) and bool(check.get("test"))
    # A service built from our Dockerfile inherits its HEALTHCHECK.
    return "build" in service and "HEALTHCHECK" in DOCKERFILE


def test_long_running_services_restart_and_the_one_off_does_not() -> None:
    assert set(SERVICES) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        assert SERVICES[name].get("restart") in ("unless-stopped", "always"), name
    assert SERVICES["migrate"].get("restart", "no") == "no"


def test_every_dependency_waits_for_a_ready_service() -> None:
    wanted = {
        "migrate": {"db": "service_healthy"},
        "web": {"migrate": "service_completed_successfully", "redis": "service_healthy"},
        "worker": {"migrate": "service_completed_successfully", "redis": "service_healthy"},
        "proxy": {"web": "service_healthy"},
    }
    for name, service in SERVICES.items():
        depends = {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        assert depends == wanted.get(name, {}), name
        for dep, condition in depends.items():
            if condition == "service_healthy":
                assert has_healthcheck(dep), f"{name} waits for {dep}, which has no health check"
    for name in ("db", "redis", "web"):
        assert has_healthcheck(name), name
    assert not has_healthcheck("worker")


def test_only_the_proxy_is_reachable_from_outside() -> None:
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    networks = {name: set(service.get("networks", [])) for name, service in SERVICES.items()}
    assert COMPOSE["networks"]["back"].get("internal") is True
    # gunicorn's port shares a network with the proxy and our own services only.
    assert {name for name, nets in networks.items() if "front" in nets} == {"proxy", "web"}
    assert networks["db"] == networks["redis"] == {"back"}
    upstream = re.search(
        r"\{\$CLINIC_UPSTREAM:([\w.-]+):(\d+)\}", (ROOT / "deploy/Caddyfile").read_text()
    )
    assert upstream is not None
    assert upstream.groups() == ("web", "8000")
    assert "--bind 0.0.0.0:8000" in DOCKERFILE


def test_the_database_password_stays_out_of_the_url() -> None:
    env = SERVICES["web"]["environment"]
    assert env["DATABASE_URL"] == "postgres://clinic@db:5432/clinic"
    assert "POSTGRES_PASSWORD" in env["DATABASE_PASSWORD"]
    for name in ("migrate", "worker"):
        assert SERVICES[name]["environment"] == env


def test_a_password_with_url_characters_reaches_the_database_settings() -> None:
    password = "p@ss/w:rd#?%"
    code = "from django.conf import settings; print(settings.DATABASES['default']['PASSWORD'])"
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "CLINIC_IGNORE_DOTENV": "1",
            "SECRET_KEY": "k" * 50,
            "DATABASE_URL": "postgres://clinic@db:5432/clinic",
            "DATABASE_PASSWORD": password,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == password


def test_the_first_admin_step_is_in_compose_and_the_readme() -> None:
    assert "manage.py ensure_admin" in " ".join(SERVICES["migrate"]["command"])
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for variable in ("NATIONAL_ID", "PASSWORD", "EMAIL", "FULL_NAME", "PHONE"):
        assert f"DJANGO_SUPERUSER_{variable}=" in example
    docker = readme[readme.index("## Docker") :]
    assert "DJANGO_SUPERUSER_" in docker
    assert "ensure_admin" in docker


@pytest.mark.django_db(transaction=True)
def test_the_images_healthcheck_passes_against_production_settings(tmp_path: Path) -> None:
    server = Gunicorn(
        tmp_path / "gunicorn.log",
        DEBUG="False",
        LOCAL_HTTP="0",
        ALLOWED_HOSTS="clinic.example.org",
        SECRET_KEY="production-like-" + "s" * 50,
    ).start()
    try:
        # Production indeed: any other path is sent to HTTPS (and, from that address, refused
        # as a host not allowed: clinic/tests/test_health.py).
        about = requests.get(
            server.url + "/about/",
            headers={"Host": "clinic.example.org"},
            allow_redirects=False,
            timeout=5,
        )
        assert about.status_code == 301
        command = healthcheck_command().replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
        argv = shlex.split(command)
        assert argv[0] == "python"
        probe = subprocess.run(
            [sys.executable, *argv[1:]], capture_output=True, text=True, timeout=30, check=False
        )
        assert probe.returncode == 0, probe.stdout + probe.stderr
    finally:
        server.stop()
