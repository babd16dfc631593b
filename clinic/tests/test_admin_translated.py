"""Django admin speaks the admin's language on every page of ours, not only Django's own words.

Every ModelAdmin registered on the site is walked as a superuser, once in English and once in
German and in Arabic: the index and each app's index, each changelist, each add form it offers
and the change form of a row, and each bulk action run on that row (inside a savepoint rolled
back, so every language acts on the same rows). From each page the words an admin reads as
labels are taken, each under a key that does not depend on the language (the element, its
class, id, `for`, `href` or `value`): titles and headings, column headers, the filters' titles
and choices, form labels, help texts, action names, table cells and the messages after an
action. A text that reads the same in German (or Arabic) as in English is untranslated unless
it has no letters (times, numbers), is made of the rows' own data (names, e-mails, the
specialty someone typed), or is one of the few words German spells as English does
(`SAME_IN_GERMAN`; Arabic has none).

Comparing each page with its English self is what keeps this honest: it needs no list of the
labels to expect, so a new field, column, filter or action is checked the day it appears, and
a key found in one language but not the other fails too instead of being skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import models, transaction
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Dependant, DoctorProfile, User
from accounts.tests.factories import BranchFactory, front_desk
from clinic.models import ContactMessage
from directory.models import Service
from notifications.models import WebhookEndpoint
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY, dora, monday_9, now  # noqa: F401
from scheduling.tests.factories import TimeOffFactory

pytestmark = pytest.mark.django_db

# Our apps (Django's auth is ours too where we registered it: the Group admin).
OURS = {"accounts", "directory", "scheduling", "notifications", "audit", "clinic", "auth"}

# Words German spells as English does, each a real translation and not a forgotten one. (Words
# of fewer than three letters are not compared: "Dr.", "ID", "IP", "OK".)
SAME_IN_GERMAN = {"Name", "Status", "Filter", "Webhook", "Detail", "Patient", "Mail"}
# Names that stay as they are in every language: keys on a keyboard, a header's and a
# setting's names, a standard's.
TERMS = {"Control", "Command", "Mac", "User", "Agent", "URL", "WEBHOOK", "SECRET", "HMAC", "SHA"}
TERMS |= {"whsec", "base", "Standard", "Webhooks", "UTF"}

_WORDS = re.compile(r"[^\W\d_]{3,}")
_SPACE = re.compile(r"\s+")

# Elements whose own text is a label, and where they count.
_TEXT_TAGS = {"title", "h1", "h2", "h3", "label", "summary", "caption", "legend", "button"}
# Attributes a person reads or hears (a screen reader reads aria-label and title).
_READ_ATTRIBUTES = ("aria-label", "title", "placeholder")


class _Labels(HTMLParser):
    """(key, text) of each label on an admin page, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.open: list[tuple[str, list[str]]] = []  # (key, text pieces) being read
        self.found: list[tuple[str, str]] = []
        self.seen: Counter[str] = Counter()

    def _key(self, tag: str, attrs: dict[str, str]) -> str:
        # An <input>'s value is its (translated) text; its name keys it.
        named = ("id", "class", "for", "href", "name" if tag == "input" else "value")
        parts = [tag] + [f"{a}={attrs[a]}" for a in named if attrs.get(a)]
        where = "/".join(t for t, _ in self.stack if t in {"thead", "tbody", "fieldset", "ul"}) + (
            "/message" if tag == "li" and self._inside("ul", **{"class": "messagelist"}) else ""
        )
        key = f"{where}:{' '.join(parts)}"
        self.seen[key] += 1
        return f"{key}#{self.seen[key]}"

    def _inside(self, tag: str, **attrs: str) -> bool:
        return any(
            t == tag and all(v in a.get(k, "").split() for k, v in attrs.items())
            for t, a in self.stack
        )

    def _counts(self, tag: str, attrs: dict[str, str]) -> bool:
        classes = attrs.get("class", "").split()
        if tag in _TEXT_TAGS:
            return True
        if tag == "th" and (self._inside("thead") or self._inside("fieldset")):
            return True
        if tag == "td" or (tag == "th" and self._inside("tbody")):
            # Cells: the rows' data and the words our code puts there (a status, a health).
            return not classes or not {"action-checkbox", "original"} & set(classes)
        if tag == "div" and "help" in classes:
            return True
        if tag == "span" and attrs.get("id", "").endswith("-label"):
            return True
        if tag == "option" and self._inside("select", name="action"):
            return True
        if tag == "a" and self._inside("nav", id="changelist-filter"):
            return True
        if tag == "li" and self._inside("ul", **{"class": "messagelist"}):
            return True
        return tag == "input" and attrs.get("type") == "submit"

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if tag == "details" and "data-filter-title" in attrs:
            self.found.append((self._key("filter-title", attrs), attrs["data-filter-title"]))
        if tag == "input" and attrs.get("type") == "submit" and attrs.get("value"):
            self.found.append((self._key(tag, attrs), attrs["value"]))
        for name in _READ_ATTRIBUTES:
            if attrs.get(name):
                self.found.append((self._key(f"{tag}[{name}]", attrs), attrs[name]))
        if tag in {"input", "br", "img", "meta", "link", "hr"}:
            return
        self.stack.append((tag, attrs))
        if self._counts(tag, attrs):
            self.open.append((self._key(tag, attrs), []))
            self.stack[-1][1]["__reading__"] = "1"

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, attrs = self.stack.pop()
            if attrs.get("__reading__"):
                key, pieces = self.open.pop()
                self.found.append((key, _SPACE.sub(" ", "".join(pieces)).strip()))
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][1].append(data)


