"""Coded records: the snapshot read from codes equals the one read from the microdata frame, cell for cell.

The reference is the JSON path the exports use (:func:`analysis.exports.microdata_frame`, k-anonymity by
:func:`analysis.privacy.kanonymity.enforce`, :func:`analysis.aggregation.count_campaign`); the coded path must
publish exactly the same tables from the same records.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from django.db import connection
from psycopg import sql

from analysis import coding
from analysis.aggregation import count_campaign, count_coded, publish
from analysis.anonymisation import anonymised_answers, campaign_enforce_k, campaign_layout, week_of
from analysis.exports import microdata_frame
from analysis.models import AggregateSnapshot, AnonymisedResponse
from analysis.privacy.kanonymity import SUPPRESSED
from analysis.snapshots import _copy_format_into, _copy_read_into, coded_input, enforce_k_on_codes, snapshot_build
from survey.definition import load_definition_file
from survey.districts import DORTMUND_DISTRICTS
from tests.analysis.test_aggregation import ANSWERED_ON, shared_rows, synthetic_answers, synthetic_campaign
from tests.worker.support import DEMO, demo_answers, demo_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def definition():
    loaded, _data = load_definition_file(DEMO)
    return loaded


@pytest.fixture(scope="module")
def layout(definition):
    return coding.layout_for(definition, DORTMUND_DISTRICTS)


def frame_path_tables(campaign, breakdowns):
    counts = count_campaign(microdata_frame(campaign=campaign), campaign.definition, breakdowns=breakdowns)
    return counts, publish(counts, k=campaign.k)


def coded_path_tables(campaign, breakdowns):
    layout = campaign_layout(campaign)
    matrix, _digest = coded_input(campaign=campaign, layout=layout)
    enforce_k_on_codes(matrix, layout, k=campaign.k)
    counts = count_coded(matrix, layout, campaign.definition, breakdowns=breakdowns)
    return counts, publish(counts, k=campaign.k)


# --- the coding itself (pure) ----------------------------------------------------------------------------


def test_a_record_is_coded_and_decoded_into_its_answers(definition, layout):
    answers = anonymised_answers(definition, synthetic_answers(definition, random.Random(3)), answered_on=ANSWERED_ON)
    answers["gender"] = SUPPRESSED
    blob = coding.encode(layout, answers)
    assert len(blob) == layout.record_size
    matrix = coding.decode_matrix(blob * 3, 3, layout)
    assert matrix.shape == (3, layout.record_size)
    for variable in layout.variables:
        value = answers.get(variable.key)
        if variable.kind is coding.Kind.MULTI:
            got = [coding.column(matrix, variable, j)[2] for j in range(variable.slots)]
            expected = [coding.NO_ANSWER_CODE] * variable.slots
            if value is not None:
                expected = [coding.MULTI_TICKED if o in value else coding.MULTI_NOT_TICKED for o in variable.labels]
            assert got == expected, variable.key
            continue
        code = int(coding.column(matrix, variable)[1])
        if value is None:
            assert code == coding.NO_ANSWER_CODE, variable.key
        elif variable.kind is coding.Kind.NUMBER:
            assert code - 1 + variable.low == value, variable.key
        elif value == SUPPRESSED:
            assert code == variable.suppressed_code, variable.key
        else:
            assert variable.labels[code - 1] == str(value), variable.key


def test_a_value_the_definition_does_not_know_cannot_be_coded(definition, layout):
    with pytest.raises(coding.Uncodable):
        coding.encode(layout, {"status": "astronaut"})
    with pytest.raises(coding.Uncodable):
        coding.encode(layout, {"school_grade": 99})  # outside min/max
    with pytest.raises(coding.Uncodable):
        coding.encode(layout, {"school_grade": 7.5})
    assert coding.encode_or_none(layout, {"migration_background": ["myself", "martian"]}) is None
    assert coding.encode_or_none(layout, {}) == bytes(layout.record_size)  # nothing answered: all zero


def test_the_layout_follows_the_definition_and_the_districts(definition, layout):
    assert layout.complete
    assert layout.record_size == sum(v.width * v.slots for v in layout.variables)
    assert [v.key for v in layout.variables][:3] == [
        q.key for q in coding.counted_questions(definition) if q.key in {v.key for v in layout.variables}
    ][:3]
    assert layout.variable("birth_year").labels == ("under_14", "14-17", "18-20", "21-24", "25-27", "over_27")
    assert layout.variable("applications_until_place").width == 2  # 0 .. 300
    other = coding.layout_for(definition, [*DORTMUND_DISTRICTS, "Neustadt"])
    assert other.fingerprint != layout.fingerprint
    assert coding.layout_for(definition, DORTMUND_DISTRICTS) is layout


# --- the coded snapshot input ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_paths(django_db_setup, django_db_blocker):
    """3,000 records, k enforced and stored on 2,500 of them; 500 more that no k-pass has seen yet."""
    with shared_rows(django_db_blocker):
        campaign = synthetic_campaign(responses=2500, seed=11, slug="coded-agg")
        campaign_enforce_k(campaign=campaign)
        rng = random.Random(12)
        definition = campaign.definition
        AnonymisedResponse.objects.bulk_create(
            AnonymisedResponse(
                campaign=campaign,
                survey_version=campaign.survey_version,
                week=week_of(ANSWERED_ON),
                answers=anonymised_answers(definition, synthetic_answers(definition, rng), answered_on=ANSWERED_ON),
            )
            for _ in range(500)
        )
        frame_counts, frame_tables = frame_path_tables(campaign, ["status", "school_type"])
        coded_counts, coded_tables = coded_path_tables(campaign, ["status", "school_type"])
        yield campaign, (frame_counts, frame_tables), (coded_counts, coded_tables)


def test_the_coded_path_publishes_exactly_the_tables_of_the_frame_path(two_paths):
    """Suppressed quasi-identifiers, multi choice, numbers, "other": every published cell and statistic."""
    _campaign, (frame_counts, frame_tables), (coded_counts, coded_tables) = two_paths
    assert coded_counts.respondents == frame_counts.respondents == 3000
    for key in frame_counts.items:
        assert coded_counts.items[key] == frame_counts.items[key], key
        assert coded_counts.overall[key].equals(frame_counts.overall[key]), key
        for b, table in frame_counts.crosstabs[key].items():
            assert coded_counts.crosstabs[key][b].equals(table), (key, b)
    assert coded_counts.statistics == frame_counts.statistics
    assert coded_tables == frame_tables


def test_the_input_covers_what_the_comparison_claims(two_paths):
    _campaign, (frame_counts, _tables), _coded = two_paths
    items = frame_counts.items
    assert "suppressed" in items["gender"].categories and "suppressed" in items["migration_background"].categories
    assert "other" in items["status"].categories and frame_counts.overall["status"]["other"] > 0
    assert frame_counts.statistics["applications_until_place"]["overall"].n > 0  # a number question
    assert any(name.startswith("migration_background__") for name in frame_counts.breakdowns)


def test_records_without_codes_are_coded_when_a_snapshot_is_built(two_paths):
    campaign = two_paths[0]
    layout = campaign_layout(campaign)
    assert AnonymisedResponse.objects.filter(campaign=campaign, codes_layout=layout.fingerprint).count() == 3000
    record = AnonymisedResponse.objects.filter(campaign=campaign).order_by("id").first()
    assert bytes(record.codes) == coding.encode(layout, record.answers)


def test_a_record_that_cannot_be_coded_sends_the_build_through_the_frame_path():
    campaign = synthetic_campaign(responses=60, seed=4, slug="uncodable", k=3)
    record = AnonymisedResponse.objects.filter(campaign=campaign).first()
    record.answers = {**record.answers, "status": "astronaut"}
    record.save()
    snapshot = snapshot_build(campaign=campaign)
    assert coded_input(campaign=campaign, layout=campaign_layout(campaign)) is None
    assert "astronaut" in snapshot.tables["questions"]["status"]["categories"]
    assert snapshot.response_count == 60
    _counts, expected = frame_path_tables(campaign, [])
    assert {name: t["cells"] for name, t in snapshot.tables["tables"].items()} == {
        name: t["cells"] for name, t in expected["tables"].items()
    }


def test_an_unchanged_campaign_keeps_its_snapshot_and_one_changed_record_rebuilds_it():
    campaign = demo_campaign(slug="coded-hash", k=2)
    definition = campaign.definition
    AnonymisedResponse.objects.bulk_create(
        AnonymisedResponse(
            campaign=campaign,
            survey_version=campaign.survey_version,
            week=week_of(ANSWERED_ON),
            answers=anonymised_answers(definition, demo_answers(n), answered_on=ANSWERED_ON),
        )
        for n in range(30)
    )
    first = snapshot_build(campaign=campaign, breakdowns=["status"])
    assert snapshot_build(campaign=campaign) == first

    record = AnonymisedResponse.objects.filter(campaign=campaign, answers__status="school").order_by("id").first()
    answers = {**record.answers, "status": "university"}
    AnonymisedResponse.objects.filter(pk=record.pk).update(
        answers=answers, codes=coding.encode(campaign_layout(campaign), answers)
    )
    changed = snapshot_build(campaign=campaign)
    assert changed.pk != first.pk and changed.input_hash != first.input_hash
    assert AggregateSnapshot.objects.filter(campaign=campaign).count() == 2
    before, after = first.tables["tables"]["status"], changed.tables["tables"]["status"]
    assert before["columns"][:3] == after["columns"][:3] == ["school", "ausbildung", "university"]
    assert before["cells"][0][:2] == [10, 10] and after["cells"][0][1] == 10
    assert after["cells"][0][0] != 10 and after["cells"][0][2] != 0  # 9 and 1, or hidden


def test_k_enforcement_on_codes_leaves_every_quasi_identifier_combination_k_times_or_suppressed(two_paths):
    campaign = two_paths[0]
    layout = campaign_layout(campaign)
    matrix, _digest = coded_input(campaign=campaign, layout=layout)
    suppressed = enforce_k_on_codes(matrix, layout, k=campaign.k)
    assert suppressed > 0
    qi = [v for v in layout.variables if v.quasi_identifier]
    block = np.hstack([matrix[:, v.offset : v.offset + v.width * v.slots] for v in qi])
    _unique, counts = np.unique(block, axis=0, return_counts=True)
    assert counts.min() >= campaign.k
    assert enforce_k_on_codes(matrix, layout, k=campaign.k) == 0  # nothing left to do


def test_a_campaign_without_records_gets_an_empty_snapshot_from_the_coded_path():
    campaign = demo_campaign(slug="coded-empty")
    matrix, _digest = coded_input(campaign=campaign, layout=campaign_layout(campaign))
    assert matrix.shape == (0, campaign_layout(campaign).record_size)
    snapshot = snapshot_build(campaign=campaign)
    assert snapshot.response_count == 0 and snapshot.tables["respondents"] == 0


def test_the_sqlite_reader_writes_exactly_the_bytes_postgresql_copy_sends():
    """``make run`` aggregates on SQLite through :func:`analysis.snapshots._copy_format_into`; it must hand the
    reader what PostgreSQL's binary COPY sends, record without codes (length -1) included."""
    campaign = synthetic_campaign(responses=40, seed=5, slug="copy-format", k=3)
    coded_input(campaign=campaign, layout=campaign_layout(campaign))  # codes every record
    AnonymisedResponse.objects.filter(pk=AnonymisedResponse.objects.filter(campaign=campaign).first().pk).update(
        codes=None
    )
    statement = sql.SQL(
        "COPY (SELECT id, codes FROM analysis_anonymisedresponse WHERE campaign_id = {} ORDER BY id)"
        " TO STDOUT (FORMAT binary)"
    ).format(sql.Literal(campaign.pk))
    sent = bytearray()
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        _copy_read_into(copy, sent)
    written = bytearray()
    rows = AnonymisedResponse.objects.filter(campaign=campaign).order_by("id").values_list("id", "codes")
    _copy_format_into(rows, written)
    assert written == sent
    assert sent.count(b"\x00\x02\x00\x00\x00\x10") >= 40  # every record, one of them without codes
