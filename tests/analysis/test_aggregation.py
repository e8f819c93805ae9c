"""Aggregation: the counts equal an independent count of the exported microdata; statistics equal numpy's.

The synthetic campaign follows the demo survey (options, branching, quasi-identifiers generalised by the
real anonymiser); the independent count reads the microdata CSV with the csv module and counts with
``collections.Counter``, never through pandas or the aggregation module.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
import statistics
from collections import Counter
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.db import transaction
from scipy import stats as scipy_stats

from analysis.aggregation import (
    ANSWERED,
    NO_ANSWER,
    NOT_TICKED,
    TICKED,
    count_campaign,
    publish,
    statistic_of,
)
from analysis.anonymisation import anonymised_answers, week_of
from analysis.disclosure import SECONDARY_MARKER, TOTAL, primary_marker
from analysis.exports import microdata_csv, microdata_frame
from analysis.models import AnonymisedResponse
from survey.definition.conditions import evaluate
from survey.definition.model import Privacy, QuestionType
from tests.worker.support import demo_campaign

pytestmark = pytest.mark.django_db

DISTRICTS = ["innenstadt_nord", "innenstadt_west", "eving", "scharnhorst", "hoerde", "mengede", "outside_city"]
ANSWERED_ON = datetime.date(2026, 3, 4)


def synthetic_answers(definition, rng: random.Random) -> dict[str, Any]:
    """Raw answers that follow the definition: options, ranges, branching; about 8% of questions skipped."""
    answers: dict[str, Any] = {}
    for step in definition.steps:
        if not evaluate(step.show_if, answers):
            continue
        for question in step.questions:
            if not question.takes_answer or not evaluate(question.show_if, answers):
                continue
            if not question.required and rng.random() < 0.08:
                continue
            kind = question.type
            if kind in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
                options = question.option_values()
                answers[question.key] = options[min(int(rng.expovariate(0.6)), len(options) - 1)]
            elif kind is QuestionType.MULTI_CHOICE:
                options = question.option_values()
                weights = [1 / (n + 1) for n in range(len(options))]
                picked = {rng.choices(options, weights)[0] for _ in range(rng.randint(1, 3))}
                answers[question.key] = sorted(picked)
            elif kind is QuestionType.LIKERT:
                answers[question.key] = rng.choices([1, 2, 3, 4, 5], [1, 2, 4, 3, 2])[0]
            elif kind is QuestionType.NUMBER:
                answers[question.key] = rng.randint(question.min or 0, min(question.max or 40, 40))
            elif kind is QuestionType.YEAR:
                answers[question.key] = rng.randint(1999, 2012)
            elif kind is QuestionType.DISTRICT:
                answers[question.key] = rng.choices(DISTRICTS, [8, 6, 4, 3, 2, 1, 1])[0]
            elif kind in (QuestionType.TEXT, QuestionType.LONG_TEXT) and rng.random() < 0.1:
                answers[question.key] = "Mehr Beratung bitte."
    return answers


def synthetic_campaign(*, responses: int = 3000, seed: int = 20261123, slug: str = "demo-agg", k: int = 5):
    """A demo campaign with ``responses`` anonymised records (created directly, as the anonymiser would)."""
    campaign = demo_campaign(slug=slug, k=k)
    rng = random.Random(seed)
    definition = campaign.definition
    AnonymisedResponse.objects.bulk_create(
        AnonymisedResponse(
            campaign=campaign,
            survey_version=campaign.survey_version,
            week=week_of(ANSWERED_ON),
            answers=anonymised_answers(definition, synthetic_answers(definition, rng), answered_on=ANSWERED_ON),
            k_enforced=False,
        )
        for _ in range(responses)
    )
    return campaign


def csv_rows(campaign) -> list[dict[str, str]]:
    out = io.StringIO()
    microdata_csv(campaign=campaign, out=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def plain(value: str) -> str:
    """A CSV cell as a category label: "" -> no answer; "3.0" (a float column) -> "3"."""
    if value == "":
        return NO_ANSWER
    if value.endswith(".0") and value[:-2].isdigit():
        return value[:-2]
    return value


def labels_of(row: dict[str, str], question) -> list[str]:
    """The categories a CSV row counts in for ``question`` (several for a multi-choice question)."""
    if question.type is QuestionType.MULTI_CHOICE:
        cells = {option: row[f"{question.key}__{option}"] for option in question.option_values()}
        if "suppressed" in cells.values():
            return ["suppressed"]
        ticked = [option for option, cell in cells.items() if plain(cell) == "1"]
        return ticked or [NO_ANSWER]
    if question.type in (QuestionType.NUMBER, QuestionType.YEAR) and question.privacy is not Privacy.QUASI_IDENTIFIER:
        return [NO_ANSWER if row[question.key] == "" else ANSWERED]
    return [plain(row[question.key])]


def groups_of(row: dict[str, str], breakdown, definition) -> list[str]:
    question = definition.question(breakdown.question)
    if breakdown.option is None:
        return labels_of(row, question)
    return [TICKED if plain(row[f"{question.key}__{breakdown.option}"]) == "1" else NOT_TICKED]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One synthetic campaign of 3,000 responses, its CSV rows and its raw counts (built once)."""
    with shared_rows(django_db_blocker):
        campaign = synthetic_campaign()
        frame = microdata_frame(campaign=campaign)
        rows = csv_rows(campaign)
        counts = count_campaign(frame, campaign.definition, breakdowns=["status"])
        yield campaign, rows, counts