def labels(page: str) -> dict[str, str]:
    parser = _Labels()
    parser.feed(page)
    parser.close()
    return dict(parser.found)


def _data_values() -> list[str]:
    """Every text the rows hold (names, e-mails, a branch's name): what no translation
    changes. Longest first, so a name is taken out before a part of it."""
    values: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in OURS:
            continue
        text_fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.UUIDField)
        ]
        for row in model._default_manager.values_list(*text_fields):
            values.update(str(v) for v in row if v and len(str(v)) > 1)
    values.add(settings.CLINIC_NAME)
    return sorted(values, key=len, reverse=True)


def _words(text: str, data: list[str]) -> set[str]:
    """The words of a text once the rows' data is taken out of it."""
    for value in data:
        text = text.replace(value, " ")
    return set(_WORDS.findall(text))


def untranslated(english: dict[str, str], other: dict[str, str], *, same: set[str]) -> list:
    """The labels of `other` that keep an English word of the same label in English (by key):
    "Pagination Benutzer" is caught as well as "Job title". And the keys found in one
    language only."""
    data = _data_values()
    wrong: list[Any] = []
    for key in english.keys() | other.keys():
        if key not in english or key not in other:
            wrong.append(("only in one language", key, english.get(key), other.get(key)))
            continue
        kept = (_words(english[key], data) & _words(other[key], data)) - same - TERMS
        if kept:
            wrong.append((key, english[key], other[key], sorted(kept)))
    return wrong


@pytest.fixture
def superuser(db: None) -> User:
    """Sam: the clinic's admin who is also Django's superuser, so every page is open."""
    return account_services.create_admin(
        national_id="100000002",
        password=None,
        email="sam@clinic.example",
        full_name="Sam Super",
        phone="+49 30 2000002",
        superuser=True,
    )


@pytest.fixture
def scene(
    admin_user: User,
    patient: User,
    dora: DoctorProfile,  # noqa: F811
    monday_9: Slot,  # noqa: F811
) -> None:
    """One row of each model our admin shows, made the way the clinic makes them."""
    branch = BranchFactory(name="Mitte", slug="mitte")
    front_desk(branch)
    Service.objects.create(branch=dora.branch, name="Vorsorge", price=50)
    Dependant.objects.create(
        guardian=patient, full_name="Kim Kind", date_of_birth=dt.date(2018, 3, 1)
    )
    TimeOffFactory(doctor=dora, start_date=NEXT_MONDAY + dt.timedelta(days=3), reason="Kongress")
    WebhookEndpoint.objects.create(name="n8n", url="https://n8n.example/hook", secret="s" * 32)
    ContactMessage.objects.create(
        name="Lena Lotse", email="lena@example.com", subject="Parkplatz", message="Gibt es?"
    )
    # Books through the service: events, deliveries and audit entries as in real life.
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, by=patient)


def _our_admins() -> Iterator[tuple[type[models.Model], admin.ModelAdmin]]:
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in OURS:
            yield model, model_admin


