"""docs/n8n-workflow.json answers honestly: 2xx only once the patient's e-mail is out (or there
is nothing to write), 401 to whatever is not a fresh request signed with our secret, 5xx when
n8n is set up wrong or the e-mail fails, so that Clinic retries instead of losing the event.

n8n answers 200 when a workflow whose Webhook node waits for a "Respond to Webhook" node ends
without reaching one (an error in a node included), so every way through the graph must end in
a Respond node, and every node that can fail must send its failure to one. The graph is checked
here, and its Code nodes run under Node.js against real deliveries; which Respond node answers
follows from what they return and from the connections. scripts/n8n-check proves the same
against a real n8n."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from time_machine import escape_hatch

from accounts.models import User
from notifications import delivery, signing
from notifications.models import Delivery, Event
from notifications.tests.conftest import ROOT, SECRET
from scheduling.models import Appointment

WORKFLOW = ROOT / "docs" / "n8n-workflow.json"
RUNNER = ROOT / "notifications" / "tests" / "n8n_code_node.js"
RESPOND = "n8n-nodes-base.respondToWebhook"
IF = "n8n-nodes-base.if"
WEBHOOK = "n8n-nodes-base.webhook"


def workflow() -> dict[str, Any]:
    return json.loads(WORKFLOW.read_text())


def nodes() -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in workflow()["nodes"]}


def outputs(name: str) -> list[list[str]]:
    """The node's outputs, each the names of the nodes it leads to (for a node whose errors
    go to an error output, that output is the last)."""
    return [
        [target["node"] for target in targets]
        for targets in workflow()["connections"].get(name, {}).get("main", [])
    ]


def code_of(name: str) -> str:
    return nodes()[name]["parameters"]["jsCode"]


def status_of(respond: dict[str, Any]) -> int:
    return respond["parameters"].get("options", {}).get("responseCode", 200)


# --- The graph ----------------------------------------------------------------------------


def paths(name: str, so_far: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every way through the graph from `name`, each output taken in turn; an error output
    is marked by a "!" before the node it leads to."""
    path = (*so_far, name)
    outs = outputs(name.lstrip("!"))
    node = nodes()[name.lstrip("!")]
    if not outs:
        yield path
        return
    for index, targets in enumerate(outs):
        is_error = node.get("onError") == "continueErrorOutput" and index == len(outs) - 1
        for target in targets:
            yield from paths(("!" if is_error else "") + target, path)


def test_the_webhook_waits_for_a_respond_node_and_keeps_the_raw_body() -> None:
    [hook] = [n for n in nodes().values() if n["type"] == WEBHOOK]
    params = hook["parameters"]

    assert params["httpMethod"] == "POST"
    assert params["responseMode"] == "responseNode"
    assert params["options"]["rawBody"] is True  # the signature is over the bytes as sent


def test_every_path_ends_in_exactly_one_respond_node() -> None:
    found = list(paths("Clinic webhook"))

    assert len(found) >= 5
    for path in found:
        kinds = [nodes()[step.lstrip("!")]["type"] for step in path]
        assert kinds[-1] == RESPOND, path
        assert kinds.count(RESPOND) == 1, path


def test_every_node_that_can_fail_sends_its_failure_to_a_5xx_answer() -> None:
    for name, node in nodes().items():
        if node["type"] in (WEBHOOK, RESPOND, IF):
            continue
        assert node.get("onError") == "continueErrorOutput", name
        *_, error_targets = outputs(name)
        assert len(outputs(name)) == 2, name
        [target] = error_targets
        assert nodes()[target]["type"] == RESPOND, name
        assert status_of(nodes()[target]) >= 500, name


def test_only_a_sent_email_or_nothing_to_send_answers_2xx() -> None:
    for path in paths("Clinic webhook"):
        answer = status_of(nodes()[path[-1].lstrip("!")])
        through_error = any(step.startswith("!") for step in path)
        if 200 <= answer < 300:
            assert not through_error, path
            mailed = "E-mail the patient" in path
            assert mailed or "Write to the patient?" in path, path
        else:
            assert answer in (401,) or answer >= 500, path


def test_the_secret_comes_from_the_environment_and_the_credential_by_its_name() -> None:
    verify = code_of("Verify signature")

    assert "$env.CLINIC_WEBHOOK_SECRET" in verify
    assert "whsec_" not in verify.replace("'whsec_'", "")  # no secret written in the file
    assert not re.search(r"REPLACE|PLACEHOLDER", json.dumps(workflow()))
    [mail] = [n for n in nodes().values() if n["type"] == "n8n-nodes-base.emailSend"]
    # The README's setup creates a credential of this name; importing links it by name.
    assert mail["credentials"]["smtp"]["name"] == "Clinic SMTP"


# --- The Code nodes under Node.js, and where their result leads -----------------------------


