"""Arabic as the site writes it: Django's Arabic dates, with the time in 24 hours (Django's
Arabic formats write "2:51 ص"; the clinic's times read 14:51 in every language, in Django admin
too). The formats not named here are Django's Arabic ones."""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F، Y، H:i"
# The right-to-left marks keep the day first for a right-to-left reader, as Django's own
# SHORT_DATE_FORMAT for Arabic does.
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y H:i"
