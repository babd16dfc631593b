"""`|ldate:"l j F Y"`: Django's `date` filter, with the format written for English turned into
the active language's own (common.i18n.DATE_FORMATS: "Montag, 15. Juni 2026" in German).
A builtin of every template (settings.TEMPLATES), as are the i18n tags."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_filter

from common.i18n import date_format_for

register = template.Library()


@register.filter(expects_localtime=True)
def ldate(value: dt.date | dt.datetime | None, fmt: str) -> str:
    return date_filter(value, date_format_for(fmt))
