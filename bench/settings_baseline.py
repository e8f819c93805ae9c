"""Settings for the throughput baseline: the product's settings, with the bench's tiny URLconf.

Used only by ``bench/run.py`` (``DJANGO_SETTINGS_MODULE=bench.settings_baseline``), so the same middleware,
database, session engine and gunicorn serve both the survey and the baseline.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_app"