def run_node(name: str, **given: Any) -> dict[str, Any]:
    node_js = shutil.which("node")
    if node_js is None:
        pytest.skip("Node.js is not installed (make setup needs it for the front-end packages)")
    given.setdefault("env", {"CLINIC_WEBHOOK_SECRET": SECRET})
    result = subprocess.run(
        [node_js, str(RUNNER)],
        input=json.dumps({"code": code_of(name), **given}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def verify(headers: dict[str, str], body: bytes, **given: Any) -> dict[str, Any]:
    return run_node(
        "Verify signature",
        headers={k.lower(): v for k, v in headers.items()},
        body_b64=base64.b64encode(body).decode(),
        **given,
    )


def answer(result: dict[str, Any], *, mail_fails: bool = False) -> int:
    """The status n8n answers, following the connections from "Verify signature" with what
    it returned (or threw); IF nodes test the `$json` field their condition names."""
    name, item = "Verify signature", None
    while True:
        node = nodes()[name]
        if node["type"] == RESPOND:
            return status_of(node)
        outs = outputs(name)
        if node["type"] == IF:
            [condition] = node["parameters"]["conditions"]["conditions"]
            field = re.fullmatch(r"=\{\{ \$json\.(\w+) \}\}", condition["leftValue"]).group(1)
            name = outs[0 if item["json"][field] is True else 1][0]
        elif name == "Verify signature":
            if not result["ok"]:
                name = outs[-1][0]
                continue
            [item] = result["out"]
            name = outs[0][0]
        elif name == "E-mail the patient":
            name = outs[-1 if mail_fails else 0][0]
        else:
            name = outs[0][0]


@pytest.fixture
def sent(
    book: Callable[..., Appointment], patient: User, receiver: object
) -> tuple[dict[str, str], bytes]:
    """The headers and body of a real delivery, for a patient whose name is not ASCII."""
    patient.full_name = "Zoë Müller"
    patient.save()
    book()
    d = Delivery.objects.get(channel="webhook")
    return headers_for(d.event, delivery.body_of(d)), delivery.body_of(d)


def headers_for(event: Event, body: bytes, age: int = 0) -> dict[str, str]:
    # Signed by the wall clock: Node.js does not share the tests' frozen clock.
    now = int(escape_hatch.time.time()) - age
    return signing.headers(secret=SECRET, msg_id=str(event.id), body=body, timestamp=now)


@pytest.mark.django_db
def test_our_delivery_is_mailed_then_answered_200(
    sent: tuple[dict[str, str], bytes], patient: User
) -> None:
    headers, body = sent

    result = verify(headers, body)

    assert result["ok"], result
    [item] = result["out"]
    assert item["json"]["verified"] is True
    assert item["json"]["send"] is True
    assert item["json"]["to"] == patient.email
    assert item["json"]["subject"] == "Your appointment with Dr. Dora Doctor is booked"
    assert "Hello Zoë Müller," in item["json"]["text"]
    assert "at Riverside on Tuesday, 9 June 2026 at 10:00 is booked" in item["json"]["text"]
    assert answer(result) == 200
    assert answer(result, mail_fails=True) == 503


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("tampered", "Bad webhook signature"),
        ("other secret", "Bad webhook signature"),
        ("stale", "Stale webhook timestamp"),
        ("unsigned", "Not a signed Clinic webhook"),
    ],
)
def test_a_forged_or_stale_request_is_answered_401(
    sent: tuple[dict[str, str], bytes], forgery: str, reason: str
) -> None:
    headers, body = sent
    event = Event.objects.get()
    if forgery == "tampered":
        body = body.replace(b"Riverside", b"Elsewhere")
    elif forgery == "other secret":
        headers = signing.headers(
            secret="whsec_" + base64.b64encode(b"another secret, 32 bytes long...").decode(),
            msg_id=str(event.id),
            body=body,
            timestamp=int(escape_hatch.time.time()),
        )
    elif forgery == "stale":
        headers = headers_for(event, body, age=900)
    else:
        headers = {}

    result = verify(headers, body)

    assert result["ok"], result  # refused, not crashed
    [item] = result["out"]
    assert item["json"]["verified"] is False
    assert item["json"]["reason"].startswith(reason)
    assert answer(result) == 401
    assert result["staticData"] == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ({"env": {}}, "CLINIC_WEBHOOK_SECRET is not set"),
        ({"allowBuiltin": False}, "Cannot find module 'crypto'"),
    ],
    ids=["no CLINIC_WEBHOOK_SECRET", "crypto not allowed"],
)
def test_n8n_set_up_wrong_answers_500(
    sent: tuple[dict[str, str], bytes], setup: dict[str, Any], error: str
) -> None:
    headers, body = sent

    result = verify(headers, body, **setup)

    assert result == {"ok": False, "error": result["error"], "staticData": {}}
    assert error in result["error"]
    assert answer(result) == 500


@pytest.mark.django_db
def test_a_retried_event_is_mailed_once(sent: tuple[dict[str, str], bytes]) -> None:
    headers, body = sent

    first = verify(headers, body)
    remembered = run_node(
        "Remember the event", items=[{"json": {}}], nodes={"Verify signature": first["out"]}
    )
    retry = verify(headers, body, staticData=remembered["staticData"])

    assert remembered["ok"], remembered
    assert remembered["staticData"] == {"global": {"ids": [headers["webhook-id"]]}}
    [item] = retry["out"]
    assert (item["json"]["verified"], item["json"]["send"]) == (True, False)
    assert answer(retry) == 200


@pytest.mark.django_db
def test_an_event_without_a_patient_is_answered_200_without_mail(
    receiver: object, patient: User, now: object
) -> None:
    from notifications import services

    event = services.record_account_activated(user=patient)
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()

    result = verify(headers_for(event, body), body)

    [item] = result["out"]
    assert (item["json"]["verified"], item["json"]["send"]) == (True, False)
    assert item["json"]["type"] == "account.activated"
    assert answer(result) == 200
