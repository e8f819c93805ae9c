"""PostgreSQL crashes, or Redis goes away, while a young person is half-way through the survey.

Real restarts of throwaway servers (``tests/faults/stack.py``), a real gunicorn and a real Celery worker.
"""

from __future__ import annotations

import json

import pytest

from tests.faults.respondent import UnexpectedReply, normalised
from tests.faults.stack import wait_for

pytestmark = pytest.mark.worker

FRIENDLY_TITLE = "Please try again in a moment"
FRIENDLY_TEXT = "Your answers so far are saved."
HALF_WAY = 4


def stored_answers(stack, campaign: str) -> list[dict]:
    rows = stack.postgres.query(
        "SELECT r.answers FROM survey_response r JOIN survey_campaign c ON c.id = r.campaign_id WHERE c.slug = %s",
        campaign,
    )
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


def assert_friendly_outage_page(reply) -> None:
    assert reply.status == 503, reply.text[:500]
    assert reply.headers["retry-after"] == "30"
    assert FRIENDLY_TITLE in reply.text and FRIENDLY_TEXT in reply.text
    assert "Traceback" not in reply.text and "OperationalError" not in reply.text
    assert '<html lang="en"' in reply.text  # the respondent's browser language, read without the session


def test_postgres_crash_mid_journey_shows_try_again_and_keeps_every_confirmed_answer(
    services_restored, server, campaign, respondent
):
    stack = services_restored
    person = respondent(1)
    person.start()
    for _step in range(HALF_WAY):
        person.step()
    confirmed_before_crash = dict(person.confirmed)
    assert len(confirmed_before_crash) >= HALF_WAY
    page = person.open_step()  # the next page is on the screen when the database goes away

    stack.postgres.crash()
    with pytest.raises(UnexpectedReply) as sent:  # pressing "Next" during the outage
        person.send_step(page)
    assert_friendly_outage_page(sent.value.reply)
    assert_friendly_outage_page(person.request("GET", person.path))  # reloading
    assert_friendly_outage_page(person.request("GET", f"/s/{campaign}/"))  # the start page too

    stack.postgres.start()
    # Same browser, same session cookie: the page is sent again and the survey goes on to the end.
    person.send_step(page)
    person.finish()

    assert person.finished
    stored = stored_answers(stack, campaign)
    assert len(stored) == 1, "exactly one response"
    answers = normalised(stored[0])
    assert {key: answers.get(key) for key in confirmed_before_crash} == normalised(confirmed_before_crash)
    assert answers == normalised(person.answers)


def test_redis_down_mid_journey_respondents_carry_on_and_the_sweep_anonymises_afterwards(
    services_restored, server, celery_worker, campaign, respondent
):
    stack = services_restored
    person = respondent(2)
    person.start()
    for _step in range(HALF_WAY):
        person.step()

    stack.redis.stop()
    # Sessions are in the database and the rate limiter fails open: the journey goes on, and new
    # respondents can still start (the start page is rate-limited through Redis).
    person.finish()
    newcomer = respondent(3)
    newcomer.start()
    newcomer.finish()
    assert stack.responses(campaign) == 2
    assert stack.anonymisation_counts(campaign) == (0, 0, 0), "nothing can reach the worker without Redis"

    stack.redis.start()
    stack.send_sweep()  # beat sends it every five minutes; the worker reconnects on its own
    wait_for(lambda: stack.anonymisation_counts(campaign) == (2, 2, 2), timeout=90, what="the sweep")
    stored = stored_answers(stack, campaign)
    assert sorted(json.dumps(normalised(a), sort_keys=True) for a in stored) == sorted(
        json.dumps(normalised(p.answers), sort_keys=True) for p in (person, newcomer)
    )


def test_app_server_restart_mid_journey_the_respondent_continues_where_they_were(
    services_restored, server, campaign, respondent
):
    stack = services_restored
    person = respondent(4)
    person.start()
    for _step in range(HALF_WAY):
        person.step()
    page = person.open_step()

    server.restart()  # sessions and drafts are in PostgreSQL, nothing lives in the web process

    person.send_step(page)
    person.finish()
    stored = stored_answers(stack, campaign)
    assert len(stored) == 1
    assert normalised(stored[0]) == normalised(person.answers)
