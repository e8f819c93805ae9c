"""Snapshots: built once per input, only suppressed tables stored, readable through the selectors."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from analysis.aggregation import NO_ANSWER, TICKED
from analysis.anonymisation import response_anonymise
from analysis.disclosure import TOTAL, SuppressedTable, audit_recoverable, is_hidden, primary_marker
from analysis.models import AggregateSnapshot, AnonymisedResponse, DeletionRecord
from analysis.retention import purge_expired
from analysis.selectors import (
    latest_snapshot,
    snapshot_compare,
    snapshot_crosstab,
    snapshot_overview,
    snapshot_question,
    snapshot_themes,
)
from analysis.snapshots import snapshot_build
from survey.models import DailyTally, Response, StepReach
from tests.analysis.test_aggregation import shared_rows, synthetic_campaign
from tests.worker.support import demo_answers, demo_campaign, response_create
from worker.tasks import aggregate_campaign

pytestmark = pytest.mark.django_db


def as_suppressed_table(table: dict, k: int) -> SuppressedTable:
    """A published table of the snapshot JSON as the auditor reads it (published numbers and mask only)."""
    published = pd.DataFrame(table["cells"], index=table["rows"], columns=table["columns"], dtype=object)
    mask = published.map(is_hidden)
    reasons = published.map(lambda _value: "")
    return SuppressedTable(
        name=table["name"],
        question=table["question"],
        breakdown=table["breakdown"],
        additive=table["additive"],
        k=k,
        confidential_counts=published,  # never read by the auditor
        published=published,
        mask=mask,
        reasons=reasons,
    )


@pytest.fixture(scope="module")
def demo_snapshot(django_db_setup, django_db_blocker):
    """A snapshot of a synthetic demo campaign of 600 responses, broken down by status too (built once)."""
    with shared_rows(django_db_blocker):
        campaign = synthetic_campaign(responses=600, seed=7, slug="demo-snap")
        yield snapshot_build(campaign=campaign, breakdowns=["status"])


def test_the_auditor_finds_no_exposed_cell_in_the_published_tables_of_the_demo_campaign(demo_snapshot):
    snapshot = demo_snapshot
    campaign = snapshot.campaign
    tables = [as_suppressed_table(table, campaign.k) for table in snapshot.tables["tables"].values()]
    assert len(tables) > 300
    assert audit_recoverable(tables, k=campaign.k) == []
    assert snapshot.tables["suppressed_cells"] > 0


def test_only_published_values_are_stored(demo_snapshot):
    snapshot = demo_snapshot
    for table in snapshot.tables["tables"].values():
        for row in table["cells"]:
            assert all(is_hidden(value) or (isinstance(value, int) and not 1 <= value < 5) for value in row)
    assert "confidential" not in str(snapshot.tables)


def test_building_twice_on_the_same_input_returns_the_same_snapshot_and_a_new_response_changes_the_hash(
    demo_snapshot,
):
    first = demo_snapshot
    campaign = first.campaign
    again = snapshot_build(campaign=campaign)  # keeps the breakdowns of the latest snapshot
    assert again.pk == first.pk and again.input_hash == first.input_hash
    assert AggregateSnapshot.objects.filter(campaign=campaign).count() == 1
    assert re.fullmatch(r"[0-9a-f]{64}", first.input_hash)
    assert first.code_version.startswith("0.1.0+") or "+" in first.code_version

    record = AnonymisedResponse.objects.filter(campaign=campaign).first()
    AnonymisedResponse.objects.create(
        campaign=campaign, survey_version=campaign.survey_version, week=record.week, answers=record.answers
    )
    changed = snapshot_build(campaign=campaign)
    assert changed.pk != first.pk and changed.input_hash != first.input_hash
    assert changed.response_count == 601 and changed.breakdowns == ["status"]
    assert latest_snapshot(campaign=campaign) == changed


def test_the_funnel_comes_from_the_tallies():
    campaign = synthetic_campaign(responses=120, seed=5)
    DailyTally.objects.create(campaign=campaign, day=datetime.date(2026, 3, 2), started=150, completed=100)
    DailyTally.objects.create(campaign=campaign, day=datetime.date(2026, 3, 3), started=50, completed=20)
    reached = {"start": 200, "school_language": 180, "school_pupils": 3, "support": 160, "obstacles": 150}
    reached |= {"discrimination": 140, "trust": 130, "wishes": 125, "about_you": 122}
    for step, count in reached.items():
        StepReach.objects.create(campaign=campaign, step_key=step, reached=count)

    overview = snapshot_overview(snapshot_build(campaign=campaign))

    assert (overview["started"], overview["completed"], overview["completion_rate"]) == (200, 120, 0.6)
    funnel = {row["step"]: row for row in overview["funnel"]}
    assert funnel["start"] == {"step": "start", "reached": 200, "conditional": False, "drop_off": 20}
    assert funnel["school_pupils"]["reached"] == primary_marker(5)  # 3 < k
    assert funnel["about_you"]["drop_off"] == 2  # reached the last step, did not complete
    assert funnel["ausbildung"]["reached"] == 0 and funnel["ausbildung"]["drop_off"] is None
    assert overview["responses"] == 120
    district = overview["by_district"]
    assert district["question"] == "district" and district["rows"] == [TOTAL]


def test_the_selectors_read_questions_crosstabs_themes_and_the_multi_choice_breakdown(demo_snapshot):
    snapshot = demo_snapshot

    status = snapshot_question(snapshot, "status")
    assert status["table"]["columns"][-1] == TOTAL and NO_ANSWER in status["categories"]
    trust = snapshot_question(snapshot, "trust_city", breakdown="gender")
    assert trust["table"]["breakdown"] == "gender" and set(trust["statistics"]["by_group"]) == set(
        trust["table"]["rows"][:-1]
    )
    by_background = snapshot_crosstab(snapshot, "trust_city", "migration_background")
    assert by_background["multi_breakdown"] is True
    assert by_background["rows"][:-1] == list(snapshot.tables["questions"]["migration_background"]["indicators"])
    background = snapshot_question(snapshot, "migration_background")["table"]
    indicator = snapshot.tables["tables"]["migration_background__myself"]
    assert background["cells"][0][0] == indicator["cells"][0][indicator["columns"].index(TICKED)]
    themes = {entry["theme"]: entry for entry in snapshot_themes(snapshot)}
    assert {"bildung", "vertrauen", "teilhabe"} <= set(themes)
    assert [q["key"] for q in themes["vertrauen"]["questions"]][:2] == ["trust_schools", "trust_jobcenter"]
    assert snapshot_crosstab(snapshot, "trust_city", "status")["rows"][0] == "school"
    with pytest.raises(KeyError):
        snapshot_crosstab(snapshot, "trust_city", "school_type")  # not chosen as a breakdown


def test_two_campaigns_of_the_same_survey_are_compared_question_by_question(demo_snapshot):
    first = demo_snapshot
    second = snapshot_build(campaign=synthetic_campaign(responses=150, seed=2, slug="demo-b"))
    comparison = snapshot_compare(first, second)
    assert comparison["campaigns"] == ["demo-snap", "demo-b"]
    keys = [q["key"] for q in comparison["questions"]]
    assert "trust_city" in keys and "status" in keys
    row = next(q for q in comparison["questions"] if q["key"] == "trust_city")
    assert row["a"]["table"] == first.tables["tables"]["trust_city"]
    assert row["b"]["table"] == second.tables["tables"]["trust_city"]


def test_the_aggregate_command_prints_responses_tables_and_suppressed_cells(demo_snapshot):
    campaign = demo_snapshot.campaign
    out = StringIO()
    call_command("aggregate", "--campaign", campaign.slug, stdout=out)
    snapshot = latest_snapshot(campaign=campaign)
    assert snapshot == demo_snapshot  # nothing changed since: the same snapshot
    tables = snapshot.tables
    assert out.getvalue().strip() == (
        f"demo-snap: 600 responses, {len(tables['tables'])} tables, {tables['suppressed_cells']} suppressed cells "
        f"(snapshot {snapshot.pk}, input {snapshot.input_hash[:12]})"
    )
    assert aggregate_campaign(campaign.pk) == snapshot.pk  # the task: nothing changed, same snapshot


def test_raw_responses_included_in_a_later_snapshot_are_deleted_before_their_retention_ends():
    campaign = demo_campaign(slug="early", k=2, retention_days=365)
    today = timezone.localdate()
    included = [response_create(campaign, demo_answers(n)) for n in range(4)]
    for response in included:
        response_anonymise(response_id=response.pk)
    pending = response_create(campaign, demo_answers(1))
    snapshot = snapshot_build(campaign=campaign)

    purge_expired(today=today)  # the snapshot is from the day of the anonymisation: nothing goes yet
    assert Response.objects.filter(campaign=campaign).count() == 5

    AggregateSnapshot.objects.filter(pk=snapshot.pk).update(created_at=timezone.now() + datetime.timedelta(days=1))
    purge = purge_expired(today=today + datetime.timedelta(days=1))

    assert list(Response.objects.filter(campaign=campaign)) == [pending]
    assert purge.counts == {("early", "raw_response"): 4}
    record = DeletionRecord.objects.get(campaign=campaign)
    assert (record.kind, record.count) == ("raw_response", 4)
    assert AnonymisedResponse.objects.filter(campaign=campaign).count() == 4
