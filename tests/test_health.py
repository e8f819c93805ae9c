"""``GET /healthz`` against the real database and the real Redis: no mocks.

`make test` runs this on PostgreSQL with REDIS_URL pointing at the Redis on 127.0.0.1:6379; each test sets
``settings.REDIS_URL`` itself to choose the broker state it looks at.
"""

import os
import socket
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

# The Redis `make test` uses (its TEST_REDIS_URL), database 15 by default.
REAL_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def get_health(client):
    # secure=True: the answer must not depend on whether this run has SECURE_SSL_REDIRECT on.
    return client.get(reverse("healthz"), secure=True)


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A local port that refuses connections: bound (so nothing else can take it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts TCP connections but never answers, like a wedged broker."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_healthz_reports_database_and_version(client, settings) -> None:
    """/healthz answers 200 JSON with database "ok" and the version from settings, and is never cached."""
    settings.STIMMEN_VERSION = "9.8.7-health-test"
    response = get_health(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"database", "broker", "version"}
    assert body["database"] == "ok"
    assert body["version"] == "9.8.7-health-test"


def test_broker_is_eager_without_redis_url(client, settings) -> None:
    """Without REDIS_URL tasks run in-process, and /healthz reports the broker as "eager"."""
    settings.REDIS_URL = ""
    response = get_health(client)
    assert response.status_code == 200
    assert response.json()["broker"] == "eager"
    assert response.json()["database"] == "ok"


def test_broker_is_ok_with_the_real_redis(client, settings) -> None:
    """With REDIS_URL pointing at a running Redis, /healthz reports the broker as "ok"."""
    settings.REDIS_URL = REAL_REDIS_URL
    response = get_health(client)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok", f"is Redis running at {REAL_REDIS_URL}?"


def test_broker_down_is_reported_but_not_fatal(client, settings, refused_port) -> None:
    """With the broker unreachable /healthz reports it "down" and still answers 200, because the database is
    fine: submissions are stored and handed to the worker once the broker is back."""
    settings.REDIS_URL = f"redis://127.0.0.1:{refused_port}/0"
    response = get_health(client)
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "down", "version": settings.STIMMEN_VERSION}


def test_broker_that_never_answers_is_down_within_seconds(client, settings, silent_port) -> None:
    """A broker that accepts the connection but never replies is reported "down" after the short timeouts,
    so a wedged Redis cannot hang the health check (and with it the container's health probe)."""
    settings.REDIS_URL = f"redis://127.0.0.1:{silent_port}/0"
    started = time.monotonic()
    response = get_health(client)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["broker"] == "down"
    assert elapsed < 5, f"/healthz took {elapsed:.1f}s with a silent broker"
