"""Signatures per Standard Webhooks: the documented snippet, our verify() and the reference
library all agree, and all refuse a tampered body, a stale timestamp or another secret."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from notifications import signing
from notifications.tests.conftest import SECRET
from notifications.tests.snippet import documented_verify

BODY = '{"id":"e1","type":"appointment.booked","data":{"patient":{"name":"Zoë"}}}'.encode()


def signed(secret: str = SECRET, body: bytes = BODY, at: int | None = None) -> dict[str, str]:
    return signing.headers(secret=secret, msg_id="msg_e1", body=body, timestamp=at)


def test_whsec_secret_verifies_everywhere() -> None:
    headers = signed()

    assert documented_verify()(SECRET, headers, BODY)
    signing.verify(secret=SECRET, headers=headers, body=BODY)
    assert Webhook(SECRET).verify(BODY, headers)["id"] == "e1"


def test_plain_secret_is_used_as_its_bytes() -> None:
    headers = signed(secret="a plain passphrase")

    assert documented_verify()("a plain passphrase", headers, BODY)
    signing.verify(secret="a plain passphrase", headers=headers, body=BODY)
    assert Webhook(b"a plain passphrase").verify(BODY, headers)


def test_headers_are_the_standard_three() -> None:
    headers = signed(at=1_780_000_000)

    assert headers["webhook-id"] == "msg_e1"
    assert headers["webhook-timestamp"] == "1780000000"
    assert headers["webhook-signature"].startswith("v1,")


def test_tampered_body_fails() -> None:
    headers = signed()
    tampered = BODY.replace(b"booked", b"cancelled")

    assert not documented_verify()(SECRET, headers, tampered)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret=SECRET, headers=headers, body=tampered)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, headers)


def test_old_timestamp_fails() -> None:
    headers = signed(at=int(time.time()) - 600)

    assert not documented_verify()(SECRET, headers, BODY)
    with pytest.raises(signing.InvalidSignature, match="tolerance"):
        signing.verify(secret=SECRET, headers=headers, body=BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(BODY, headers)


def test_timestamp_cannot_be_moved_forward_to_replay() -> None:
    headers = signed(at=int(time.time()) - 600)
    headers["webhook-timestamp"] = str(int(time.time()))

    assert not documented_verify()(SECRET, headers, BODY)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret=SECRET, headers=headers, body=BODY)


def test_other_secret_fails() -> None:
    headers = signed(secret="whsec_" + "b3RoZXItc2VjcmV0LW9mLXNvbWVvbmUtZWxzZQ==")

    assert not documented_verify()(SECRET, headers, BODY)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(secret=SECRET, headers=headers, body=BODY)


def test_missing_headers_fail() -> None:
    headers = signed()
    del headers["webhook-signature"]

    assert not documented_verify()(SECRET, headers, BODY)
    with pytest.raises(signing.InvalidSignature, match="missing"):
        signing.verify(secret=SECRET, headers=headers, body=BODY)


def test_one_of_several_signatures_is_enough() -> None:
    """During a key rotation a sender may sign with the old and the new secret."""
    headers = signed()
    other = signed(secret="whsec_" + "b3RoZXItc2VjcmV0LW9mLXNvbWVvbmUtZWxzZQ==")
    headers["webhook-signature"] = f"{other['webhook-signature']} {headers['webhook-signature']}"

    assert documented_verify()(SECRET, headers, BODY)
    signing.verify(secret=SECRET, headers=headers, body=BODY)
