"""The coded form of an anonymised record: its countable answers as fixed-width little-endian integers.

Pure Python and numpy (no Django, no database). An :class:`~analysis.models.AnonymisedResponse` keeps its
answers twice: as JSON (``answers``, what exports write) and as ``codes``, a few hundred bytes that the
aggregation reads for a whole campaign with one query and turns into an (n × bytes) matrix with
``np.frombuffer`` instead of parsing JSON row by row. ``docs/anonymisation.md`` ("Storage") describes it.

The layout (:class:`Layout`, :func:`layout_for`) follows from the campaign's definition and its districts
alone, so every record coded with the same layout lines up byte for byte; ``Layout.fingerprint`` is stored
next to the codes and says which layout they follow. One *variable* per counted question, in definition
order:

* **category** (single choice, yes/no, Likert, district, every quasi-identifier that is not multi choice):
  one slot, ``0`` = no answer, ``1 … m`` = the values in the order of ``Variable.labels`` (options in
  definition order; for a generalised quasi-identifier the generalised values: age bands, regions, groups),
  ``m + 1`` = ``suppressed`` (k-anonymity).
* **multi** (multi choice): one slot per option, ``0`` = no answer, ``1`` = not ticked, ``2`` = ticked,
  ``3`` = suppressed (a suppressed multi-choice quasi-identifier has ``3`` in every option).
* **number** (number and year questions that are not quasi-identifiers): one slot holding
  ``value - low + 1`` (``low`` = the question's ``min``), ``0`` = no answer.

Free texts and "other, namely" texts are not coded (they are not counted). A slot is 1, 2 or 4 bytes wide,
whatever holds its largest code. A record with an answer outside the layout (a value the definition does not
know, a number outside ``min``/``max``, a fraction) cannot be coded: :func:`encode` raises
:class:`Uncodable`, the record keeps ``codes`` empty, and the campaign's snapshot falls back to the JSON path.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from analysis.privacy.generalise import DEFAULT_AGE_BANDS, band_label, generalise_answer
from analysis.privacy.kanonymity import SUPPRESSED
from survey.definition.model import Privacy, Question, QuestionType, SurveyDefinition
from survey.districts import OUTSIDE_CITY, district_value

__all__ = [
    "MULTI_NOT_TICKED",
    "MULTI_SUPPRESSED",
    "MULTI_TICKED",
    "NO_ANSWER_CODE",
    "Kind",
    "Layout",
    "Uncodable",
    "Variable",
    "column",
    "counted_questions",
    "decode_matrix",
    "encode",
    "layout_for",
    "suppress",
]

NO_ANSWER_CODE = 0
MULTI_NOT_TICKED, MULTI_TICKED, MULTI_SUPPRESSED = 1, 2, 3
#: Version of the coding rules themselves: part of every fingerprint, so a change of rules recodes everything.
_RULES = 1
_NUMBER_SPAN_WITHOUT_BOUNDS = (-(2**31), 2**31 - 2)
_DATE_FOR_DOMAIN = None  # generalise_answer ignores the date for everything but year questions


class Uncodable(ValueError):
    """An answer that the layout has no code for; the record is left uncoded."""


class Kind(StrEnum):
    CATEGORY = "category"
    MULTI = "multi"
    NUMBER = "number"


@dataclass(frozen=True)
class Variable:
    """One coded question: where its slots are in a record and what their codes mean."""

    key: str
    kind: Kind
    labels: tuple[str, ...]  # category: the value of code i + 1; multi: the option of slot i; number: ()
    offset: int  # byte offset of the first slot in a record
    width: int  # bytes per slot: 1, 2 or 4
    quasi_identifier: bool
    low: int = 0  # number: the value of code 1
    high: int = 0  # number: the largest value

    @property
    def slots(self) -> int:
        return len(self.labels) if self.kind is Kind.MULTI else 1

    @property
    def suppressed_code(self) -> int:
        return MULTI_SUPPRESSED if self.kind is Kind.MULTI else len(self.labels) + 1


@dataclass(frozen=True)
class Layout:
    """The coded form of one definition (with its districts): variables in definition order.

    ``complete`` is ``False`` when some quasi-identifier has no finite coding (a free-text quasi-identifier,
    a number without bands or bounds): k-anonymity could not be enforced on the codes, so such campaigns
    are aggregated from their JSON answers.
    """

    variables: tuple[Variable, ...]
    record_size: int
    fingerprint: str
    complete: bool

    def variable(self, key: str) -> Variable:
        return self._by_key()[key]

    def _by_key(self) -> dict[str, Variable]:
        return {variable.key: variable for variable in self.variables}


def counted_questions(definition: SurveyDefinition) -> list[Question]:
    """The questions the aggregation counts, in definition order: everything answerable but free text."""
    counted = []
    for question in definition.questions():
        if not question.takes_answer or question.type in (QuestionType.TEXT, QuestionType.LONG_TEXT):
            continue
        if question.privacy is Privacy.FREE_TEXT:
            continue
        counted.append(question)
    return counted


def _width(largest_code: int) -> int:
    return 1 if largest_code < 2**8 else 2 if largest_code < 2**16 else 4


def _band_labels(bands: Sequence[Sequence[int]]) -> list[str]:
    """Every label :func:`band_label` can give for ``bands``: under, the bands and their gaps, over."""
    low = min(int(band[0]) for band in bands)
    high = max(int(band[1]) for band in bands)
    return list(dict.fromkeys(band_label(value, bands) for value in range(low - 1, high + 2)))


def _category_labels(question: Question, districts: Sequence[str]) -> list[str] | None:
    """The values a category variable can hold, or ``None`` when they are not a finite known set."""
    settings = question.generalise or {}
    if question.type is QuestionType.DISTRICT:
        return [district_value(name) for name in districts] + [OUTSIDE_CITY]
    if question.privacy is not Privacy.QUASI_IDENTIFIER:
        return question.option_values()
    if question.type is QuestionType.YEAR:
        return _band_labels(settings.get("bands") or DEFAULT_AGE_BANDS)
    if question.type is QuestionType.NUMBER:
        if settings.get("bands"):
            return _band_labels(settings["bands"])
        if question.min is None or question.max is None:
            return None
        values = range(question.min, question.max + 1)
    elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.LIKERT):
        values = question.option_values()
    else:
        return None
    generalised = (generalise_answer(question, value, answered_on=_DATE_FOR_DOMAIN) for value in values)
    return list(dict.fromkeys(str(value) for value in generalised))


def _layout(definition: SurveyDefinition, districts: tuple[str, ...]) -> Layout:
    variables: list[Variable] = []
    offset = 0
    complete = True
    for question in counted_questions(definition):
        is_qi = question.privacy is Privacy.QUASI_IDENTIFIER
        if question.type is QuestionType.MULTI_CHOICE:
            variable = Variable(question.key, Kind.MULTI, tuple(question.option_values()), offset, 1, is_qi)
        elif question.type in (QuestionType.NUMBER, QuestionType.YEAR) and not is_qi:
            if question.min is not None and question.max is not None:
                low, high = question.min, question.max
            else:
                low, high = _NUMBER_SPAN_WITHOUT_BOUNDS
            width = _width(high - low + 1)
            variable = Variable(question.key, Kind.NUMBER, (), offset, width, is_qi, low=low, high=high)
        else:
            labels = _category_labels(question, districts)
            if labels is None:
                complete = complete and not is_qi
                continue
            variable = Variable(question.key, Kind.CATEGORY, tuple(labels), offset, _width(len(labels) + 1), is_qi)
        variables.append(variable)
        offset += variable.width * variable.slots
    coded = {variable.key for variable in variables}
    if any(
        question.privacy is Privacy.QUASI_IDENTIFIER and question.key not in coded
        for question in definition.questions()
    ):
        complete = False  # a quasi-identifier that is not counted (free text): k cannot be enforced on codes
    described = [[v.key, str(v.kind), list(v.labels), v.offset, v.width, v.quasi_identifier, v.low] for v in variables]
    digest = hashlib.sha256(json.dumps([_RULES, described], ensure_ascii=False).encode()).hexdigest()
    return Layout(tuple(variables), offset, digest[:16], complete)


_LAYOUTS: dict[tuple[int, tuple[str, ...]], tuple[SurveyDefinition, Layout]] = {}


def layout_for(definition: SurveyDefinition, districts: Sequence[str]) -> Layout:
    """The layout of a campaign's records: from its definition and its organisation's districts (cached)."""
    # Definitions are parsed once per process (SurveyVersion.parsed) but hold dicts, so they cannot be hashed:
    # the cache goes by identity and keeps the definition, so that its id cannot be reused by another.
    cache_key = (id(definition), tuple(districts))
    cached = _LAYOUTS.get(cache_key)
    if cached is None or cached[0] is not definition:
        if len(_LAYOUTS) >= 64:
            _LAYOUTS.clear()
        cached = _LAYOUTS[cache_key] = (definition, _layout(definition, tuple(districts)))
    return cached[1]


def _label(value: Any) -> str:
    """The text of a stored value as the aggregation labels it (``3.0`` -> ``"3"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _category_code(variable: Variable, value: Any) -> int:
    if _missing(value):
        return NO_ANSWER_CODE
    if isinstance(value, bool | list | dict):
        raise Uncodable(variable.key)
    label = _label(value)
    if label == SUPPRESSED:
        return variable.suppressed_code
    try:
        return variable.labels.index(label) + 1
    except ValueError:
        raise Uncodable(variable.key) from None


def _multi_codes(variable: Variable, value: Any) -> list[int]:
    if _missing(value):
        return [NO_ANSWER_CODE] * variable.slots
    if value == SUPPRESSED:
        return [MULTI_SUPPRESSED] * variable.slots
    ticked = set(value.split("+")) if isinstance(value, str) else set(value) if isinstance(value, list) else None
    if ticked is None:
        raise Uncodable(variable.key)
    # Exports ignore ticks that are not options; a quasi-identifier's combination includes them, though.
    if variable.quasi_identifier and not ticked <= set(variable.labels):
        raise Uncodable(variable.key)
    return [MULTI_TICKED if option in ticked else MULTI_NOT_TICKED for option in variable.labels]


def _number_code(variable: Variable, value: Any) -> int:
    if _missing(value):
        return NO_ANSWER_CODE
    if isinstance(value, bool):
        raise Uncodable(variable.key)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Uncodable(variable.key) from None
    if not number.is_integer():
        raise Uncodable(variable.key)
    if not variable.low <= number <= variable.high:
        raise Uncodable(variable.key)
    return int(number) - variable.low + 1


def encode(layout: Layout, answers: Mapping[str, Any]) -> bytes:
    """The codes of one record's (anonymised) answers; raises :class:`Uncodable` for a value outside the layout."""
    record = bytearray(layout.record_size)
    for variable in layout.variables:
        value = answers.get(variable.key)
        if variable.kind is Kind.MULTI:
            record[variable.offset : variable.offset + variable.slots] = bytes(_multi_codes(variable, value))
            continue
        code = _number_code(variable, value) if variable.kind is Kind.NUMBER else _category_code(variable, value)
        record[variable.offset : variable.offset + variable.width] = code.to_bytes(variable.width, "little")
    return bytes(record)


def encode_or_none(layout: Layout, answers: Mapping[str, Any]) -> bytes | None:
    """:func:`encode`, or ``None`` for a record that cannot be coded."""
    try:
        return encode(layout, answers)
    except Uncodable:
        return None


def decode_matrix(blob: bytes | bytearray | memoryview, n: int, layout: Layout) -> np.ndarray:
    """The records of ``blob`` (``n`` records back to back) as an (n × record size) ``uint8`` matrix (no copy)."""
    return np.frombuffer(blob, dtype=np.uint8, count=n * layout.record_size).reshape(n, layout.record_size)


def column(matrix: np.ndarray, variable: Variable, slot: int = 0) -> np.ndarray:
    """The codes of one slot of ``variable`` for every record of ``matrix`` (uint8/uint16/uint32)."""
    start = variable.offset + slot * variable.width
    if variable.width == 1:
        return matrix[:, start]
    block = np.ascontiguousarray(matrix[:, start : start + variable.width])
    return block.view(f"<u{variable.width}").ravel()


def suppress(matrix: np.ndarray, variable: Variable, rows: np.ndarray) -> None:
    """Set ``variable`` to "suppressed" in the ``rows`` (boolean) of ``matrix``, in place."""
    if not rows.any():
        return
    if variable.kind is Kind.MULTI:
        matrix[rows, variable.offset : variable.offset + variable.slots] = MULTI_SUPPRESSED
        return
    code = np.frombuffer(variable.suppressed_code.to_bytes(variable.width, "little"), dtype=np.uint8)
    matrix[rows, variable.offset : variable.offset + variable.width] = code
