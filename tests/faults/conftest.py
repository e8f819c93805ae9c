"""Fixtures of the fault and load tests: one throwaway stack (PostgreSQL, Redis, gunicorn, a Celery worker).

The stack is shared by the session's fault tests because building it (initdb, migrate, seed) takes seconds.
A test that crashes a service brings it back before it ends (``services_restored``), so the next test finds
everything running.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from survey.definition import SurveyDefinition, load_definition_file
from survey.districts import DORTMUND_DISTRICTS
from survey.synthetic import district_values, synthetic_answers
from tests.faults.respondent import Respondent
from tests.faults.stack import AppServer, Stack, Worker, throwaway_stack

DEMO = Path(__file__).resolve().parents[2] / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"
DEMO_SURVEY = "ausbildung-arbeit-2023"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with throwaway_stack() as stack:
        yield stack


@pytest.fixture(scope="session")
def server(stack: Stack) -> AppServer:
    server = stack.gunicorn(workers=3)
    server.wait_ready()
    return server


@pytest.fixture(scope="session")
def celery_worker(stack: Stack) -> Worker:
    return stack.worker()


@pytest.fixture
def services_restored(stack: Stack) -> Iterator[Stack]:
    """The stack, with PostgreSQL and Redis running again after the test, whatever it stopped."""
    yield stack
    if not stack.redis.answers():
        stack.redis.start()
    try:
        stack.postgres.scalar("SELECT 1")
    except Exception:
        stack.postgres.start()


@pytest.fixture(scope="session")
def demo_definition() -> SurveyDefinition:
    definition, _data = load_definition_file(DEMO)
    return definition


@pytest.fixture
def campaign(stack: Stack, request: pytest.FixtureRequest) -> str:
    """A fresh open campaign of the demo survey for this test, so that counts are the test's own."""
    slug = "f-" + request.node.name.removeprefix("test_")[:40].replace("_", "-").strip("-")
    stack.manage("open_campaign", DEMO_SURVEY, slug)
    return slug


@pytest.fixture
def respondent(server: AppServer, demo_definition: SurveyDefinition, campaign: str) -> Callable[[int], Respondent]:
    """A respondent with complete synthetic answers (seeded) who walks ``campaign`` on the gunicorn server."""

    def make(seed: int) -> Respondent:
        answers, _steps = synthetic_answers(
            demo_definition, random.Random(seed), districts=district_values(DORTMUND_DISTRICTS)
        )
        return Respondent(port=server.port, campaign=campaign, definition=demo_definition, answers=answers)

    return make
