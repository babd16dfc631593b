"""Django's makemessages with the project's defaults, so `manage.py makemessages` (and the
translations check in clinic/tests/test_translations.py) reads our code only.

Without -l/-a it updates every language in settings.LANGUAGES but English, the language the
code is written in. Source references name the file only (`#: scheduling/views.py`): a line
number in every entry would change the catalogues at every edit of the code around a string.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import makemessages

# Not ours, built, or tests (a test's strings are never shown to anyone).
IGNORE = [".venv", "node_modules", "var", "staticfiles", "e2e", "tests", "bench", "locale"]


class Command(makemessages.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORE]
        if not options.get("locale") and not options.get("exclude") and not options.get("all"):
            options["locale"] = [code for code, _ in settings.LANGUAGES if code != "en"]
        if not options.get("add_location"):
            options["add_location"] = "file"
        super().handle(*args, **options)
