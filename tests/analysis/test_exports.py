"""Microdata in every format (CSV, XLSX, SPSS, Stata), the codebook export, the export log and queued exports.

A campaign of the demo survey gets a few hundred anonymised records from a seeded generator that follows the
definition (conditions, options, ranges, generalisation); the files are read back with pyreadstat/openpyxl and
compared with the database.
"""

from __future__ import annotations

import datetime
import functools
import random
import re
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from analysis import export_jobs
from analysis.anonymisation import anonymised_answers, campaign_enforce_k, week_of
from analysis.codebook import NO_ANSWER, SUPPRESSED_CODE, Kind, Variable
from analysis.export_jobs import ExportNotAvailable, export_create, export_file
from analysis.exports import STATA_LABEL_CHARS, NoSnapshot, microdata_codebook, microdata_frame
from analysis.models import AnonymisedResponse, ExportJob
from analysis.privacy.kanonymity import SUPPRESSED
from survey.definition import QuestionType, SurveyDefinition, load_definition_file, prune_answers
from survey.definition.model import NO, OTHER_VALUE, YES
from survey.demo import seed_demo
from survey.districts import DORTMUND_DISTRICTS, OUTSIDE_CITY, district_value
from survey.models import Campaign
from worker.celery import app
from worker.tasks import run_export

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "survey" / "definitions" / "ausbildung-arbeit-2023.yaml"
RECORDS = 300
TEXTS = ["Mehr Praktikumsplätze", "Beratung auf Arabisch", "Busverbindungen nach Eving", "=HYPERLINK(1)"]
ANSWERED_ON = datetime.date(2026, 11, 16)
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,27}$")


# --- The demo campaign with generated records --------------------------------------------------------------


def _raw_answers(definition: SurveyDefinition, rng: random.Random) -> dict[str, Any]:
    """One respondent's raw answers: every question answered or skipped the way the wizard allows.

    Quasi-identifiers come from a few common values, so that k-anonymity is reachable but still suppresses.
    """
    answers: dict[str, Any] = {}
    for question in definition.questions():
        if not question.takes_answer or (not question.required and rng.random() < 0.12):
            continue
        key, kind = question.key, question.type
        if key == "birth_year":
            answers[key] = rng.choice([2004, 2008, 2009, 1990])
        elif key == "country_of_birth":
            answers[key] = rng.choice(["germany", "syria", "syria", "turkey", "poland"])
        elif key == "gender":
            answers[key] = rng.choice(["female", "male", "male", "diverse"])
        elif key == "migration_background":
            answers[key] = rng.choice([["myself"], ["one_parent"], ["both_parents", "grandparents"]])
        elif kind is QuestionType.SINGLE_CHOICE:
            answers[key] = rng.choice(question.option_values())
        elif kind is QuestionType.MULTI_CHOICE:
            plain = [o.value for o in question.options if not o.exclusive] + ([OTHER_VALUE] if question.other else [])
            answers[key] = rng.sample(plain, rng.randint(1, min(3, question.max_choices or 3, len(plain))))
        elif kind is QuestionType.LIKERT:
            answers[key] = rng.randint(1, question.scale.points)
        elif kind is QuestionType.YES_NO:
            answers[key] = rng.choice([YES, NO])
        elif kind in (QuestionType.NUMBER, QuestionType.YEAR):
            answers[key] = rng.randint(question.min or 0, question.max if question.max is not None else 40)
        elif kind is QuestionType.DISTRICT:
            answers[key] = rng.choice([district_value("Eving"), district_value("Innenstadt-Nord"), OUTSIDE_CITY])
        else:
            answers[key] = rng.choice(TEXTS)
        if question.other and OTHER_VALUE in (answers[key] if isinstance(answers[key], list) else [answers[key]]):
            answers[question.other_key] = rng.choice(TEXTS)
    return prune_answers(definition, answers)


