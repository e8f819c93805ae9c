"""Exports of anonymised data. For now: microdata as CSV (aggregates, xlsx and sav come later).

Every export enforces k-anonymity on its quasi-identifier columns itself (:func:`analysis.privacy.kanonymity.enforce`),
so what leaves the platform is k-anonymous even if the sweep has not yet seen the newest records.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pandas as pd

from analysis.anonymisation import qi_frame, quasi_identifiers
from analysis.models import AnonymisedResponse
from analysis.privacy.kanonymity import SUPPRESSED, enforce
from survey.definition import QuestionType
from survey.models import Campaign

#: What the ``export`` command can produce today.
AVAILABLE = {("microdata", "csv")}
# Text starting with these would run as a formula in a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def microdata_frame(*, campaign: Campaign) -> pd.DataFrame:
    """One row per anonymised response, one column per answer; a multi-choice answer as ``<key>__<option>``.

    Columns: ``id`` (random), ``week`` (its Monday), ``survey_version`` (number), then the questions in the
    order of the definition; ``<key>_other`` follows a question with "other, namely". Multi-choice options
    are 0/1 (or :data:`SUPPRESSED` in every option column of a suppressed quasi-identifier). Rows are sorted
    by the random id, so their order says nothing about when anyone answered.
    """
    definition = campaign.definition
    records = list(AnonymisedResponse.objects.filter(campaign=campaign).select_related("survey_version").order_by("id"))
    answers = [record.answers for record in records]
    qi, _report = enforce(qi_frame(definition, answers), campaign.k)
    qi_keys = {question.key for question in quasi_identifiers(definition)}

    columns: dict[str, list[Any]] = {
        "id": [str(record.id) for record in records],
        "week": [record.week.isoformat() for record in records],
        "survey_version": [record.survey_version.number for record in records],
    }
    for question in definition.questions():
        if not question.takes_answer:
            continue
        values = [
            qi[question.key].iloc[n] if question.key in qi_keys else row.get(question.key)
            for n, row in enumerate(answers)
        ]
        if question.type is QuestionType.MULTI_CHOICE:
            for option in question.option_values():
                columns[f"{question.key}__{option}"] = [
                    None
                    if value is None
                    else SUPPRESSED
                    if value == SUPPRESSED
                    else int(option in (value.split("+") if isinstance(value, str) else value))
                    for value in values
                ]
        else:
            columns[question.key] = [_cell_text(value) for value in values]
        if question.other and question.key not in qi_keys:
            columns[question.other_key] = [_cell_text(row.get(question.other_key)) for row in answers]
    return pd.DataFrame(columns)


def microdata_csv(*, campaign: Campaign, out: str | Path | IO[str]) -> int:
    """Write the microdata of ``campaign`` as UTF-8 CSV to ``out``; returns the number of rows."""
    frame = microdata_frame(campaign=campaign)
    frame.to_csv(out, index=False, encoding="utf-8")
    return len(frame)
