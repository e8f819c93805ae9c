"""100 respondents at once for 60 s against gunicorn + PostgreSQL + Redis while the worker anonymises.

The simulated phones are ``bench/http_load.py``'s (asyncio HTTP/1.1, no JavaScript, synthetic answers that
follow the branching), without think time: each sends its next request as soon as the last one is answered.
For 60 s every phone starts a new survey after each thank-you page; after that no survey starts, and the
surveys under way are finished (within ``DRAIN_SECONDS``), so that "completed by the client" and "stored" can
be compared exactly. No latency is asserted (speed belongs in ``bench/``); the figures are printed (``-s``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.http_load import Browser, HttpError, LoadResult, Stats, walk_survey
from bench.run import summarise
from survey.districts import DORTMUND_DISTRICTS
from survey.synthetic import district_values, synthetic_answers
from tests.faults.stack import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.timeout(900)]

USERS = 100
LOAD_SECONDS = 60
#: The longest a survey under way at the end of the window may take to finish.
DRAIN_SECONDS = 240


class CountingBrowser(Browser):
    """A simulated phone that also counts the HTTP status of every reply."""

    statuses: Counter[int] = Counter()

    async def _exchange(self, raw: bytes):
        reply = await super()._exchange(raw)
        self.statuses[reply.status] += 1
        return reply


async def _no_pause() -> None:
    return None


async def _respondents(port: int, campaign: str, definition, stats: Stats, started: list[int]) -> None:
    districts = district_values(DORTMUND_DISTRICTS)
    window_ends = time.perf_counter() + LOAD_SECONDS

    async def phone(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < window_ends:
            answers, _steps = synthetic_answers(definition, rng, districts=districts)
            browser = CountingBrowser(port, stats)
            started[0] += 1
            try:
                await walk_survey(browser, campaign=campaign, definition=definition, answers=answers, pace=_no_pause)
            except HttpError as error:
                stats.error(str(error))
            finally:
                await browser.close()

    await asyncio.wait_for(asyncio.gather(*(phone(n) for n in range(USERS))), LOAD_SECONDS + DRAIN_SECONDS)


def test_100_respondents_for_60_seconds_no_5xx_no_lost_or_duplicated_response(
    services_restored, server, celery_worker, campaign, demo_definition
):
    stack = services_restored
    stats = Stats()
    started = [0]
    CountingBrowser.statuses = Counter()
    began = time.perf_counter()
    # A thread of its own: in the whole suite, Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _respondents(server.port, campaign, demo_definition, stats, started)).result()
    figures = summarise(LoadResult(seconds=time.perf_counter() - began, stats=stats, client_cpu_seconds=0))

    responses = stack.responses(campaign)
    draft_ids = stack.postgres.scalar(
        "SELECT count(DISTINCT r.draft_id) FROM survey_response r JOIN survey_campaign c ON c.id = r.campaign_id"
        " WHERE c.slug = %s",
        campaign,
    )
    # Each submission queued its own task; the worker works through them (no sweep is sent here, so a lost
    # task would show as a missing anonymisation).
    wait_for(lambda: stack.anonymisation_counts(campaign)[0] >= responses, timeout=600, what="the worker to drain")
    marks, distinct_marks, records = stack.anonymisation_counts(campaign)
    print(
        f"\nLoad: {USERS} respondents, {LOAD_SECONDS} s window + finishing surveys under way: {figures['seconds']} s"
        f"\n  surveys started {started[0]}, completed (thank-you page seen) {stats.completed_surveys},"
        f" responses stored {responses} ({draft_ids} distinct drafts), anonymised {marks}"
        f"\n  requests {figures['requests']} ({figures['requests_per_s']}/s), p50 {figures['p50_ms']} ms,"
        f" p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms"
        f"\n  status counts {dict(sorted(CountingBrowser.statuses.items()))}, client errors {stats.errors}"
    )

    assert not [status for status in CountingBrowser.statuses if status >= 500], CountingBrowser.statuses
    assert stats.errors == {}
    assert stats.completed_surveys == started[0] > 0
    assert responses == stats.completed_surveys, "every completed survey stored, none twice"
    assert draft_ids == responses
    assert (marks, distinct_marks, records) == (responses, responses, responses), "each anonymised exactly once"
