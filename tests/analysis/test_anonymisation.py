"""Anonymisation of raw responses: generalised, scrubbed, unlinkable, exactly once, then k-anonymous."""

import datetime
import threading

import pytest
from django.db import connection, connections

from analysis import coding
from analysis.anonymisation import (
    anonymise_pending,
    anonymised_answers,
    campaign_anonymise,
    campaign_layout,
    names_found,
    pending_responses,
    response_anonymise,
    week_of,
)
from analysis.models import AnonymisationRun, AnonymisedResponse, ResponseAnonymisation
from analysis.privacy.kanonymity import SUPPRESSED, is_k_anonymous
from survey.models import Response
from tests.worker.support import demo_answers, demo_campaign, mini_campaign, response_create, responses_bulk_create

WEDNESDAY = datetime.date(2026, 5, 6)


@pytest.mark.django_db
def test_a_response_becomes_one_record_with_generalised_identifiers_and_scrubbed_text():
    campaign = demo_campaign()
    answers = demo_answers(
        0,
        wishes_city="Ruf mich an: 0176 23456789 oder schreib an lena.schulz@example.de",
        status="other",
        status_other="Praktikum bei Familie Yılmaz, Musterstraße 12",
        gender="other",
        gender_other="trans Mann",
        country_of_birth="other",
        country_of_birth_other="Eritrea, Asmara",
        birth_year=2008,
    )
    response = response_create(campaign, answers, submitted_on=WEDNESDAY)

    assert response_anonymise(response_id=response.pk) is True

    record = AnonymisedResponse.objects.get()
    assert record.week == datetime.date(2026, 5, 4)  # the Monday
    assert record.campaign == campaign and record.survey_version == campaign.survey_version
    assert record.answers["birth_year"] == "18-20"
    assert record.answers["district"] == "innenstadt_nord"
    assert record.answers["country_of_birth"] == "other"
    assert "country_of_birth_other" not in record.answers and "gender_other" not in record.answers
    assert record.answers["wishes_city"] == "Ruf mich an: [PHONE] oder schreib an [EMAIL]"
    assert "Musterstraße" not in record.answers["status_other"]
    assert record.answers["city_priorities"] == ["german_courses"]
    assert ResponseAnonymisation.objects.get().response == response
    layout = campaign_layout(campaign)  # the record is coded as it is stored, for the aggregation
    assert (bytes(record.codes), record.codes_layout) == (coding.encode(layout, record.answers), layout.fingerprint)


def test_the_record_has_no_field_that_could_link_it_to_the_response_or_the_time_of_answering():
    fields = {field.name for field in AnonymisedResponse._meta.get_fields()}
    assert fields == {"id", "campaign", "survey_version", "week", "answers", "codes", "codes_layout", "k_enforced"}
    assert AnonymisedResponse._meta.pk.get_internal_type() == "UUIDField"
    assert ResponseAnonymisation._meta.pk.name == "response"
    assert {field.name for field in ResponseAnonymisation._meta.get_fields()} == {"response", "anonymised_on"}


def test_week_of_is_the_monday():
    assert [week_of(datetime.date(2026, 5, d)).isoformat() for d in (4, 6, 10, 11)] == [
        "2026-05-04",
        "2026-05-04",
        "2026-05-04",
        "2026-05-11",
    ]


def test_a_name_found_in_one_answer_is_scrubbed_from_every_other_answer_too():
    from survey.definition import parse_definition
    from tests.support.definitions import mini_definition

    definition = parse_definition(mini_definition())
    answers = {
        "status": "other",
        "status_other": "Ich heiße Zorana Brkić",
        "training_field": "Mechatroniker",
        "wishes": "Grüße an zorana und alle, auch an Zoranas Schwester",
    }
    result = anonymised_answers(definition, answers, answered_on=WEDNESDAY)
    assert result["status_other"] == "Ich heiße [NAME] [NAME]"
    # Uncued and in lower case the scrubber alone would keep it; known from the other answer, it goes.
    assert "zorana" not in result["wishes"].lower()
    assert result["training_field"] == "Mechatroniker"  # an ordinary capitalised noun is not a name


def test_names_found_are_the_spans_replaced_by_name_placeholders():
    assert names_found("Mein Betreuer Herr Schmidtke, Tel 0176 23456789", "Mein Betreuer Herr [NAME], Tel [PHONE]") == [
        "Schmidtke"
    ]
    assert names_found("Text [NAME] von Ali Baba", "Text [NAME] von [NAME] [NAME]") == ["Ali", "Baba"]
    assert names_found("changed", "something else") == []