@functools.cache
def generated_records(seed: int = 20261123) -> tuple[dict[str, Any], ...]:
    """Anonymised answers (generalised, scrubbed) of ``RECORDS`` respondents; the same seed, the same records."""
    definition, _data = load_definition_file(DEMO)
    rng = random.Random(seed)
    return tuple(
        anonymised_answers(definition, _raw_answers(definition, rng), answered_on=ANSWERED_ON) for _ in range(RECORDS)
    )


@pytest.fixture
def campaign(settings, tmp_path) -> Campaign:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seed_demo sets passwords
    campaign = seed_demo(definition_path=DEMO).campaign
    AnonymisedResponse.objects.bulk_create(
        AnonymisedResponse(
            campaign=campaign, survey_version=campaign.survey_version, week=week_of(ANSWERED_ON), answers=answers
        )
        for answers in generated_records()
    )
    campaign_enforce_k(campaign=campaign)  # the stored records are k-anonymous, as after the sweep
    return Campaign.objects.select_related("survey_version", "organisation").get(pk=campaign.pk)


def _export(campaign: Campaign, fmt: str, path: Path, what: str = "microdata") -> str:
    out = StringIO()
    call_command("export", "--campaign", campaign.slug, "--what", what, "--format", fmt, "--out", str(path), stdout=out)
    return out.getvalue().strip()


def _stored(campaign: Campaign) -> list[dict[str, Any]]:
    return [record.answers for record in AnonymisedResponse.objects.filter(campaign=campaign)]


@functools.cache
def _stored_cached(campaign_id: int) -> tuple[dict[str, Any], ...]:
    return tuple(record.answers for record in AnonymisedResponse.objects.filter(campaign_id=campaign_id))


def _database_counts(campaign: Campaign, column: str) -> Counter:
    """How often each value of a microdata column is in the database (``None`` for no answer)."""
    definition = campaign.definition
    key, _sep, option = column.partition("__")
    counts: Counter = Counter()
    for answers in _stored_cached(campaign.pk):
        value = answers.get(key)
        if option:
            question = definition.question(key)
            assert question.type is QuestionType.MULTI_CHOICE
            value = value if value in (None, SUPPRESSED) else str(int(option in value))
        elif value is not None and value != SUPPRESSED:
            value = str(value)
        counts[value] += 1
    return counts


def _decoded_counts(codes: pd.Series, labels: dict[int | float, str]) -> Counter:
    return Counter(labels[int(code)] for code in codes)


def _expected_labels(campaign: Campaign, variable: Variable) -> Counter:
    column = variable.column
    by_value = {value.value: value.label for value in variable.values}
    by_value |= {None: variable.value_labels()[NO_ANSWER], SUPPRESSED: variable.value_labels()[SUPPRESSED_CODE]}
    return Counter({by_value[value]: n for value, n in _database_counts(campaign, column).items()})


