# Load the Celery app with Django so that tasks bind to it and `delay_on_commit` works in web processes.
from worker.celery import app as celery_app

__all__ = ["celery_app"]
