"""Retention: raw answers and drafts are deleted on time, and the deletions are counted, not described."""

import datetime
import uuid

import pytest

from analysis.anonymisation import response_anonymise
from analysis.models import AnonymisedResponse, DeletionRecord, ResponseAnonymisation
from analysis.retention import purge_expired
from survey.models import Draft, Response
from tests.worker.support import mini_campaign, response_create

pytestmark = pytest.mark.django_db

SUBMITTED = datetime.date(2026, 3, 2)


def draft_create(campaign, *, status=Draft.Status.OPEN, expires_on=datetime.date(2026, 3, 30), draft_id=None):
    return Draft.objects.create(
        id=draft_id or uuid.uuid4(),
        campaign=campaign,
        survey_version=campaign.survey_version,
        status=status,
        answers={} if status == Draft.Status.SUBMITTED else {"status": "school"},
        language="de",
        consent_version=1,
        expires_on=expires_on,
    )


def records() -> set[tuple[str, str, int, datetime.date]]:
    return {(r.campaign_slug, r.kind, r.count, r.deleted_on) for r in DeletionRecord.objects.all()}


def test_nothing_is_deleted_before_the_retention_period_ends():
    campaign = mini_campaign(retention_days=30)
    response_create(campaign, {"status": "school"}, submitted_on=SUBMITTED)
    purge = purge_expired(today=SUBMITTED + datetime.timedelta(days=30))
    assert purge.counts == {}
    assert Response.objects.count() == 1
    assert not DeletionRecord.objects.exists()


def test_past_the_period_raw_responses_and_drafts_are_gone_and_the_deletion_records_say_how_many():
    campaign = mini_campaign(retention_days=30)
    other = mini_campaign(slug="other", retention_days=365)
    anonymised = response_create(campaign, {"status": "school"}, submitted_on=SUBMITTED)
    response_anonymise(response_id=anonymised.pk)
    pending = response_create(campaign, {"status": "training"}, submitted_on=SUBMITTED)
    kept = response_create(other, {"status": "school"}, submitted_on=SUBMITTED)
    draft_create(campaign, status=Draft.Status.SUBMITTED, draft_id=pending.draft_id)
    draft_create(campaign, expires_on=datetime.date(2026, 3, 30))
    draft_create(campaign, expires_on=datetime.date(2026, 5, 30))  # still open and not expired
    today = SUBMITTED + datetime.timedelta(days=31)

    purge = purge_expired(today=today)

    assert list(Response.objects.all()) == [kept]
    assert not ResponseAnonymisation.objects.exists()
    assert list(Draft.objects.values_list("expires_on", flat=True)) == [datetime.date(2026, 5, 30)]
    assert records() == {
        ("mini", "raw_response", 2, today),
        ("mini", "expired_draft", 1, today),
        ("mini", "submitted_draft", 1, today),
    }
    assert purge.total("raw_response") == 2
    # The pending response was anonymised before its raw answers went; both contribute to the analysis.
    assert AnonymisedResponse.objects.count() == 2


def test_a_submitted_draft_stays_on_the_day_of_its_submission_and_goes_the_day_after():
    campaign = mini_campaign()
    response = response_create(campaign, {"status": "school"}, submitted_on=SUBMITTED)
    draft_create(campaign, status=Draft.Status.SUBMITTED, draft_id=response.draft_id)
    purge_expired(today=SUBMITTED)
    assert Draft.objects.count() == 1
    purge_expired(today=SUBMITTED + datetime.timedelta(days=1))
    assert not Draft.objects.exists()
    assert Response.objects.count() == 1  # its own retention has not ended


def test_running_again_deletes_nothing_more_and_records_nothing_more():
    campaign = mini_campaign(retention_days=1)
    response_create(campaign, {"status": "school"}, submitted_on=SUBMITTED)
    today = SUBMITTED + datetime.timedelta(days=5)
    purge_expired(today=today)
    assert purge_expired(today=today).counts == {}
    assert records() == {("mini", "raw_response", 1, today)}


def test_the_command_prints_the_counts():
    from io import StringIO

    from django.core.management import call_command

    campaign = mini_campaign(retention_days=1)
    response_create(campaign, {"status": "school"}, submitted_on=SUBMITTED)
    out = StringIO()
    call_command("purge_expired", "--today", "2026-04-01", stdout=out)
    assert out.getvalue().splitlines() == [
        "raw_response: deleted 1",
        "expired_draft: deleted 0",
        "submitted_draft: deleted 0",
    ]
