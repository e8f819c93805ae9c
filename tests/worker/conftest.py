"""A real Celery worker, as a subprocess, on the test database and the real Redis.

Worker tests need ``@pytest.mark.django_db(transaction=True)``: the worker is another process and only sees
committed rows. Each test session uses its own queue, so a worker here never takes another run's tasks. The
worker is shared by the session's tests; between tests it holds no database connection (``CONN_MAX_AGE=0``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

CELERY = Path(sys.executable).parent / "celery"
ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"stimmen-test-{uuid.uuid4().hex[:12]}"


def wait_for(condition: Callable[[], bool], *, timeout: float = 30, what: str = "condition") -> None:
    """Poll ``condition`` (a database query, say) until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """``celery -A worker worker --pool=solo`` on this session's queue; start, SIGKILL, start again."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        command = [
            str(CELERY),
            "-A",
            "worker",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            QUEUE,
            "-n",
            f"{QUEUE}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, an open transaction dies with the connection."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def worker_process(django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    """One worker for the session (starting one takes seconds); stopped before the test database is dropped."""
    worker = Worker(tmp_path_factory.mktemp("celery") / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(transactional_db, worker_process) -> Worker:
    """The session's worker, running (started again if a test killed it)."""
    if connection.vendor != "postgresql":
        pytest.fail("worker tests need PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.REDIS_URL:
        pytest.fail("worker tests need Redis: set REDIS_URL=redis://...")
    if worker_process.process is None or worker_process.process.poll() is not None:
        worker_process.start()
    return worker_process


@pytest.fixture
def enqueue() -> Callable[..., None]:
    """Send a task to this session's queue, as beat or ``on_commit`` would send it to the default one."""

    def send(task, *args) -> None:
        task.apply_async(args=list(args), queue=QUEUE)

    return send
