"""Who is on the other end of a request: its address and its user agent.

Imports nothing of ours, so every app may use it (the lockout, the rate limits, the audit trail).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the person's machine, as the lockout, the rate limits and the audit
    trail see it.

    Without a proxy in front (TRUSTED_PROXY_COUNT=0) it is the socket's peer, and a
    X-Forwarded-For header is ignored: anyone can send one. Behind N proxies of our own
    (Caddy in the compose stack: N=1), each appends the address it received the request from,
    so the N-th entry from the right is the one the first of our proxies saw; what the client
    wrote further left is its own invention.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part]
    if len(forwarded) < hops:
        return remote
    return _valid_ip(forwarded[-hops]) or remote


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
