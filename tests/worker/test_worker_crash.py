"""A worker killed with SIGKILL in the middle of a batch: nothing lost, nothing anonymised twice."""

import pytest

from analysis.anonymisation import BATCH_SIZE, pending_responses
from analysis.models import AnonymisationRun, AnonymisedResponse, ResponseAnonymisation
from tests.worker.conftest import wait_for
from tests.worker.support import demo_answers, demo_campaign, responses_bulk_create
from worker import tasks

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Five of the anonymiser's batches (analysis.anonymisation.BATCH_SIZE, one transaction each): the kill lands while
# one is in flight.
RESPONSES = 500


def test_killed_mid_batch_then_restarted_every_response_is_anonymised_exactly_once(celery_worker, enqueue):
    campaign = demo_campaign(k=5)
    responses_bulk_create(campaign, [demo_answers(n) for n in range(RESPONSES)])

    enqueue(tasks.anonymise_pending)
    assert RESPONSES >= 4 * BATCH_SIZE
    wait_for(lambda: ResponseAnonymisation.objects.count() >= BATCH_SIZE, what="the first batch committed")
    celery_worker.kill()

    done = ResponseAnonymisation.objects.count()
    assert BATCH_SIZE <= done < RESPONSES, "the worker must die in the middle of the run"
    assert done % BATCH_SIZE == 0, "a batch is committed whole or not at all"
    # What was committed is complete (a record for every mark); what was in flight was rolled back.
    assert AnonymisedResponse.objects.count() == done
    assert pending_responses().count() == RESPONSES - done
    assert AnonymisationRun.objects.get().status == "running"  # the dead worker could not finish it

    # Restarted, the next sweep (beat sends one every five minutes) finishes the job.
    celery_worker.start()
    enqueue(tasks.anonymise_pending)
    wait_for(lambda: not pending_responses().exists(), timeout=60, what="every response anonymised")
    wait_for(lambda: not AnonymisedResponse.objects.filter(k_enforced=False).exists(), what="the k-anonymity pass")

    assert ResponseAnonymisation.objects.count() == RESPONSES
    assert AnonymisedResponse.objects.filter(campaign=campaign).count() == RESPONSES
    second = AnonymisationRun.objects.order_by("-created_at").first()
    wait_for(lambda: AnonymisationRun.objects.filter(pk=second.pk, status="done").exists(), what="the run done")
    second.refresh_from_db()
    assert second.anonymised == RESPONSES - done
