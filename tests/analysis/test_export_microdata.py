"""Microdata export: one row per anonymised response, one column per answer, k-anonymous on export."""

import csv
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from analysis.anonymisation import campaign_anonymise, response_anonymise
from analysis.exports import microdata_csv, microdata_frame
from analysis.privacy.kanonymity import SUPPRESSED, is_k_anonymous
from tests.worker.support import demo_answers, demo_campaign, mini_campaign, response_create

pytestmark = pytest.mark.django_db


def test_one_row_per_record_one_column_per_answer_and_multi_choice_as_0_1_per_option(tmp_path):
    campaign = mini_campaign(k=2)
    for _ in range(2):
        response_create(
            campaign,
            {
                "status": "job_seeking",
                "months_searching": 7,
                "barriers": ["language", "other"],
                "barriers_other": "Keine Wohnung",
                "birth_year": 2005,
                "district": "eving",
                "wishes": "=1+1",
            },
        )
    campaign_anonymise(campaign=campaign)

    out = tmp_path / "mini.csv"
    assert microdata_csv(campaign=campaign, out=out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))

    assert list(rows[0]) == [
        "id",
        "week",
        "survey_version",
        "status",
        "status_other",
        "training_field",
        "training_happy",
        "months_searching",
        "barriers__language",
        "barriers__recognition",
        "barriers__none",
        "barriers__other",
        "barriers_other",
        "barriers_detail",
        "birth_year",
        "district",
        "happy_in_city",
        "wishes",
    ]
    row = rows[0]
    assert (row["status"], row["months_searching"], row["barriers_other"]) == ("job_seeking", "7", "Keine Wohnung")
    assert [row[f"barriers__{o}"] for o in ("language", "recognition", "none", "other")] == ["1", "0", "0", "1"]
    assert row["birth_year"] not in ("2005", "")  # a band, never the year
    assert row["wishes"] == "'=1+1"  # no formula reaches a spreadsheet
    assert row["training_field"] == ""


def test_the_export_enforces_k_itself_even_before_the_sweep_ran():
    campaign = demo_campaign(k=3)
    for n in range(6):
        response_anonymise(response_id=response_create(campaign, demo_answers(n)).pk)
    lone = response_create(campaign, demo_answers(0, district="mengede", migration_background=["grandparents"]))
    response_anonymise(response_id=lone.pk)  # no campaign run: the stored records are not k-anonymous yet

    frame = microdata_frame(campaign=campaign)

    background = [c for c in frame.columns if c.startswith("migration_background__")]
    qi = frame[["birth_year", "gender", "district", "country_of_birth", "years_in_germany", *background]]
    assert is_k_anonymous(qi.astype(str), 3)
    assert "mengede" not in set(frame["district"])
    assert SUPPRESSED in set(frame["district"])


def test_rows_are_in_random_id_order_not_in_order_of_submission():
    campaign = mini_campaign(k=2)
    for _ in range(5):
        response_anonymise(response_id=response_create(campaign, {"status": "school"}).pk)
    frame = microdata_frame(campaign=campaign)
    assert frame["id"].tolist() == sorted(frame["id"])


def test_the_command_writes_csv_and_refuses_what_cannot_be_exported(tmp_path):
    campaign = mini_campaign(k=2)
    response_create(campaign, {"status": "school"})
    call_command("anonymise", "--campaign", "mini", stdout=StringIO())
    out = StringIO()
    call_command(
        "export",
        "--campaign",
        "mini",
        "--what",
        "microdata",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x.csv"),
        stdout=out,
    )
    assert out.getvalue().strip() == f"mini: 1 rows written to {tmp_path / 'x.csv'}"
    assert len(pd.read_csv(tmp_path / "x.csv")) == 1

    with pytest.raises(CommandError, match=r"^Campaign mini has no published aggregates yet"):
        call_command("export", "--campaign", "mini", "--what", "aggregates", "--out", str(tmp_path / "y"))
    with pytest.raises(CommandError, match=r"^Export of microdata as parquet is not available yet"):
        call_command("export", "--campaign", "mini", "--format", "parquet", "--out", str(tmp_path / "y"))
    with pytest.raises(CommandError, match="No campaign 'nope'"):
        call_command("export", "--campaign", "nope", "--out", str(tmp_path / "y"))
    assert campaign.pk


def test_the_anonymise_command_prints_counts_per_campaign():
    campaign = mini_campaign(k=2)
    response_create(campaign, {"status": "school"})
    out = StringIO()
    call_command("anonymise", stdout=out)
    assert out.getvalue().strip() == "mini: anonymised 1, suppressed values 2"
    out = StringIO()
    call_command("anonymise", stdout=out)
    assert out.getvalue().strip() == "Nothing to anonymise."
