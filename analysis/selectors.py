"""Reads of aggregate snapshots for the researchers' pages and the aggregate exports.

Everything returned here comes from :attr:`AggregateSnapshot.tables`, which holds only published
(suppressed) numbers; nothing here touches anonymised rows or recomputes a count, so a page or an export
cannot show more than disclosure control allowed. Table dicts have the shape described in
``docs/aggregation.md`` ("A published table"): ``rows``, ``columns`` (the last of each is ``"Total"``),
``cells`` (ints, or where hidden ``"< k"`` for 1 .. k-1 people and ``"•"`` for a complement), ``row_percentages``,
``column_percentages``,
``suppressed_count``, ``note``. Labels are codes (option values, group labels); pages translate them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from analysis.aggregation import TICKED
from analysis.disclosure import NOTE, TOTAL, is_hidden, note_for
from analysis.models import AggregateSnapshot
from survey.models import Campaign

UNKNOWN_QUESTION = "The snapshot has no question {key!r}."
UNKNOWN_BREAKDOWN = "The snapshot has no breakdown {breakdown!r} for question {key!r}."
DIFFERENT_SURVEYS = "Only campaigns of the same survey can be compared ({a!r} and {b!r})."


def latest_snapshot(*, campaign: Campaign) -> AggregateSnapshot | None:
    """The newest snapshot of ``campaign``, or ``None`` if none was built yet."""
    return AggregateSnapshot.objects.filter(campaign=campaign).order_by("-created_at", "-pk").first()


def snapshot_overview(snapshot: AggregateSnapshot) -> dict[str, Any]:
    """Headline numbers: responses, completion rate, the funnel per step, responses by district.

    ``{"campaign", "created_at", "k", "responses", "suppressed_cells", "note", "completion_rate", "started",
    "completed", "funnel": [{"step", "reached", "conditional", "drop_off"}], "by_district": table | None}``.
    Counts are ints or a marker (``"< k"``, ``"•"``); ``completion_rate`` (0..1) and ``drop_off`` are ``None``
    where a count they need is hidden.
    """
    data = snapshot.tables
    funnel = data.get("funnel") or {}
    district = next((key for key, q in data["questions"].items() if q["type"] == "district" and q["overall"]), None)
    return {
        "campaign": snapshot.campaign.slug,
        "created_at": snapshot.created_at,
        "k": data["k"],
        "responses": data["respondents"],
        "suppressed_cells": data["suppressed_cells"],
        "note": _note(data["k"]) if data["note"] else "",
        "started": funnel.get("started"),
        "completed": funnel.get("completed"),
        "completion_rate": funnel.get("completion_rate"),
        "funnel": funnel.get("steps", []),
        "by_district": _noted(data["tables"][data["questions"][district]["overall"]], data["k"]) if district else None,
    }


def _note(k: int) -> str:
    """The note under a table with hidden cells, in the reader's language (snapshots store it in English)."""
    return note_for(k, gettext(NOTE))


def _noted(table: dict[str, Any], k: int) -> dict[str, Any]:
    return {**table, "note": _note(k) if table["suppressed_count"] else ""}


def _question(data: dict[str, Any], key: str) -> dict[str, Any]:
    try:
        return data["questions"][key]
    except KeyError:
        raise KeyError(UNKNOWN_QUESTION.format(key=key)) from None


def snapshot_question(snapshot: AggregateSnapshot, question_key: str, breakdown: str | None = None) -> dict[str, Any]:
    """One question: its table (overall, or by ``breakdown``) and its statistics.

    ``{"key", "type", "theme", "categories", "breakdown", "table", "statistics"}``. ``statistics`` is
    ``None`` for questions without (only Likert and number questions have them); otherwise
    ``{"overall": stat | None}`` and, with a breakdown, ``"by_group": {group: stat | None}`` (``None``:
    hidden because the group is smaller than k or its size is hidden). A stat is ``{"n", "mean", "sd",
    "ci95": [low, high] | None}`` plus ``"q1", "median", "q3"`` for number questions. Raises ``KeyError``
    for an unknown question or breakdown.
    """
    data = snapshot.tables
    question = _question(data, question_key)
    table = (
        snapshot_crosstab(snapshot, question_key, breakdown)
        if breakdown
        else _noted(_overall(data, question_key), data["k"])
    )
    statistics = None
    if question["statistics"] is not None:
        statistics = {"overall": question["statistics"]["overall"]}
        if breakdown:
            statistics["by_group"] = _statistics_by(data, question, breakdown)
    return {
        "key": question_key,
        "type": question["type"],
        "theme": question["theme"],
        "categories": question["categories"],
        "breakdown": breakdown,
        "table": table,
        "statistics": statistics,
    }


def _overall(data: dict[str, Any], key: str) -> dict[str, Any]:
    question = _question(data, key)
    if question["overall"]:
        return data["tables"][question["overall"]]
    # A multi-choice quasi-identifier: each option's count is the "ticked" group of its indicator table.
    options = list(question["indicators"])
    cells = []
    for option in options:
        table = data["tables"][data["breakdowns"][question["indicators"][option]]["table"]]
        cells.append(table["cells"][0][table["columns"].index(TICKED)])
    cells.append(data["respondents"])
    percentages = [
        None
        if is_hidden(value) or is_hidden(data["respondents"]) or not data["respondents"]
        else round(100 * value / data["respondents"], 1)
        for value in cells
    ]
    hidden = sum(is_hidden(value) for value in cells)
    return {
        "name": key,
        "question": key,
        "breakdown": None,
        "additive": False,
        "rows": [TOTAL],
        "columns": [*options, TOTAL],
        "cells": [cells],
        "row_percentages": [percentages],
        "column_percentages": None,
        "suppressed_count": hidden,
        "note": note_for(data["k"]) if hidden else "",
    }


