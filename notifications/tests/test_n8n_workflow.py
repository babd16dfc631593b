"""docs/n8n-workflow.json imports into n8n, and its Code node verifies our signatures: run
under Node.js against real deliveries, it accepts them, refuses forgeries and stale requests,
and handles a retried event once."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from time_machine import escape_hatch

from accounts.models import User
from notifications import delivery, signing
from notifications.models import Delivery
from notifications.tests.conftest import ROOT, SECRET
from scheduling.models import Appointment

WORKFLOW = ROOT / "docs" / "n8n-workflow.json"
RUNNER = ROOT / "notifications" / "tests" / "n8n_code_node.js"
PLACEHOLDER = "whsec_REPLACE_WITH_WEBHOOK_SECRET"


def workflow() -> dict[str, Any]:
    return json.loads(WORKFLOW.read_text())


def node(kind: str) -> dict[str, Any]:
    [found] = [n for n in workflow()["nodes"] if n["type"] == kind]
    return found


def test_workflow_is_webhook_then_verify_then_email() -> None:
    flow = workflow()
    names = {n["name"]: n["type"] for n in flow["nodes"]}
    chain, current = [], "Clinic webhook"
    while current:
        chain.append(names[current])
        targets = flow["connections"].get(current, {}).get("main", [[]])[0]
        current = targets[0]["node"] if targets else None

    assert chain == [
        "n8n-nodes-base.webhook",
        "n8n-nodes-base.code",
        "n8n-nodes-base.respondToWebhook",
        "n8n-nodes-base.emailSend",
    ]
    hook = node("n8n-nodes-base.webhook")["parameters"]
    assert hook["httpMethod"] == "POST"
    assert hook["options"]["rawBody"] is True  # the signature is over the bytes as sent
    assert PLACEHOLDER in node("n8n-nodes-base.code")["parameters"]["jsCode"]


def run_code_node(
    headers: dict[str, str], body: bytes, static: dict | None = None
) -> dict[str, Any]:
    node_js = shutil.which("node")
    if node_js is None:
        pytest.skip("Node.js is not installed (make setup needs it for the front-end packages)")
    code = node("n8n-nodes-base.code")["parameters"]["jsCode"].replace(PLACEHOLDER, SECRET)
    result = subprocess.run(
        [node_js, str(RUNNER)],
        input=json.dumps(
            {
                "code": code,
                "headers": {k.lower(): v for k, v in headers.items()},
                "body_b64": base64.b64encode(body).decode(),
                "staticData": static or {},
            }
        ),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture
def sent(
    book: Callable[..., Appointment], patient: User, receiver: object
) -> tuple[dict[str, str], bytes]:
    """The headers and body of a real delivery, for a patient whose name is not ASCII."""
    patient.full_name = "Zoë Müller"
    patient.save()
    book()
    d = Delivery.objects.get(channel="webhook")
    body = delivery.body_of(d)
    # Signed now by the wall clock: Node.js does not share the tests' frozen clock.
    now = int(escape_hatch.time.time())
    return signing.headers(secret=SECRET, msg_id=str(d.event_id), body=body, timestamp=now), body


@pytest.mark.django_db
def test_code_node_accepts_our_delivery_and_writes_the_mail(
    sent: tuple[dict[str, str], bytes], patient: User
) -> None:
    headers, body = sent

    result = run_code_node(headers, body)

    assert result["ok"], result
    [item] = result["out"]
    assert item["json"]["to"] == patient.email
    assert item["json"]["subject"] == "Your appointment with Dr. Dora Doctor is booked"
    assert "Hello Zoë Müller," in item["json"]["text"]
    assert "at Riverside on Tuesday, 9 June 2026 at 10:00 is booked" in item["json"]["text"]


@pytest.mark.django_db
def test_code_node_refuses_a_tampered_body(sent: tuple[dict[str, str], bytes]) -> None:
    headers, body = sent

    result = run_code_node(headers, body.replace(b"Riverside", b"Elsewhere"))

    assert result == {"ok": False, "error": "Bad webhook signature", "staticData": {}}


@pytest.mark.django_db
def test_code_node_refuses_a_stale_request(sent: tuple[dict[str, str], bytes]) -> None:
    headers, body = sent
    old = signing.headers(
        secret=SECRET,
        msg_id=headers["webhook-id"],
        body=body,
        timestamp=int(escape_hatch.time.time()) - 900,
    )

    result = run_code_node(old, body)

    assert not result["ok"]
    assert result["error"].startswith("Stale webhook timestamp")


@pytest.mark.django_db
def test_code_node_handles_a_retried_event_once(sent: tuple[dict[str, str], bytes]) -> None:
    headers, body = sent

    first = run_code_node(headers, body)
    retry = run_code_node(headers, body, static=first["staticData"])

    assert len(first["out"]) == 1
    assert retry == {"ok": True, "out": [], "staticData": first["staticData"]}
