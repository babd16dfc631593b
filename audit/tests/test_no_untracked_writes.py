"""Queryset update(), bulk_create(), bulk_update() and delete() send no model signals, so a
tracked row written that way would change without an entry in the audit trail. Our code does
not do it; this reads the source to keep it so (direct chains such as
`Appointment.objects.filter(...).update(...)`; tests may arrange data that way)."""

from __future__ import annotations

import ast
from pathlib import Path

from audit.tracked import TRACKED

ROOT = Path(__file__).resolve().parents[2]
UNTRACKED_WRITES = {"update", "bulk_create", "bulk_update", "delete", "_raw_delete", "raw"}
TRACKED_NAMES = {model.__name__ for model in TRACKED}


def our_modules() -> list[Path]:
    """The Python packages at the top of the checkout (the apps), without tests."""
    skip = {"migrations", "tests"}
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").is_file()]
    return [
        path
        for package in packages
        for path in package.rglob("*.py")
        if not skip & set(path.relative_to(ROOT).parts)
    ]


def chain_base(node: ast.AST) -> tuple[str | None, list[str]]:
    """The name a call chain starts from, and the attributes along it."""
    attributes = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), attributes


def untracked_writes(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in UNTRACKED_WRITES
        ):
            continue
        base, attributes = chain_base(node.func.value)
        managers = {"objects", "_base_manager", "_default_manager"}
        if base in TRACKED_NAMES and managers & set(attributes):
            found.append(f"{path.relative_to(root)}:{node.lineno} {base}…{node.func.attr}()")
    return found


def test_no_queryset_writes_on_tracked_models_in_our_code() -> None:
    modules = our_modules()
    assert any(p.name == "services.py" for p in modules), "the scan found our code"

    offenders = [hit for path in modules for hit in untracked_writes(path)]

    assert offenders == []


def test_the_scan_finds_such_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def pause(doctor):\n"
        "    DoctorProfile.objects.filter(pk=doctor.pk).update(accepting_bookings=False)\n"
        "    settings_dict.update(x=1)\n"
    )

    assert untracked_writes(sample, root=tmp_path) == ["sample.py:2 DoctorProfile…update()"]