@pytest.mark.django_db
def test_anonymising_twice_makes_one_record_and_the_second_call_says_so():
    campaign = mini_campaign()
    response = response_create(campaign, {"status": "school", "birth_year": 2008})
    assert response_anonymise(response_id=response.pk) is True
    assert response_anonymise(response_id=response.pk) is False
    assert AnonymisedResponse.objects.count() == 1
    assert not pending_responses().exists()
    assert Response.objects.filter(pk=response.pk).exists()  # the raw row stays (marked) until retention


@pytest.mark.django_db
def test_campaign_run_anonymises_all_pending_in_batches_enforces_k_and_records_the_run():
    campaign = demo_campaign(k=5)
    responses_bulk_create(campaign, [demo_answers(n) for n in range(12)])
    response_create(campaign, demo_answers(0, district="mengede", country_of_birth="kazakhstan", birth_year=1996))

    result = campaign_anonymise(campaign=campaign, batch_size=5)

    assert result.anonymised == 13
    assert result.suppressed_values > 0
    assert AnonymisedResponse.objects.filter(campaign=campaign, k_enforced=True).count() == 13
    run = AnonymisationRun.objects.get()
    assert (run.status, run.anonymised, run.suppressed_values) == ("done", 13, result.suppressed_values)
    records = [record.answers for record in AnonymisedResponse.objects.all()]
    rare = [answers for answers in records if answers["district"] == SUPPRESSED]
    assert rare  # the lone Mengede respondent is no longer recognisable by district
    from analysis.anonymisation import qi_frame

    assert is_k_anonymous(qi_frame(campaign.definition, records), 5)
    layout = campaign_layout(campaign)  # the codes say "suppressed" wherever the answers do
    for record in AnonymisedResponse.objects.all():
        assert bytes(record.codes) == coding.encode(layout, record.answers)
    # A second run finds nothing to do and suppresses nothing more.
    assert campaign_anonymise(campaign=campaign).anonymised == 0


@pytest.mark.django_db
def test_a_response_that_cannot_be_anonymised_fails_the_run_without_blocking_the_others():
    campaign = mini_campaign()
    broken = response_create(campaign, {"status": "school", "birth_year": "not a year"})
    response_create(campaign, {"status": "school", "birth_year": 2008})

    result = campaign_anonymise(campaign=campaign)

    assert result.anonymised == 1
    run = AnonymisationRun.objects.get()
    assert run.status == "failed"
    assert run.reason == "1 responses could not be anonymised (ValueError); they stay pending."
    assert list(pending_responses()) == [broken]


@pytest.mark.django_db
def test_the_sweep_takes_every_campaign_with_pending_responses_or_unchecked_records():
    first, second = demo_campaign(slug="first"), mini_campaign(slug="second")
    response_create(first, demo_answers(0))
    done = response_create(second, {"status": "school"})
    response_anonymise(response_id=done.pk)  # anonymised by its own task, but not yet k-checked

    result = anonymise_pending()

    assert {slug: r.anonymised for slug, r in result.items()} == {"first": 1, "second": 0}
    assert not AnonymisedResponse.objects.filter(k_enforced=False).exists()
    assert anonymise_pending() == {}


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_anonymise_each_response_exactly_once():
    if connection.vendor != "postgresql":
        pytest.fail("row locks need PostgreSQL: run with DATABASE_URL=postgres://...")
    campaign = demo_campaign()
    responses_bulk_create(campaign, [demo_answers(n) for n in range(60)])
    errors = []

    def run() -> None:
        try:
            campaign_anonymise(campaign=campaign, batch_size=7)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AnonymisedResponse.objects.count() == ResponseAnonymisation.objects.count() == 60
    assert not pending_responses().exists()


@pytest.mark.django_db
def test_a_run_left_running_by_a_dead_worker_is_marked_failed_by_the_next_run(settings):
    from django.utils import timezone

    from analysis.anonymisation import RUN_ABANDONED

    campaign = mini_campaign()
    started = timezone.now() - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    abandoned = AnonymisationRun.objects.create(campaign=campaign, status="running", created_at=started)
    recent = AnonymisationRun.objects.create(campaign=campaign, status="running")  # may still be working

    campaign_anonymise(campaign=campaign)

    abandoned.refresh_from_db()
    recent.refresh_from_db()
    assert (abandoned.status, abandoned.reason) == ("failed", RUN_ABANDONED)
    assert recent.status == "running"
