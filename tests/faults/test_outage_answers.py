"""In-process: which errors get the 503 "try again" page, and the rate limiter failing open without Redis.

The real outages (servers crashed and restarted under gunicorn) are in ``test_journey_outages.py``.
"""

from __future__ import annotations

import logging
import secrets
import socket

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client

from config.middleware import server_error
from survey import services, throttle
from survey.models import Response
from tests.support.definitions import mini_definition
from tests.support.journey import answer_step, start


def dead_port() -> int:
    """A local port nobody listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answered_while_handling(error: Exception, rf):
    request = rf.get("/s/demo/q/status_step/", HTTP_ACCEPT_LANGUAGE="en")
    request.session = SessionStore()  # new and empty: never read from the database
    try:
        raise error
    except Exception:
        return server_error(request)


def test_a_database_outage_gets_the_friendly_503_page_with_retry_after(rf):
    reply = answered_while_handling(OperationalError("connection refused"), rf)
    page = reply.content.decode()
    assert reply.status_code == 503
    assert reply["Retry-After"] == "30" and reply["Cache-Control"] == "no-store"
    assert "Please try again in a moment" in page and "Your answers so far are saved." in page
    assert '<a href="/s/demo/q/status_step/">Try again</a>' in page
    assert "connection refused" not in page


def test_any_other_error_still_gets_the_500_page(rf):
    reply = answered_while_handling(ValueError("a bug"), rf)
    assert reply.status_code == 500
    assert "Retry-After" not in reply


@pytest.fixture
def campaign(organisation):
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    return services.campaign_open(survey_version=version, slug="mini")


@pytest.fixture
def one_start_per_client(monkeypatch):
    monkeypatch.setattr(throttle, "SURVEY_STARTS", throttle.Limit("start", count=1, window_seconds=600))
    monkeypatch.setattr(throttle, "_cache_unavailable_until", 0.0)


@pytest.mark.django_db
def test_without_redis_the_start_limit_fails_open_and_warns_once(campaign, one_start_per_client, settings, caplog):
    address = f"198.51.100.{secrets.randbelow(200) + 20}-{secrets.token_hex(4)}"
    assert start(Client(REMOTE_ADDR=address), campaign).status_code == 302
    assert start(Client(REMOTE_ADDR=address), campaign).status_code == 429  # the limit, while the cache works

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with caplog.at_level(logging.WARNING, logger="survey.throttle"):
        clients = [Client(REMOTE_ADDR=address) for _ in range(3)]
        assert [start(client, campaign).status_code for client in clients] == [302, 302, 302]
        for client in clients:
            answer_step(client, campaign, "status_step", {"status": "school"})
            done = answer_step(client, campaign, "about_step", {"birth_year": "2008", "district": "eving"})
            assert client.get(done["Location"])["Location"] == "/s/mini/thanks/"

    assert Response.objects.count() == 3
    warnings = [record.getMessage() for record in caplog.records if record.name == "survey.throttle"]
    assert len(warnings) == 1, "one warning per outage and process, not one per request"
    assert warnings[0].startswith("Rate limit cache unavailable (ConnectionError); start limit not applied")
