"""English: the time in 24 hours, as on the rest of the site."""

from clinic.formats.en_GB.formats import *  # noqa: F403
