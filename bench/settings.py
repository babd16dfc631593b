"""Settings for `make bench` only: the production settings plus two bare views as baselines.

Never used by the product: the bench harness starts gunicorn with
DJANGO_SETTINGS_MODULE=bench.settings, so the baseline URLs exist only in that process.
"""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