# --- SPSS and Stata ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_sav_and_dta_carry_variable_and_value_labels_and_decode_to_the_database_counts(campaign, tmp_path, fmt):
    """Read back, every categorical variable decodes to the answer texts with the same counts as the database."""
    _stored_cached.cache_clear()
    path = tmp_path / f"demo.{fmt}"
    assert _export(campaign, fmt, path) == f"demo: {RECORDS} rows written to {path}"
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(path), user_missing=True) if fmt == "sav" else reader(str(path))
    codebook = microdata_codebook(campaign=campaign)

    assert len(data) == RECORDS
    assert meta.column_names == [variable.name for variable in codebook.variables]
    assert all(NAME_RE.match(name) for name in meta.column_names)
    assert len({name.lower() for name in meta.column_names}) == len(meta.column_names)

    labels = meta.column_names_to_labels
    status = codebook.variable("status")
    assert labels["status"] == "Was machst du gerade hauptsächlich?"
    assert meta.variable_value_labels["status"][1] == "Ich gehe zur Schule"
    assert meta.variable_value_labels["status"][10] == "Sonstiges"  # "other" after the nine options
    assert meta.variable_value_labels["status"][NO_ANSWER] == "no answer"
    assert meta.variable_value_labels["status"][SUPPRESSED_CODE] == "suppressed (k-anonymity)"
    assert status.value_labels() == meta.variable_value_labels["status"]
    assert meta.variable_value_labels["trust_city"][1] and meta.variable_value_labels["trust_city"][3] == "3"
    assert meta.variable_value_labels["international_class"] == {
        1: "Ja",
        0: "Nein",
        -1: "no answer",
        -2: status.value_labels()[-2],
    }
    assert meta.variable_value_labels["birth_year"][2] == "14-17"
    assert meta.variable_value_labels["district"][1] == "Innenstadt-West"
    if fmt == "dta":
        assert all(len(label) <= STATA_LABEL_CHARS for label in labels.values())
    else:
        user_missing = [{"lo": float(code), "hi": float(code)} for code in (NO_ANSWER, SUPPRESSED_CODE)]
        assert meta.missing_ranges["status"] == user_missing

    for variable in codebook.variables:
        if variable.kind != Kind.CATEGORICAL:
            continue
        value_labels = meta.variable_value_labels[variable.name]
        assert _decoded_counts(data[variable.name], value_labels) == _expected_labels(campaign, variable), (
            variable.column
        )
    assert (data["birth_year"] == SUPPRESSED_CODE).any()  # k-anonymity did suppress, and it is coded
    assert set(data["wishes_city"]) - {""} <= set(TEXTS) - {"=HYPERLINK(1)"} | {"=HYPERLINK(1)"}


def test_long_labels_are_cut_for_stata_but_the_full_text_stays_in_spss(campaign, tmp_path):
    """Stata allows 80 characters per label; multi-choice labels ("question: option") are often longer."""
    _export(campaign, "sav", tmp_path / "a.sav")
    _export(campaign, "dta", tmp_path / "a.dta")
    _data, sav = pyreadstat.read_sav(str(tmp_path / "a.sav"), metadataonly=True)
    _data, dta = pyreadstat.read_dta(str(tmp_path / "a.dta"), metadataonly=True)
    longest = max(sav.column_names_to_labels.values(), key=len)
    assert len(longest) > STATA_LABEL_CHARS
    name = next(name for name, label in sav.column_names_to_labels.items() if label == longest)
    assert dta.column_names_to_labels[name].endswith("…")
    assert len(dta.column_names_to_labels[name]) <= STATA_LABEL_CHARS
    assert longest.startswith(dta.column_names_to_labels[name][:-1])


def test_long_column_names_are_shortened_deterministically_and_kept_in_the_codebook(campaign):
    codebook = microdata_codebook(campaign=campaign)
    long = [variable for variable in codebook.variables if len(variable.column) > 28]
    assert long, "the demo survey has multi-choice columns longer than 28 characters"
    for variable in long:
        assert NAME_RE.match(variable.name)
        assert variable.name != variable.column
    assert [v.name for v in microdata_codebook(campaign=campaign).variables] == [v.name for v in codebook.variables]


def test_free_texts_are_string_variables_in_spss(campaign, tmp_path):
    _export(campaign, "sav", tmp_path / "t.sav")
    data, meta = pyreadstat.read_sav(str(tmp_path / "t.sav"))
    assert meta.readstat_variable_types["wishes_city"] == "string"
    stored = Counter(answers.get("wishes_city", "") for answers in _stored(campaign))
    assert Counter(data["wishes_city"]) == stored


# --- XLSX and CSV -----------------------------------------------------------------------------------------------