def snapshot_crosstab(snapshot: AggregateSnapshot, question_key: str, breakdown_key: str) -> dict[str, Any]:
    """The cross-tab of a question by a breakdown (rows = groups + ``Total``, columns = categories + ``Total``).

    For a multi-choice breakdown (``migration_background``) the rows are its options: a respondent counts
    in the row of every option they ticked, so rows do not add up to the ``Total`` row (all respondents);
    the table then has ``"multi_breakdown": true``. Raises ``KeyError`` if there is no such cross-tab.
    """
    data = snapshot.tables
    question = _question(data, question_key)
    if breakdown_key in question["crosstabs"]:
        return _noted(data["tables"][question["crosstabs"][breakdown_key]], data["k"])
    indicators = data["multi_breakdowns"].get(breakdown_key)
    if not indicators or any(b not in question["crosstabs"] for b in indicators):
        raise KeyError(UNKNOWN_BREAKDOWN.format(breakdown=breakdown_key, key=question_key))
    rows, cells, row_pct, col_pct, hidden = [], [], [], [], 0
    for b in indicators:
        table = data["tables"][question["crosstabs"][b]]
        rows.append(data["breakdowns"][b]["option"])
        cells.append(table["cells"][0])
        row_pct.append(table["row_percentages"][0])
        col_pct.append(table["column_percentages"][0])
        hidden += sum(is_hidden(value) for value in table["cells"][0])
    overall = _overall(data, question_key)
    cells.append(overall["cells"][0])
    row_pct.append(overall["row_percentages"][0])
    col_pct.append([None if v is None else 100.0 for v in overall["row_percentages"][0]])
    hidden += overall["suppressed_count"]
    return {
        "name": f"{question_key} by {breakdown_key}",
        "question": question_key,
        "breakdown": breakdown_key,
        "additive": question["additive"],
        "multi_breakdown": True,
        "rows": [*rows, TOTAL],
        "columns": overall["columns"],
        "cells": cells,
        "row_percentages": row_pct,
        "column_percentages": col_pct,
        "suppressed_count": hidden,
        "note": _note(data["k"]) if hidden else "",
    }


def _statistics_by(data: dict[str, Any], question: dict[str, Any], breakdown: str) -> dict[str, Any]:
    by = question["statistics"]["by"]
    if breakdown in by:
        return by[breakdown]
    indicators = data["multi_breakdowns"].get(breakdown, [])
    return {data["breakdowns"][b]["option"]: by.get(b, {}).get(TICKED) for b in indicators}


def snapshot_themes(snapshot: AggregateSnapshot) -> list[dict[str, Any]]:
    """The questions grouped by Masterplan theme, in survey order: ``[{"theme", "questions": [question]}]``.

    Each question is :func:`snapshot_question` without a breakdown. Quasi-identifiers are not in a theme.
    """
    data = snapshot.tables
    return [
        {"theme": theme, "questions": [snapshot_question(snapshot, key) for key in keys]}
        for theme, keys in data["themes"].items()
    ]


def snapshot_compare(snapshot_a: AggregateSnapshot, snapshot_b: AggregateSnapshot) -> dict[str, Any]:
    """Two campaigns of the same survey side by side: the questions whose key, type and categories match.

    ``{"survey", "campaigns": [slug_a, slug_b], "questions": [{"key", "type", "a", "b"}], "not_comparable":
    [keys]}`` where ``a``/``b`` are :func:`snapshot_question` results (both already suppressed, each within
    its own campaign). Categories match when the answer options are the same; a quasi-identifier whose
    bands or regions differ is listed under ``not_comparable``. Raises ``ValueError`` for different surveys.
    """
    survey_a, survey_b = snapshot_a.survey_version.survey, snapshot_b.survey_version.survey
    if survey_a.pk != survey_b.pk:
        raise ValueError(DIFFERENT_SURVEYS.format(a=survey_a.slug, b=survey_b.slug))
    questions_a, questions_b = snapshot_a.tables["questions"], snapshot_b.tables["questions"]
    matched, not_comparable = [], []
    for key, question in questions_a.items():
        other = questions_b.get(key)
        if other is None:
            continue
        if other["type"] != question["type"] or other["categories"] != question["categories"]:
            not_comparable.append(key)
            continue
        matched.append(
            {
                "key": key,
                "type": question["type"],
                "a": snapshot_question(snapshot_a, key),
                "b": snapshot_question(snapshot_b, key),
            }
        )
    not_comparable += [key for key in questions_b if key not in questions_a]
    return {
        "survey": survey_a.slug,
        "campaigns": [snapshot_a.campaign.slug, snapshot_b.campaign.slug],
        "questions": matched,
        "not_comparable": not_comparable,
    }
