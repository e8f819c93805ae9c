"""The worker anonymises for real: tasks through Redis, a worker process, PostgreSQL, then the export."""

import datetime

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from analysis.anonymisation import pending_responses
from analysis.models import AnonymisationRun, AnonymisedResponse, DeletionRecord, ResponseAnonymisation
from analysis.privacy.kanonymity import is_k_anonymous
from survey.models import Response
from tests.worker.conftest import wait_for
from tests.worker.support import demo_answers, demo_campaign, response_create
from worker import tasks

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: Personal data a respondent might type, and what an attacker would look for in the data set.
PLANTED = {
    "wishes_city": "Ich heiße Anna Kowalski und wohne in der Musterstraße 12, 44137 Dortmund. Ruf an: 0176 23456789",
    "discrimination_story": (
        "Schreib mir: ahmed.hassan@gmail.com oder +49 231 9876543. IBAN DE89 3704 0044 0532 0130 00"
    ),
    "status_other": "Mein Name ist Oleksandr Petrenko, Tel. 0151/12345678",
    "city_priorities_other": (
        "My name is Fatima Al-Sayed, call 0231 555 0199, Praktikum bei Familie Yılmaz, Hauptstraße 5"
    ),
    "gender_other": "Oleksandr Petrenko, trans Mann",
    "country_of_birth_other": "Asmara, Eritrea",
}
NEEDLES = [
    "Anna", "Kowalski", "Musterstraße 12", "44137 Dortmund", "0176 23456789", "ahmed.hassan", "gmail.com",
    "+49 231 9876543", "DE89 3704", "0532 0130 00", "Oleksandr", "Petrenko", "0151/12345678", "Fatima",
    "Al-Sayed", "555 0199", "Yılmaz", "Hauptstraße 5", "Asmara", "Eritrea", "trans Mann",
]  # fmt: skip
QI_COLUMNS = ["birth_year", "gender", "district", "country_of_birth", "years_in_germany"]


def planted_answers(n: int) -> dict:
    # Rare combinations: the only 29-year-old from Mengede born in Kazakhstan, a diverse 14-year-old, ...
    rare = [
        {"birth_year": 1997, "district": "mengede", "country_of_birth": "kazakhstan"},
        {"birth_year": 2012, "gender": "diverse", "district": "huckarde", "country_of_birth": "other"},
        {"birth_year": 2003, "gender": "other", "district": "aplerbeck", "migration_background": ["grandparents"]},
        {"district": "lütgendorf", "country_of_birth": "iran", "years_in_germany": "under_1_year"},
        {"birth_year": 1999, "country_of_birth": "greece", "migration_background": ["both_parents", "myself"]},
    ][n]
    return demo_answers(n, status="other", city_priorities=["other"], **PLANTED) | rare


def test_submitted_responses_are_anonymised_by_the_worker_and_nothing_planted_survives(
    celery_worker, enqueue, tmp_path
):
    campaign = demo_campaign(k=5)
    responses = [response_create(campaign, demo_answers(n)) for n in range(20)]
    responses += [response_create(campaign, planted_answers(n)) for n in range(5)]

    for response in responses:
        enqueue(tasks.anonymise_response, str(response.pk))
    for response in responses[:5]:  # delivered twice: still one record each
        enqueue(tasks.anonymise_response, str(response.pk))
    wait_for(lambda: not pending_responses().exists(), what="every response anonymised")
    enqueue(tasks.anonymise_pending)
    wait_for(lambda: not AnonymisedResponse.objects.filter(k_enforced=False).exists(), what="the k-anonymity pass")

    assert AnonymisedResponse.objects.count() == ResponseAnonymisation.objects.count() == 25
    wait_for(lambda: AnonymisationRun.objects.filter(status="done").exists(), what="the run recorded as done")

    # The table as an attacker with database access reads it: every column of every row, as text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM analysis_anonymisedresponse AS t")
        table = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT answers::text FROM analysis_anonymisedresponse")
        answers = "\n".join(row[0] for row in cursor.fetchall())
    assert [needle for needle in NEEDLES if needle in table] == []
    assert [year for year in ("1997", "1999", "2003", "2012") if year in answers] == []

    out = tmp_path / "microdata.csv"
    call_command("export", "--campaign", campaign.slug, "--what", "microdata", "--format", "csv", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert [needle for needle in NEEDLES if needle in text] == []
    export = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(export) == 25
    qi = export[QI_COLUMNS + [c for c in export.columns if c.startswith("migration_background__")]]
    assert is_k_anonymous(qi, 5)
    assert "mengede" not in set(export["district"]) and "lütgendorf" not in set(export["district"])

    # Retention through the worker: once the period is over the raw answers go, and the deletions are counted.
    Response.objects.update(submitted_on=timezone.localdate() - datetime.timedelta(days=campaign.retention_days + 1))
    enqueue(tasks.purge_expired)
    wait_for(lambda: not Response.objects.exists(), what="raw responses deleted")
    wait_for(lambda: DeletionRecord.objects.exists(), what="the deletion record")
    record = DeletionRecord.objects.get()
    assert (record.campaign_slug, record.kind, record.count) == (campaign.slug, "raw_response", 25)
    assert AnonymisedResponse.objects.count() == 25
