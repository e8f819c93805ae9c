"""The Celery application, configured from Django settings (``CELERY_*``; broker from ``REDIS_URL``).

Start a worker with ``celery -A worker worker`` and the scheduler with ``celery -A worker beat``.
Without ``REDIS_URL`` tasks run in-process (eager), so a laptop needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stimmen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["worker"], related_name="tasks")
