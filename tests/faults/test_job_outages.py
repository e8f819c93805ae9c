"""The worker is anonymising a campaign of synthetic responses when PostgreSQL, or Redis, restarts.

Afterwards every response must be anonymised exactly once: one mark per response (the mark's primary key is
the response) and one anonymised record per mark. The sweep task retries itself on database errors
(``worker/tasks.py``). A Redis restart without persistence loses every queued message; the running task needs
only the database and carries on, and the next sweep (beat sends one every five minutes; here the test sends it)
picks up whatever is left.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.faults.stack import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.timeout(600)]

#: A few thousand, as the brief asks; on a busy shared machine the worker anonymises 40-300 of them per second.
RESPONSES = 2000
CONNECTED = "Connected to redis://"
RETRIED = "] retry: Retry in"
SWEEP_DONE = re.compile(r"worker\.tasks\.anonymise_pending\[[\w-]+\] succeeded")


def sweeps_done(worker) -> int:
    return len(SWEEP_DONE.findall(worker.log_text()))


def assert_anonymised_exactly_once(stack, campaign: str) -> None:
    wait_for(
        lambda: stack.anonymisation_counts(campaign)[0] == RESPONSES, timeout=240, what="every response anonymised"
    )
    assert stack.responses(campaign) == RESPONSES
    assert stack.anonymisation_counts(campaign) == (RESPONSES, RESPONSES, RESPONSES)


def test_postgres_crash_mid_job_the_sweep_retries_and_anonymises_every_response_once(
    services_restored, celery_worker, campaign
):
    stack = services_restored
    stack.manage("synthesize", "--campaign", campaign, "--count", str(RESPONSES), "--seed", "6")
    stack.send_sweep()
    wait_for(lambda: stack.anonymisation_counts(campaign)[0] >= RESPONSES // 10, timeout=120, what="the job under way")

    retries = celery_worker.log_text().count(RETRIED)
    done_before_crash = stack.anonymisation_counts(campaign)[0]
    stack.postgres.crash()
    assert done_before_crash < RESPONSES, "PostgreSQL must crash in the middle of the job"
    time.sleep(2)  # the worker's transaction dies with the server; the task fails and schedules its retry
    stack.postgres.start()

    assert_anonymised_exactly_once(stack, campaign)
    assert celery_worker.process.poll() is None, "the worker survived the database restart"
    assert celery_worker.log_text().count(RETRIED) > retries, "the task retried itself after the crash"


def test_redis_restart_mid_job_the_next_sweep_finishes_and_nothing_is_anonymised_twice(
    services_restored, celery_worker, campaign
):
    stack = services_restored
    stack.manage("synthesize", "--campaign", campaign, "--count", str(RESPONSES), "--seed", "7")
    stack.send_sweep()
    wait_for(lambda: stack.anonymisation_counts(campaign)[0] >= RESPONSES // 10, timeout=120, what="the job under way")

    connections = celery_worker.log_text().count(CONNECTED)
    sweeps = sweeps_done(celery_worker)
    stack.redis.stop()  # no persistence: the queue and the unacknowledged message are gone
    done_during_outage = stack.anonymisation_counts(campaign)[0]
    assert done_during_outage < RESPONSES, "Redis must go away in the middle of the job"
    time.sleep(2)
    stack.redis.start()

    # The running task needs only the database, so it carries on; the worker notices the lost broker connection
    # when it finishes and reconnects on its own. Then the sweep beat sends every five minutes (sent here) finds
    # whatever is still pending: together each response is anonymised exactly once.
    wait_for(lambda: celery_worker.log_text().count(CONNECTED) > connections, timeout=240, what="the reconnection")
    stack.send_sweep()
    wait_for(lambda: sweeps_done(celery_worker) >= sweeps + 2, timeout=240, what="the second sweep")
    assert_anonymised_exactly_once(stack, campaign)
    assert celery_worker.process.poll() is None, "the worker survived the Redis restart"