def _admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for app_label in sorted({m._meta.app_label for m, _ in _our_admins()}):
        pages.append(reverse("admin:app_list", args=[app_label]))
    return pages


def _get(client: Client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _walk(client: Client, language: str) -> dict[str, dict[str, str]]:
    """Every page of ours, and every action's messages, as {page: {key: text}}."""
    seen: dict[str, dict[str, str]] = {}
    for url in _admin_pages():
        seen[url] = labels(_get(client, url, language))
    for model, model_admin in _our_admins():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        seen[changelist] = labels(_get(client, changelist, language))
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"the scene has no {model._meta.label}: add one"
        change = reverse("admin:{}_{}_change".format(*info), args=[row.pk])
        seen[change] = labels(_get(client, change, language))
        request = client.get(changelist).wsgi_request
        if model_admin.has_add_permission(request):
            add = reverse("admin:{}_{}_add".format(*info))
            seen[add] = labels(_get(client, add, language))
        for name in model_admin.get_actions(request):
            with transaction.atomic():
                response = client.post(
                    changelist,
                    {"action": name, "_selected_action": [row.pk], "index": 0},
                    HTTP_ACCEPT_LANGUAGE=language,
                    follow=True,
                )
                transaction.set_rollback(True)
            assert response.status_code == 200, (changelist, name)
            found = labels(response.content.decode())
            seen[f"{changelist} {name}"] = {k: v for k, v in found.items() if "/message" in k}
            if not seen[f"{changelist} {name}"]:
                seen[f"{changelist} {name}"] = {"silent": f"{name} said nothing"}
    return seen


@pytest.mark.parametrize(("language", "same"), [("de", SAME_IN_GERMAN), ("ar", set())])
def test_every_admin_page_of_ours_reads_in_the_admins_language(
    client: Client, superuser: User, scene: None, language: str, same: set[str]
) -> None:
    assert {code for code, _ in settings.LANGUAGES} >= {"en", language}
    client.force_login(superuser)
    english = _walk(client, "en")
    other = _walk(client, language)

    wrong = {
        page: found
        for page in english
        if (found := untranslated(english[page], other.get(page, {}), same=same))
    }
    checked = sum(len(found) for found in english.values())

    assert checked > 500, f"only {checked} labels read: the walk is not reading the pages"
    assert wrong == {}, "\n".join(
        f"{page}: {item}" for page, found in sorted(wrong.items()) for item in found
    )


def test_the_walk_finds_an_english_label_in_a_german_page() -> None:
    english = labels(
        '<table><thead><th class="column-reason"><a href="?o=1">Reason</a></th></thead></table>'
        '<label for="id_x">Given name:</label><div class="help">Your name.</div>'
    )
    german = labels(
        '<table><thead><th class="column-reason"><a href="?o=1">Reason</a></th></thead></table>'
        '<label for="id_x">Vorname:</label><div class="help">Ihr Name.</div>'
    )
    assert len(english) == 3
    assert untranslated(english, german, same=SAME_IN_GERMAN) == [
        ("thead:th class=column-reason#1", "Reason", "Reason", ["Reason"])
    ]
    # A word left in a translated sentence is found too.
    assert untranslated(
        {"h2#1": "Pagination users"}, {"h2#1": "Pagination Benutzer"}, same=set()
    ) == [("h2#1", "Pagination users", "Pagination Benutzer", ["Pagination"])]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("ar", "ألغته العيادة."),
        ("de", "Von der Praxis abgesagt."),
        ("", "Cancelled by the clinic."),
    ],
)
def test_a_cancellation_from_admin_gives_the_patient_the_reason_in_their_language(
    client: Client, superuser: User, scene: None, patient: User, language: str, reason: str
) -> None:
    """The reason is stored as text and read by the patient (e-mail, their page): in the
    patient's language (or the clinic's), whatever the admin's."""
    patient.language = language
    patient.save(update_fields=["language"])
    appointment = patient.appointments.get()
    client.force_login(superuser)

    client.post(
        reverse("admin:scheduling_appointment_changelist"),
        {"action": "cancel_appointments", "_selected_action": [appointment.pk], "index": 0},
        HTTP_ACCEPT_LANGUAGE="de" if language != "de" else "ar",
    )

    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert appointment.cancellation_reason == reason