@contextmanager
def shared_rows(django_db_blocker):
    """Rows shared by the tests of a module, rolled back afterwards (each test runs in a savepoint inside)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def test_every_count_equals_an_independent_count_of_the_exported_csv(demo):
    """Overall tables, every cross-tab (indicator breakdowns included) and the group sizes match Counter."""
    campaign, rows, counts = demo
    definition = campaign.definition
    assert counts.respondents == len(rows) == 3000
    assert set(counts.breakdowns) >= {"birth_year", "gender", "district", "country_of_birth", "years_in_germany"}
    assert "migration_background__myself" in counts.breakdowns and "status" in counts.breakdowns
    checked = 0
    for key, item in counts.items.items():
        question = definition.question(key)
        expected = Counter(label for row in rows for label in labels_of(row, question))
        assert counts.overall[key].to_dict() == {c: expected.get(c, 0) for c in item.categories}, key
        assert set(expected) <= set(item.categories), key
        for b, table in counts.crosstabs[key].items():
            spec = counts.breakdowns[b]
            pairs = Counter(
                (group, label)
                for row in rows
                for group in groups_of(row, spec, definition)
                for label in labels_of(row, question)
            )
            got = {(g, c): int(table.loc[g, c]) for g in table.index for c in table.columns}
            assert got == {(g, c): pairs.get((g, c), 0) for g in table.index for c in table.columns}, (key, b)
            checked += 1
    for b, sizes in counts.group_sizes.items():
        expected = Counter(g for row in rows for g in groups_of(row, counts.breakdowns[b], definition))
        assert sizes.to_dict() == {g: expected.get(g, 0) for g in sizes.index}, b
    assert checked > 300


def _true_table(counts, table: dict) -> pd.DataFrame:
    """The true counts behind a published table, margins included (from the raw counts)."""
    question, breakdown = table["question"], table["breakdown"]
    if breakdown is None:
        if question in counts.items:
            series = counts.overall[question]
            total = counts.respondents
        else:
            series = counts.group_sizes[question]
            total = int(series.sum())
        return pd.DataFrame([[*series.tolist(), total]], index=[TOTAL], columns=[*series.index, TOTAL])
    inner = counts.crosstabs[question][breakdown]
    item = counts.items[question]
    row_totals = inner.sum(axis=1) if item.additive else counts.group_sizes[breakdown]
    frame = inner.copy()
    frame[TOTAL] = row_totals
    frame.loc[TOTAL] = [*counts.overall[question].tolist(), counts.respondents]
    return frame


def test_published_cells_are_true_counts_and_every_small_count_is_hidden(demo):
    campaign, _rows, counts = demo
    k = campaign.k
    published = publish(counts, k=k)
    assert published["respondents"] == 3000
    hidden_small = hidden_other = 0
    for table in published["tables"].values():
        truth = _true_table(counts, table)
        assert table["rows"] == [str(r) for r in truth.index] and table["columns"] == [str(c) for c in truth.columns]
        for i, row in enumerate(table["cells"]):
            for j, cell in enumerate(row):
                true = int(truth.iat[i, j])
                if cell in (primary_marker(k), SECONDARY_MARKER):
                    assert (cell == primary_marker(k)) == (1 <= true < k), "'< k' marks exactly the small counts"
                    assert true != 0, "zeros are never hidden"
                    hidden_small += 1 <= true < k
                    hidden_other += not 1 <= true < k
                    assert table["row_percentages"][i][j] is None
                else:
                    assert cell == true, (table["name"], i, j)
                    assert not 1 <= true < k
    assert hidden_small > 0 and hidden_other > 0  # primary and complementary cells both occur
    assert published["suppressed_cells"] == hidden_small + hidden_other


def test_likert_mean_sd_and_t_interval_equal_the_statistics_module(demo):
    _campaign, rows, counts = demo
    values = [int(plain(row["trust_city"])) for row in rows if row["trust_city"] != ""]
    stat = counts.statistics["trust_city"]["overall"]
    mean, sd = statistics.mean(values), statistics.stdev(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sd / len(values) ** 0.5)
    assert stat.n == len(values)
    assert stat.mean == pytest.approx(mean) and stat.sd == pytest.approx(sd)
    assert stat.ci95 == pytest.approx((low, high))
    females = [int(plain(r["trust_city"])) for r in rows if r["trust_city"] != "" and r["gender"] == "female"]
    by_gender = counts.statistics["trust_city"]["by"]["gender"]["female"]
    assert (by_gender.n, by_gender.mean) == (len(females), pytest.approx(statistics.mean(females)))
    assert by_gender.sd == pytest.approx(statistics.stdev(females))


def test_numeric_summary_equals_numpy(demo):
    _campaign, rows, counts = demo
    values = np.array([float(row["applications_last_year"]) for row in rows if row["applications_last_year"] != ""])
    stat = counts.statistics["applications_last_year"]["overall"]
    assert stat.n == len(values)
    assert stat.mean == pytest.approx(values.mean()) and stat.sd == pytest.approx(values.std(ddof=1))
    assert (stat.q1, stat.median, stat.q3) == pytest.approx(tuple(np.percentile(values, [25, 50, 75])))
    assert "min" not in stat.as_json() and "max" not in stat.as_json()


@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0], [5.0, 1.0, 1.0, 7.0, 2.5, 9.0, 9.0, 4.0]])
def test_quartiles_from_counts_equal_numpy_percentile(values):
    stat = statistic_of(values)
    assert (stat.q1, stat.median, stat.q3) == pytest.approx(tuple(np.percentile(values, [25, 50, 75])))


def test_statistics_of_groups_smaller_than_k_are_hidden(demo):
    """Only groups with n >= k (and whose n is published) show a mean; every group below k shows none."""
    campaign, _rows, counts = demo
    k = campaign.k
    published = publish(counts, k=k)
    small = shown = 0
    for key in ("trust_city", "applications_last_year"):
        statistics_json = published["questions"][key]["statistics"]
        raw = counts.statistics[key]
        assert statistics_json["overall"]["n"] == raw["overall"].n >= k
        for b, by_group in statistics_json["by"].items():
            for group, stat in by_group.items():
                n = raw["by"][b][group].n
                if n < k:
                    small += n > 0
                    assert stat is None, (key, b, group)
                elif stat is not None:
                    shown += 1
                    assert stat["n"] == n and stat["mean"] == pytest.approx(raw["by"][b][group].mean, abs=1e-3)
    assert small > 0 and shown > 0


def test_a_multi_choice_breakdown_counts_a_respondent_in_every_group_they_ticked():
    from survey.definition import parse_definition

    definition = parse_definition(
        {
            "slug": "tiny",
            "title": {"de": "t"},
            "languages": ["de"],
            "steps": [
                {
                    "key": "s",
                    "title": {"de": "s"},
                    "questions": [
                        {
                            "key": "home",
                            "type": "yes_no",
                            "label": {"de": "h"},
                        },
                        {
                            "key": "background",
                            "type": "multi_choice",
                            "privacy": "quasi_identifier",
                            "label": {"de": "b"},
                            "options": [{"value": "a", "label": {"de": "a"}}, {"value": "b", "label": {"de": "b"}}],
                        },
                    ],
                }
            ],
        }
    )
    frame = pd.DataFrame(
        {
            "home": ["yes", "yes", "no", None],
            "background__a": [1, 1, 0, None],
            "background__b": [1, 0, 1, None],
        }
    )
    counts = count_campaign(frame, definition)
    assert counts.crosstabs["home"]["background__a"].loc[TICKED].tolist() == [2, 0, 0]
    assert counts.crosstabs["home"]["background__b"].loc[TICKED].tolist() == [1, 1, 0]
    assert counts.crosstabs["home"]["background__b"].loc[NOT_TICKED].tolist() == [1, 0, 1]
    assert counts.overall["background"].to_dict() == {"a": 2, "b": 2, NO_ANSWER: 1}
