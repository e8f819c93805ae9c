"""Redis is down while young people submit: every answer is stored, and the sweep anonymises it later."""

import logging
import socket

import pytest
from django.test import Client

from analysis.anonymisation import pending_responses
from analysis.models import AnonymisedResponse
from survey.models import Response
from tests.support.journey import answer_step, start
from tests.worker.conftest import wait_for
from tests.worker.support import mini_campaign
from worker import tasks

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def dead_port() -> int:
    """A local port nobody listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def submit(campaign, *, district: str) -> str:
    client = Client()
    assert start(client, campaign).status_code == 302
    answer_step(client, campaign, "status_step", {"status": "school"})
    done = answer_step(client, campaign, "about_step", {"birth_year": "2008", "district": district})
    thanks = client.get(done["Location"])
    assert thanks.status_code == 302
    return thanks["Location"]


def test_submissions_succeed_while_the_broker_is_down_and_the_sweep_anonymises_them(
    celery_worker, enqueue, settings, caplog
):
    campaign = mini_campaign()
    live_broker = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{dead_port()}/0"

    with caplog.at_level(logging.WARNING, logger="analysis.anonymisation"):
        locations = [submit(campaign, district=district) for district in ("eving", "brackel", "eving")]

    assert locations == ["/s/mini/thanks/"] * 3
    responses = list(Response.objects.all())
    assert len(responses) == 3 and pending_responses().count() == 3
    warnings = [record.getMessage() for record in caplog.records if record.name == "analysis.anonymisation"]
    assert warnings == ["Broker unavailable, anonymisation left to the sweep (OperationalError)"] * 3
    assert not any(str(response.pk) in message for response in responses for message in caplog.messages)

    # The broker is back: the sweep (sent by beat every five minutes) picks up what was never queued.
    settings.CELERY_BROKER_URL = live_broker
    enqueue(tasks.anonymise_pending)
    wait_for(lambda: not pending_responses().exists(), what="the sweep to anonymise the stored responses")
    assert AnonymisedResponse.objects.filter(campaign=campaign).count() == 3


def test_with_the_broker_up_a_submission_is_queued_and_anonymised_at_once(celery_worker, settings, monkeypatch):
    """The path without outage: ``draft_submit`` queues the task after commit (here: to the test's queue)."""
    from tests.worker.conftest import QUEUE

    original = tasks.anonymise_response.apply_async
    monkeypatch.setattr(
        tasks.anonymise_response, "apply_async", lambda *args, **kwargs: original(*args, **kwargs, queue=QUEUE)
    )
    campaign = mini_campaign()
    assert submit(campaign, district="eving") == "/s/mini/thanks/"
    wait_for(lambda: AnonymisedResponse.objects.filter(campaign=campaign).exists(), what="the queued task")
    assert not pending_responses().exists()
