"""The Celery worker: the app, thin tasks calling the apps' services, and the beat schedule."""

from worker.celery import app

__all__ = ["app"]