def test_xlsx_has_the_data_sheet_with_the_csv_header_and_a_codebook_sheet(campaign, tmp_path):
    _export(campaign, "xlsx", tmp_path / "demo.xlsx")
    _export(campaign, "csv", tmp_path / "demo.csv")
    workbook = openpyxl.load_workbook(tmp_path / "demo.xlsx", read_only=True)
    assert workbook.sheetnames == ["data", "codebook"]
    rows = list(workbook["data"].iter_rows(values_only=True))
    assert (
        list(rows[0])
        == list(pd.read_csv(tmp_path / "demo.csv").columns)
        == list(microdata_frame(campaign=campaign).columns)
    )
    assert len(rows) == RECORDS + 1
    texts = {row[rows[0].index("wishes_city")] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in texts  # a formula never runs in Excel
    codebook_rows = list(workbook["codebook"].iter_rows(values_only=True))
    assert codebook_rows[0][:3] == ("Variable", "Column (CSV/XLSX)", "Label (question text)")
    assert len(codebook_rows) == len(microdata_codebook(campaign=campaign).variables) + 1


# --- The command, the log and queued jobs -----------------------------------------------------------------------


def test_the_codebook_export_writes_md_and_html(campaign, tmp_path):
    assert _export(campaign, "md", tmp_path / "c.md", what="codebook").startswith("demo: ")
    assert _export(campaign, "html", tmp_path / "c.html", what="codebook").startswith("demo: ")
    assert "| status | status |" in (tmp_path / "c.md").read_text(encoding="utf-8")
    assert '<th scope="row"><code>status</code></th>' in (tmp_path / "c.html").read_text(encoding="utf-8")


def test_the_command_refuses_unknown_formats_and_aggregates_without_a_snapshot(campaign, tmp_path):
    with pytest.raises(CommandError, match=r"^Export of microdata as parquet is not available yet"):
        _export(campaign, "parquet", tmp_path / "a")
    with pytest.raises(CommandError, match=r"^Export of codebook as csv is not available yet"):
        _export(campaign, "csv", tmp_path / "a", what="codebook")
    assert not ExportJob.objects.exists()
    with pytest.raises(CommandError, match=r"^Campaign demo has no published aggregates yet"):
        _export(campaign, "csv", tmp_path / "a.csv", what="aggregates")
    assert ExportJob.objects.get().reason == "NoSnapshot"
    assert not (tmp_path / "a.csv").exists()


# --- Aggregates (the published tables of a snapshot, in the JSON shape of docs/aggregation.md) ------------------

HIDDEN = "•"  # a complement: k or more people
SMALL = "< 5"  # 1 to k-1 people
NOTE = "Cells marked • are hidden so that no small group can be singled out."
SNAPSHOT = {
    "format": 1,
    "k": 5,
    "respondents": 300,
    "suppressed_cells": 5,
    "note": NOTE,
    "questions": {},
    "breakdowns": {},
    "themes": {},
    "tables": {
        "status": {
            "name": "status",
            "question": "status",
            "breakdown": None,
            "additive": True,
            "rows": ["Total"],
            "columns": ["school", "job", "_no_answer", "Total"],
            "cells": [[120, 170, 10, 300]],
            "row_percentages": [[40.0, 56.7, 3.3, 100.0]],
            "column_percentages": None,
            "suppressed_count": 0,
            "note": "",
        },
        "status by gender": {
            "name": "status by gender",
            "question": "status",
            "breakdown": "gender",
            "additive": True,
            "rows": ["female", "male", "diverse", "Total"],
            "columns": ["school", "job", "_no_answer", "Total"],
            "cells": [[60, HIDDEN, 5, 150], [58, 80, HIDDEN, 143], [SMALL, SMALL, 0, SMALL], [120, 170, 10, 300]],
            "row_percentages": [
                [40.0, None, 3.3, 100.0],
                [40.6, 55.9, None, 100.0],
                [None, None, 0.0, None],
                [40.0, 56.7, 3.3, 100.0],
            ],
            "column_percentages": None,
            "suppressed_count": 5,
            "note": NOTE,
        },
    },
}


@pytest.fixture
def snapshot(campaign):
    from analysis.models import AggregateSnapshot

    return AggregateSnapshot.objects.create(
        campaign=campaign,
        response_count=RECORDS,
        survey_version=campaign.survey_version,
        input_hash="0" * 64,
        code_version="test",
        tables=SNAPSHOT,
    )


def test_aggregates_as_csv_are_the_published_cells_with_hidden_ones_still_hidden(campaign, snapshot, tmp_path):
    assert _export(campaign, "csv", tmp_path / "agg.csv", what="aggregates").startswith("demo: 2 rows")
    frame = pd.read_csv(tmp_path / "agg.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "table",
        "question",
        "breakdown",
        "group",
        "category",
        "count",
        "row_percentage",
        "note",
    ]
    assert len(frame) == 4 + 16
    assert (frame["count"] == HIDDEN).sum() == 2 and (frame["count"] == SMALL).sum() == 3
    hidden = frame[frame["count"].isin([HIDDEN, SMALL])]
    assert set(hidden["row_percentage"]) == {""} and set(hidden["note"]) == {NOTE}
    male_job = frame[(frame["table"] == "status by gender") & (frame["group"] == "male") & (frame["category"] == "job")]
    assert male_job["count"].tolist() == ["80"]


def test_aggregates_as_xlsx_have_the_tables_with_notes_and_the_long_form(campaign, snapshot, tmp_path):
    _export(campaign, "xlsx", tmp_path / "agg.xlsx", what="aggregates")
    workbook = openpyxl.load_workbook(tmp_path / "agg.xlsx", read_only=True)
    assert workbook.sheetnames == ["about", "tables", "long"]
    tables = [row for row in workbook["tables"].iter_rows(values_only=True)]
    assert tables[tables.index(("status by gender",))] == ("status by gender",)
    assert any(row and row[0] == NOTE for row in tables)
    assert ("diverse", SMALL, SMALL, 0, SMALL) in tables
    assert len(list(workbook["long"].iter_rows())) == 1 + 20


def test_the_data_package_validates_and_reads_hidden_cells_as_empty(campaign, snapshot, tmp_path):
    from frictionless import Package, validate

    out = tmp_path / "package"
    assert _export(campaign, "dir", out, what="datapackage").startswith("demo: 2 rows")
    assert sorted(path.name for path in out.iterdir()) == ["datapackage.json", "status-by-gender.csv", "status.csv"]
    report = validate(out / "datapackage.json")
    assert report.valid, report.flatten(["type", "note"])
    rows = Package(out / "datapackage.json").get_resource("status-by-gender").read_rows()
    diverse = next(row for row in rows if row["gender"] == "diverse")
    assert (diverse["school"], diverse["_no_answer"], diverse["Total"]) == (None, 0, None)
    with pytest.raises(CommandError, match="exists already"):
        _export(campaign, "dir", out, what="datapackage")
    assert ExportJob.objects.filter(what="datapackage", status="done").count() == 1


def test_every_export_is_logged_with_who_what_format_and_rows_but_no_answers(campaign, tmp_path):
    for fmt in ("csv", "xlsx", "sav", "dta"):
        _export(campaign, fmt, tmp_path / f"x.{fmt}")
    _export(campaign, "html", tmp_path / "c.html", what="codebook")
    researcher = get_user_model().objects.get(username="demo-researcher")
    export_create(campaign=campaign, what="microdata", fmt="csv", user=researcher)

    jobs = list(ExportJob.objects.order_by("created_at", "pk"))
    assert [(j.what, j.format, j.rows, j.requester, j.status) for j in jobs] == [
        ("microdata", "csv", RECORDS, "command line", "done"),
        ("microdata", "xlsx", RECORDS, "command line", "done"),
        ("microdata", "sav", RECORDS, "command line", "done"),
        ("microdata", "dta", RECORDS, "command line", "done"),
        ("codebook", "html", len(microdata_codebook(campaign=campaign).variables), "command line", "done"),
        ("microdata", "csv", RECORDS, str(researcher.pk), "done"),
    ]
    assert jobs[0].path == str(tmp_path / "x.csv") and jobs[0].campaign_slug == "demo"
    assert jobs[-1].requested_via == ExportJob.Via.WEB
    logged = " ".join(
        str(value) for job in jobs for value in ExportJob.objects.filter(pk=job.pk).values().get().values()
    )
    for text in TEXTS:
        assert text not in logged
    assert "Ich gehe zur Schule" not in logged and "school" not in logged


def test_a_failed_export_is_logged_with_the_kind_of_error_only(campaign, tmp_path, settings):
    with pytest.raises(OSError):
        export_file(campaign=campaign, what="microdata", fmt="csv", out=tmp_path / "missing-dir" / "x.csv")
    job = ExportJob.objects.get()
    assert (job.status, job.reason, job.rows) == ("failed", "OSError", None)
    with pytest.raises(ExportNotAvailable, match=r"^Export of microdata as parquet is not available yet\.$"):
        export_create(campaign=campaign, what="microdata", fmt="parquet")
    assert ExportJob.objects.count() == 1  # nothing to log: nothing was tried
    with pytest.raises(NoSnapshot):
        export_create(campaign=campaign, what="aggregates", fmt="xlsx")
    assert ExportJob.objects.filter(status="failed", reason="NoSnapshot").count() == 1
    assert not list((Path(settings.MEDIA_ROOT) / "exports").glob("*"))  # no half-written file left


def test_a_small_export_is_written_at_once_to_media_exports(campaign, settings):
    job = export_create(campaign=campaign, what="microdata", fmt="sav")
    assert job.status == ExportJob.Status.DONE
    assert Path(job.path) == Path(settings.MEDIA_ROOT) / "exports" / f"demo-microdata-{job.pk}.sav"
    assert len(pyreadstat.read_sav(job.path)[0]) == RECORDS
    assert not list(Path(job.path).parent.glob("*.partial"))


def test_a_large_export_runs_through_the_celery_task_once_even_when_delivered_twice(
    campaign, monkeypatch, django_capture_on_commit_callbacks
):
    """Above the threshold the job is queued and sent on commit; a second delivery writes nothing."""
    monkeypatch.setattr(export_jobs, "LARGE_EXPORT_ROWS", 100)
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the real worker is tested in tests/worker
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_create(campaign=campaign, what="microdata", fmt="dta")
    assert job.status == ExportJob.Status.QUEUED and not job.path
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: run_export.delay(job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.rows == RECORDS
    written = Path(job.path).stat().st_mtime_ns
    assert run_export.delay(job.pk).get() is False
    assert run_export.apply(args=[job.pk]).get() is False
    assert Path(job.path).stat().st_mtime_ns == written
    assert ExportJob.objects.get(pk=job.pk).finished_at == job.finished_at


def test_a_job_left_running_by_a_dead_worker_runs_again_after_the_time_limit(campaign, settings):
    job = ExportJob.objects.create(
        campaign=campaign,
        campaign_slug=campaign.slug,
        what="microdata",
        format="csv",
        status=ExportJob.Status.RUNNING,
        started_at=datetime.datetime.now(datetime.UTC)
        - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5),
    )
    assert export_jobs.export_run(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    fresh = ExportJob.objects.create(
        campaign=campaign,
        campaign_slug=campaign.slug,
        what="microdata",
        format="csv",
        status=ExportJob.Status.RUNNING,
        started_at=timezone.now(),
    )
    assert export_jobs.export_run(job_id=fresh.pk) is False


def test_an_empty_campaign_exports_headers_only(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    campaign = seed_demo(definition_path=DEMO).campaign
    for fmt in ("csv", "xlsx", "sav", "dta"):
        assert _export(campaign, fmt, tmp_path / f"e.{fmt}").startswith("demo: 0 rows")
    assert len(pyreadstat.read_sav(str(tmp_path / "e.sav"))[0]) == 0


def test_district_labels_follow_the_organisation_and_its_display_order(campaign):
    variable = microdata_codebook(campaign=campaign).variable("district")
    assert [value.label for value in variable.values][: len(DORTMUND_DISTRICTS)] == DORTMUND_DISTRICTS
    assert variable.values[-1].value == OUTSIDE_CITY
