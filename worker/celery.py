"""The Celery application, configured from Django settings (``CELERY_*``; broker from ``REDIS_URL``).

Start a worker with ``celery -A worker worker`` and the scheduler with ``celery -A worker beat``.
Without ``REDIS_URL`` tasks run in-process (eager), so a laptop needs no broker.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stimmen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["worker"], related_name="tasks")

app.conf.beat_schedule = {
    # Catches every response whose own task was lost (broker down at submission, worker killed) and runs
    # the campaigns' k-anonymity pass.
    "anonymise-pending": {"task": "worker.tasks.anonymise_pending", "schedule": 5 * 60},
    # Retention: raw responses past their campaign's period, expired and submitted drafts.
    "purge-expired": {"task": "worker.tasks.purge_expired", "schedule": crontab(hour=3, minute=17)},
    # Aggregate snapshots (idempotent: unchanged input keeps the latest): open campaigns hourly, all daily
    # (before the purge, which deletes raw responses already included in a snapshot).
    "aggregate-open": {"task": "worker.tasks.aggregate_campaigns", "schedule": crontab(minute=41)},
    "aggregate-all": {
        "task": "worker.tasks.aggregate_campaigns",
        "schedule": crontab(hour=2, minute=47),
        "kwargs": {"open_only": False},
    },
}
