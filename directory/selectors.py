"""Reading the directory: the search that the doctor list page and the API's `GET /doctors`
share, so "Dr. Weber" finds the same doctors on both."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import DoctorProfile

# A title typed before a name: "Dr. Weber" looks for Weber.
_TITLES = {"dr", "doctor", "prof", "professor"}


def search_terms(q: str) -> list[str]:
    """The words of a search, without a leading title or its dot."""
    words = q.replace(".", " ").replace(",", " ").split()
    while words and words[0].lower() in _TITLES:
        words = words[1:]
    return words


def matching[QS: QuerySet[DoctorProfile]](doctors: QS, q: str) -> QS:
    """Doctors whose name, specialty or branch holds every word of the search."""
    for word in search_terms(q):
        doctors = doctors.filter(
            Q(user__full_name__icontains=word)
            | Q(specialty__name__icontains=word)
            | Q(branch__name__icontains=word)
        )
    return doctors
