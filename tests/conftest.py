"""Shared test set-up. `make test` runs everything against the real PostgreSQL and Redis on this machine."""

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Fail loudly, never skip, when `make test` asked for the real services and one is missing."""
    if os.environ.get("STIMMEN_REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"make test must run on PostgreSQL, but DATABASE_URL gives {engine}")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise pytest.UsageError(f"Redis at {settings.REDIS_URL} is not reachable: {error}") from error


@pytest.fixture
def organisation(db):
    """The city organisation most tests act in (Dortmund's integration centre)."""
    from survey.models import Organisation

    return Organisation.objects.create(slug="dortmund", name="Integrationszentrum Dortmund")


@pytest.fixture
def other_organisation(db):
    """A second city of the cooperation, whose objects the first one's users must never reach."""
    from survey.models import Organisation

    return Organisation.objects.create(slug="bochum", name="Integrationszentrum Bochum", city="Bochum")
