"""The project-wide tests meet scheduling's frozen clock and Dora's calendar."""

from scheduling.tests.conftest import dora, monday_9, now, other_doctor, published  # noqa: F401
