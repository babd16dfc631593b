"""The layout shows the site's two lists twice (the wide navigation and the phone menu),
rendered once per page ({% include_reused %}): both copies are the page's own, for whoever
asks, never a copy kept from another request."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def lists(html: str) -> list[str]:
    return re.findall(r'<ul class="nav-(?:links|account)">(.*?)</ul>', html, re.S)


def test_both_copies_are_the_visitors_own(client: Client, patient: User) -> None:
    anonymous = lists(client.get("/about/").content.decode())
    assert len(anonymous) == 4
    assert anonymous[:2] == anonymous[2:]
    assert "Log in" in anonymous[1]
    assert 'href="/about/" aria-current="page"' in anonymous[0]

    client.force_login(patient)
    signed_in = lists(client.get("/contact/").content.decode())
    assert signed_in[:2] == signed_in[2:]
    assert "My appointments" in signed_in[0]
    assert 'href="/contact/" aria-current="page"' in signed_in[0]
    assert "Log out" in signed_in[1]
    assert "Log in" not in signed_in[1]
