"""The receiver's verification snippet, exactly as the README documents it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- webhook-verify-snippet -->"


def documented_verify() -> Callable[..., bool]:
    """Executes the README's snippet."""
    readme = (ROOT / "README.md").read_text()
    assert MARKER in readme, "The README has no webhook verification snippet."
    text = readme.split(MARKER, 1)[1]
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert code, "The snippet after the marker is not a python code block."
    namespace: dict = {}
    exec(compile(code.group(1), "README snippet", "exec"), namespace)  # noqa: S102 - our docs
    return namespace["verify_webhook"]
