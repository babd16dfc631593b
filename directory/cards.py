"""What other apps add to the directory's doctor cards.

The directory imports no app above it (README, Layout), yet a card shows the doctor's next
free time, which scheduling knows. Scheduling registers a function here when it starts
(`SchedulingConfig.ready`); the directory calls every one with the page's doctors, once per
page, so that each adds what it knows to all of them in a few queries, never one per card.
"""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import DoctorProfile

Annotator = Callable[[list[DoctorProfile]], None]

_annotators: list[Annotator] = []


def register(annotator: Annotator) -> None:
    if annotator not in _annotators:
        _annotators.append(annotator)


def annotate(doctors: list[DoctorProfile]) -> None:
    for annotator in _annotators:
        annotator(doctors)
