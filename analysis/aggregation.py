"""Aggregation of a campaign's anonymised microdata: counts, distributions and statistics, then publication.

Pure pandas/numpy (no Django, no database): :func:`count_campaign` turns the microdata frame that
:func:`analysis.exports.microdata_frame` builds into raw count tables, and :func:`count_coded` the same from
the records' codes (:mod:`analysis.coding`, what snapshots read); :func:`publish` passes ALL of them
jointly through :func:`analysis.disclosure.suppress_campaign` and returns the JSON that a snapshot stores
(only published cells, never raw counts). ``docs/aggregation.md`` is the reference for the JSON shape.

What is counted
---------------
* Every answerable question except free text: single choice, yes/no, district, Likert (its points),
  multi choice (each option counted separately; a respondent who ticked nothing counts as
  :data:`NO_ANSWER`), number/year questions (published as ``answered`` / :data:`NO_ANSWER`, plus
  statistics). A quasi-identifier is counted in its generalised form (age band, region, ...), with
  ``suppressed`` where k-anonymity removed the value.
* Unanswered (skipped or not shown by branching) is the category :data:`NO_ANSWER`, so that every table
  counts the same respondents (``disclosure.py`` refuses tables that do not).
* Breakdowns: every quasi-identifier of the definition, plus the single-choice questions passed as
  ``breakdowns``. A multi-choice quasi-identifier (``migration_background``) becomes one indicator
  breakdown per option, ``<key>__<option>`` with groups :data:`TICKED` / :data:`NOT_TICKED` (the
  latter includes "no answer" and "suppressed"): a respondent counts in the ``ticked`` group of each
  option they ticked, so the "by migration background" view (its ``ticked`` rows side by side) does not
  add up to the total. Each indicator is a partition, which is what disclosure control needs.
  Quasi-identifiers are not crossed with each other (their own tables are the breakdown tables).

How it is counted (once per campaign)
-------------------------------------
Every categorical column is coded as small ints (``pd.factorize`` + a lookup to the category order) and
shifted by an offset, so that all questions share one code space of ``S`` categories. For the
single-group breakdowns (and the implicit "all respondents") the group codes are shifted the same way
(``T`` groups in all); then one ``np.bincount`` over ``group * S + answer`` for every (respondent,
breakdown, question) triple gives a ``T x S`` table holding every cross-tab at once (in row chunks to keep
memory flat). Questions are packed into tuples coded jointly (mixed radix, at most ``_PACK_CODES`` codes),
so one increment counts two or three questions; a question's table is its tuple's table summed over the
other members. Multi-choice columns (each option, ``suppressed``, :data:`NO_ANSWER`) are bits, eight to a
tuple code in the same pass; a column's count is the sum over the codes with its bit set. An indicator
breakdown counts only its ticked rows (``not ticked`` = all - ticked): up to ``_INDICATOR_BITS`` of them
at once, by the combination of their ticks. Frequencies, percentages, margins
and statistics are derived from these count tables; numeric questions are counted per distinct value, so
their mean, SD and quartiles also come from counts.

Statistics
----------
Mean, SD (sample, ``ddof=1``) and a **t-based** 95% confidence interval ``mean ± t(0.975, n-1)·sd/√n``
for Likert and numeric questions; numeric questions also get quartiles (linear interpolation, as
``numpy.percentile``). No minimum or maximum (they are single people). Published only where
:func:`analysis.disclosure.visible_statistics` allows it (``n >= k`` and no hidden group could be worked
out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from analysis import coding, disclosure
from survey.definition.model import Privacy, Question, QuestionType, SurveyDefinition

__all__ = [
    "ANSWERED",
    "FORMAT",
    "NOT_TICKED",
    "NO_ANSWER",
    "SUPPRESSED_VALUE",
    "TICKED",
    "Breakdown",
    "CampaignCounts",
    "Item",
    "Statistic",
    "count_campaign",
    "count_coded",
    "funnel_publish",
    "publish",
    "statistic_of",
]

FORMAT = 1
"""Version of the published JSON shape (``tables["format"]``)."""
NO_ANSWER = "_no_answer"
"""Category of respondents who did not answer (skipped, or not shown). Cannot clash with a definition key."""
ANSWERED = "answered"
"""Category of a number question: the respondent gave a number (its value goes into the statistics)."""
TICKED, NOT_TICKED = "ticked", "not_ticked"
"""Groups of an indicator breakdown made from one option of a multi-choice quasi-identifier."""
SUPPRESSED_VALUE = "suppressed"
"""What k-anonymity leaves in a suppressed quasi-identifier (``analysis.privacy.kanonymity.SUPPRESSED``)."""
ALL = "_all"

_CATEGORICAL = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.DISTRICT, QuestionType.LIKERT})
_NUMERIC = frozenset({QuestionType.NUMBER, QuestionType.YEAR})
_BREAKDOWN_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.DISTRICT})
_CHUNK = 1 << 14  # rows per bincount chunk: (tuples x chunk) intp, a few MB, stays within the CPU caches
_PACK_CODES = 512  # joint codes per tuple of questions: keeps the count table within the CPU caches
_INDICATOR_BITS = 3  # indicator breakdowns counted together (a table of 2**bits x S codes)
_MAX_VALUE_BINS = 4_000_000  # groups x distinct values above which numeric statistics are sorted instead


@dataclass(frozen=True)
class Item:
    """One counted question: its categories in table order (``options``) and how it is counted."""

    key: str
    type: QuestionType
    theme: str | None
    categories: tuple[str, ...]
    additive: bool  # False for multi choice: options do not add up to the respondents
    quasi_identifier: bool


@dataclass(frozen=True)
class Breakdown:
    """A partition of the respondents: ``groups`` in table order; ``option`` for a multi-choice indicator."""

    key: str
    question: str
    groups: tuple[str, ...]
    option: str | None = None


@dataclass(frozen=True)
class Statistic:
    """Summary of the numeric values of one group. ``q1``/``median``/``q3`` only for number questions."""

    n: int
    mean: float | None
    sd: float | None
    ci95: tuple[float, float] | None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"n": self.n, "mean": _round(self.mean), "sd": _round(self.sd)}
        data["ci95"] = None if self.ci95 is None else [_round(self.ci95[0]), _round(self.ci95[1])]
        if self.median is not None:
            data.update(q1=_round(self.q1), median=_round(self.median), q3=_round(self.q3))
        return data


@dataclass(frozen=True)
class CampaignCounts:
    """RAW counts of a campaign — confidential: only :func:`publish` output may leave the process.

    ``overall[item]``: respondents per category; ``crosstabs[item][breakdown]``: groups x categories
    (no margins); ``group_sizes[breakdown]``: respondents per group; ``statistics[item]``:
    ``{"overall": Statistic, "by": {breakdown: {group: Statistic}}}`` for Likert and numeric items.
    """

    respondents: int
    items: Mapping[str, Item]
    breakdowns: Mapping[str, Breakdown]
    overall: Mapping[str, pd.Series]
    crosstabs: Mapping[str, Mapping[str, pd.DataFrame]]
    group_sizes: Mapping[str, pd.Series]
    statistics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    themes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Coding
# --------------------------------------------------------------------------------------------------


def _label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _natural(label: str) -> tuple:
    digits = "".join(ch if ch.isdigit() else " " for ch in label).split()
    return (int(digits[0]) if digits else math.inf, label)


def _generalised(question: Question) -> bool:
    """True if the stored values of a quasi-identifier are not its options (bands, regions, groups)."""
    if question.privacy is not Privacy.QUASI_IDENTIFIER:
        return False
    if question.type in _NUMERIC:
        return True
    from analysis.privacy.generalise import region_of  # pure module

    settings = question.generalise or {}
    return bool(settings.get("groups")) or any(region_of(option.value) for option in question.options)


def _code(column: pd.Series, question: Question) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes (int32, one per row) into the category order of ``question``; missing -> :data:`NO_ANSWER`."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    labels = [_label(value) for value in uniques]
    known = [] if _generalised(question) or question.type is QuestionType.DISTRICT else question.option_values()
    extras = sorted({label for label in labels if label not in known and label not in ("", SUPPRESSED_VALUE)})
    categories = [*known, *sorted(extras, key=_natural)]
    if SUPPRESSED_VALUE in labels:
        categories.append(SUPPRESSED_VALUE)
    categories.append(NO_ANSWER)
    position = {category: n for n, category in enumerate(categories)}
    lookup = np.array([position[label or NO_ANSWER] for label in labels] + [position[NO_ANSWER]], dtype=np.int32)
    return lookup[codes], tuple(categories)


def _multi_ticks(frame: pd.DataFrame, question: Question) -> tuple[np.ndarray, tuple[str, ...]]:
    """Boolean matrix (rows x categories): the options ticked, ``suppressed``, :data:`NO_ANSWER`."""
    options = question.option_values()
    n = len(frame)
    ticked = np.zeros((n, len(options)), dtype=bool)
    suppressed = np.zeros(n, dtype=bool)
    for j, option in enumerate(options):
        column = frame.get(f"{question.key}__{option}")
        if column is None:
            continue
        if column.dtype.kind in "biuf":  # 0/1 with NaN for no answer: no suppressed values possible
            ticked[:, j] = column.to_numpy() == 1
            continue
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        labels = [_label(value) for value in uniques] + [""]
        ticked[:, j] = np.array([label == "1" for label in labels])[codes]
        suppressed |= np.array([label == SUPPRESSED_VALUE for label in labels])[codes]
    no_answer = ~ticked.any(axis=1) & ~suppressed
    categories = list(options)
    columns = [ticked]
    if suppressed.any():
        categories.append(SUPPRESSED_VALUE)
        columns.append(suppressed[:, None])
    categories.append(NO_ANSWER)
    columns.append(no_answer[:, None])
    return np.hstack(columns), tuple(categories)


# --------------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------------


def count_campaign(
    frame: pd.DataFrame, definition: SurveyDefinition, *, breakdowns: Sequence[str] = ()
) -> CampaignCounts:
    """Count every question of ``definition`` in ``frame`` (the microdata frame), overall and by breakdown.

    ``breakdowns``: keys of further single-choice questions (besides the quasi-identifiers, which are
    always breakdowns) to break every question down by. Raises ``ValueError`` for an unknown key or a
    question that cannot partition the respondents.
    """
    n = len(frame)
    columns = _Columns()
    for question in coding.counted_questions(definition):
        is_qi = question.privacy is Privacy.QUASI_IDENTIFIER
        if question.type is QuestionType.MULTI_CHOICE:
            columns.add_multi(question, *_multi_ticks(frame, question))
        elif question.type in _NUMERIC and not is_qi:
            raw = frame[question.key] if question.key in frame else pd.Series([None] * n)
            columns.add_numeric(question, pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64"))
        else:
            column = frame[question.key] if question.key in frame else pd.Series([None] * n, dtype=object)
            columns.add_single(question, *_code(column, question))
    return _count(n, columns, breakdowns)


def count_coded(
    matrix: np.ndarray, layout: coding.Layout, definition: SurveyDefinition, *, breakdowns: Sequence[str] = ()
) -> CampaignCounts:
    """:func:`count_campaign` over coded records (an n × record-size matrix, :mod:`analysis.coding`).

    Gives the same counts as :func:`count_campaign` on the microdata frame of the same records, but reads
    each question's codes straight from the matrix: no Python object per answer. k-anonymity must already
    be enforced on the matrix (suppressed codes in place).
    """
    n = len(matrix)
    columns = _Columns()
    for question in coding.counted_questions(definition):
        variable = layout.variable(question.key)
        if variable.kind is coding.Kind.MULTI:
            columns.add_multi(question, *_coded_ticks(matrix, variable))
        elif variable.kind is coding.Kind.NUMBER:
            codes = coding.column(matrix, variable)
            values = codes.astype(np.float64) + (variable.low - 1)
            values[codes == coding.NO_ANSWER_CODE] = np.nan
            columns.add_numeric(question, values)
        else:
            columns.add_single(question, *_coded_categories(coding.column(matrix, variable), variable, question))
    return _count(n, columns, breakdowns)


def _coded_categories(
    codes: np.ndarray, variable: coding.Variable, question: Question
) -> tuple[np.ndarray, tuple[str, ...]]:
    """As :func:`_code`, from the codes of a category variable: the same categories in the same order."""
    suppressed_code = variable.suppressed_code
    if _generalised(question) or question.type is QuestionType.DISTRICT:
        present = np.bincount(codes, minlength=len(variable.labels) + 2) > 0
        known = sorted((label for j, label in enumerate(variable.labels) if present[j + 1]), key=_natural)
        suppressed = bool(present[suppressed_code])
    else:
        known = list(variable.labels)
        suppressed = bool((codes == suppressed_code).any())
    categories = [*known, *([SUPPRESSED_VALUE] if suppressed else []), NO_ANSWER]
    position = {category: j for j, category in enumerate(categories)}
    lookup = np.full(len(variable.labels) + 2, position[NO_ANSWER], dtype=np.int32)
    for j, label in enumerate(variable.labels):
        lookup[j + 1] = position.get(label, position[NO_ANSWER])  # absent labels are never looked up
    if suppressed:
        lookup[suppressed_code] = position[SUPPRESSED_VALUE]
    if (lookup == (np.arange(len(lookup)) - 1) % len(categories)).all():
        # The categories in code order, "no answer" (code 0) last: one less than the code, without a lookup.
        values = codes.astype(np.int32)
        values -= 1
        values[codes == coding.NO_ANSWER_CODE] = position[NO_ANSWER]
        return values, tuple(categories)
    return lookup[codes], tuple(categories)


def _coded_ticks(matrix: np.ndarray, variable: coding.Variable) -> tuple[np.ndarray, tuple[str, ...]]:
    """As :func:`_multi_ticks`, from the option slots of a multi-choice variable."""
    n = len(matrix)
    options = variable.labels
    # Slot by slot: a slot's codes lie side by side in the column-major matrix (``any(axis=1)`` over a
    # few slots per row would cost many times as much).
    slots = [matrix[:, variable.offset + j] for j in range(variable.slots)]
    suppressed = np.zeros(n, dtype=bool)
    for codes in slots:
        suppressed |= codes == coding.MULTI_SUPPRESSED
    categories = list(options)
    extra = 1 + int(suppressed.any())
    ticks = np.zeros((n, len(options) + extra), dtype=bool, order="F")  # read column by column, too
    answered = suppressed.copy()
    for j, codes in enumerate(slots):
        ticked = codes == coding.MULTI_TICKED
        ticks[:, j] = ticked
        answered |= ticked
    if extra == 2:
        categories.append(SUPPRESSED_VALUE)
        ticks[:, len(options)] = suppressed
    categories.append(NO_ANSWER)
    ticks[:, -1] = ~answered
    return ticks, tuple(categories)


class _Columns:
    """The coded columns of the counted questions, however they were read: what :func:`_count` counts."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.single_codes: dict[str, np.ndarray] = {}
        self.multi_ticks: dict[str, np.ndarray] = {}
        self.numeric_values: dict[str, np.ndarray] = {}

    def _item(self, question: Question, categories: tuple[str, ...], additive: bool) -> None:
        is_qi = question.privacy is Privacy.QUASI_IDENTIFIER
        self.items[question.key] = Item(question.key, question.type, question.theme, categories, additive, is_qi)

    def add_single(self, question: Question, codes: np.ndarray, categories: tuple[str, ...]) -> None:
        self.single_codes[question.key] = codes
        self._item(question, categories, True)

    def add_multi(self, question: Question, ticks: np.ndarray, categories: tuple[str, ...]) -> None:
        self.multi_ticks[question.key] = ticks
        self._item(question, categories, False)

    def add_numeric(self, question: Question, values: np.ndarray) -> None:
        self.numeric_values[question.key] = values
        self.single_codes[question.key] = np.where(np.isnan(values), 1, 0).astype(np.int32)
        self._item(question, (ANSWERED, NO_ANSWER), True)


def _count(n: int, columns: _Columns, breakdowns: Sequence[str]) -> CampaignCounts:
    """The counting core shared by :func:`count_campaign` and :func:`count_coded` (see the module docstring)."""
    items, single_codes = columns.items, columns.single_codes
    multi_ticks, numeric_values = columns.multi_ticks, columns.numeric_values
    qi_keys = [key for key, item in items.items() if item.quasi_identifier]
    themes: dict[str, list[str]] = {}
    for key, item in items.items():
        if item.theme and not item.quasi_identifier:
            themes.setdefault(item.theme, []).append(key)

    chosen: dict[str, Breakdown] = {}
    group_codes: dict[str, np.ndarray] = {}
    for key in [*qi_keys, *[b for b in breakdowns if b not in qi_keys]]:
        if key not in items:
            raise ValueError(f"breakdown {key!r}: no such question (or it takes no countable answer)")
        item = items[key]
        if item.type is QuestionType.MULTI_CHOICE and item.quasi_identifier:
            for j, option in enumerate(item.categories):
                if option in (SUPPRESSED_VALUE, NO_ANSWER):
                    continue
                name = f"{key}__{option}"
                chosen[name] = Breakdown(name, key, (TICKED, NOT_TICKED), option)
                group_codes[name] = np.where(multi_ticks[key][:, j], 0, 1).astype(np.int32)
        elif item.type in _BREAKDOWN_TYPES or (item.quasi_identifier and key in single_codes):
            chosen[key] = Breakdown(key, key, item.categories)
            group_codes[key] = single_codes[key]
        else:
            raise ValueError(f"breakdown {key!r}: only single-choice questions can be breakdowns")

    # One code space for all single-coded items (S codes) and one for multi-choice options (P). Items are
    # packed into small tuples coded jointly (mixed radix, at most _PACK_CODES codes per tuple): each
    # increment then counts two or three questions at once; an item's table is the tuple table summed
    # over the other members.
    single_keys = list(single_codes)
    radix = [len(items[key].categories) for key in single_keys]
    packs: list[list[int]] = []
    for j, size in enumerate(radix):
        if packs and math.prod(radix[i] for i in packs[-1]) * size <= _PACK_CODES:
            packs[-1].append(j)
        else:
            packs.append([j])
    # Multi-choice columns (options, "suppressed", "no answer"; all items side by side) are bits: every
    # 8 of them are one more tuple code, counted in the same pass; a column's count is the sum over the
    # codes with its bit set. Codes are stored tuple by tuple (rows of ``answers``), each contiguous.
    multi_keys = list(multi_ticks)
    multi_offsets = np.cumsum([0] + [multi_ticks[k].shape[1] for k in multi_keys])
    p_total = int(multi_offsets[-1])
    byte_sizes = [2 ** min(8, p_total - start) for start in range(0, p_total, 8)]
    sizes = [math.prod(radix[i] for i in pack) for pack in packs] + byte_sizes
    offsets = np.cumsum([0, *sizes])
    s_total = int(offsets[-1])
    answers = np.empty((len(sizes), n), dtype=np.int32)
    place: dict[str, tuple[int, int]] = {}
    for p, pack in enumerate(packs):
        code = np.zeros(n, dtype=np.int32)
        for position, j in enumerate(pack):
            code *= radix[j]
            code += single_codes[single_keys[j]]
            place[single_keys[j]] = (p, position)
        answers[p] = code + offsets[p]
    bit_columns = [(key, c) for key in multi_keys for c in range(multi_ticks[key].shape[1])]
    for q, first in enumerate(range(0, p_total, 8), start=len(packs)):
        code = np.zeros(n, dtype=np.uint8)
        for bit, (key, c) in enumerate(bit_columns[first : first + 8]):
            code |= np.left_shift(multi_ticks[key][:, c], bit, dtype=np.uint8)
        np.add(code, offsets[q], out=answers[q], dtype=np.int32)

    def single_block(table: np.ndarray, key: str) -> np.ndarray:
        """Rows x categories of item ``key`` from a rows x S table of tuple codes."""
        p, position = place[key]
        shape = (table.shape[0], *(radix[j] for j in packs[p]))
        block = table[:, offsets[p] : offsets[p + 1]].reshape(shape)
        others = tuple(1 + i for i in range(len(packs[p])) if i != position)
        return block.sum(axis=others) if others else block

    def multi_columns(table: np.ndarray) -> np.ndarray:
        """Rows x P (every multi-choice column) from a rows x S table of tuple codes."""
        counted = np.zeros((table.shape[0], p_total), dtype=np.int64)
        for q in range(len(packs), len(sizes)):
            start = 8 * (q - len(packs))
            width = min(8, p_total - start)
            bits = (np.arange(sizes[q])[:, None] >> np.arange(width)) & 1
            counted[:, start : start + width] = table[:, offsets[q] : offsets[q + 1]] @ bits
        return counted

    # Breakdowns that partition by one code per row (plus "all") are counted in the combined pass;
    # indicator breakdowns only count their ticked rows.
    plain = [ALL] + [b for b, spec in chosen.items() if spec.option is None]
    g_sizes = [1] + [len(chosen[b].groups) for b in plain[1:]]
    g_offsets = np.cumsum([0, *g_sizes])
    t_total = int(g_offsets[-1])

    # Each breakdown's groups x S block is counted on its own (a small table stays in the CPU caches).
    single_table = np.zeros(t_total * s_total, dtype=np.int64)
    # Indicator breakdowns only need their ticked rows; up to _INDICATOR_BITS of them are counted in one
    # increment per tuple, by the combination of their ticks (2**bits x S codes).
    indicators = [b for b, spec in chosen.items() if spec.option is not None]
    batches = [indicators[i : i + _INDICATOR_BITS] for i in range(0, len(indicators), _INDICATOR_BITS)]
    combined = [np.zeros(2 ** len(batch) * s_total, dtype=np.int64) for batch in batches]
    for start in range(0, n, _CHUNK):
        # bincount counts intp: converted once per chunk, not once per breakdown (that doubles its cost).
        chunk = answers[:, start : start + _CHUNK].astype(np.intp)
        index = np.empty_like(chunk)
        single_table[:s_total] += np.bincount(chunk.ravel(), minlength=s_total)
        for j, b in enumerate(plain[1:], start=1):
            shift = group_codes[b][start : start + _CHUNK].astype(np.intp) * s_total
            lo, hi = g_offsets[j] * s_total, g_offsets[j + 1] * s_total
            single_table[lo:hi] += np.bincount(np.add(chunk, shift, out=index).ravel(), minlength=hi - lo)
        for batch, table in zip(batches, combined, strict=True):
            code = np.zeros(chunk.shape[1], dtype=np.intp)
            for bit, b in enumerate(batch):
                code |= np.left_shift(group_codes[b][start : start + _CHUNK] == 0, bit, dtype=np.intp)
            table += np.bincount(np.add(chunk, code * s_total, out=index).ravel(), minlength=len(table))
    single_table = single_table.reshape(t_total, s_total)
    multi_table = multi_columns(single_table)

    indicator_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for batch, table in zip(batches, combined, strict=True):
        table = table.reshape(-1, s_total)
        for bit, b in enumerate(batch):
            ticked = table[(np.arange(len(table)) >> bit) & 1 == 1].sum(axis=0)
            indicator_rows[b] = (ticked, multi_columns(ticked[None, :])[0])

    def table_of(key: str, b: str) -> np.ndarray:
        """groups x categories counts of item ``key`` by breakdown ``b`` (``ALL``: a single row)."""
        if key in single_codes:
            if b in indicator_rows:
                rows = np.vstack([single_table[0], indicator_rows[b][0]])
            else:
                g = plain.index(b)
                rows = single_table[g_offsets[g] : g_offsets[g + 1]]
            counted = single_block(rows, key)
        else:
            j = multi_keys.index(key)
            lo, hi = multi_offsets[j], multi_offsets[j + 1]
            if b in indicator_rows:
                counted = np.vstack([multi_table[0, lo:hi], indicator_rows[b][1][lo:hi]])
            else:
                g = plain.index(b)
                counted = multi_table[g_offsets[g] : g_offsets[g + 1], lo:hi]
        if b in indicator_rows:  # rows (everyone, ticked) -> (ticked, not ticked)
            return np.vstack([counted[1], counted[0] - counted[1]])
        return counted

    overall: dict[str, pd.Series] = {}
    crosstabs: dict[str, dict[str, pd.DataFrame]] = {}
    for key, item in items.items():
        overall[key] = pd.Series(table_of(key, ALL)[0], index=list(item.categories), dtype="int64")
        crosstabs[key] = {}
        if item.quasi_identifier:
            continue
        for b, spec in chosen.items():
            if spec.question == key:
                continue
            crosstabs[key][b] = pd.DataFrame(table_of(key, b), index=list(spec.groups), columns=list(item.categories))
    sizes: dict[str, pd.Series] = {}
    for b, spec in chosen.items():
        if spec.option is None:
            sizes[b] = overall[spec.question].reindex(list(spec.groups))
        else:
            ticked = int(overall[spec.question][spec.option])
            sizes[b] = pd.Series([ticked, n - ticked], index=[TICKED, NOT_TICKED], dtype="int64")

    statistics: dict[str, dict[str, Any]] = {}
    for key, item in items.items():
        if item.quasi_identifier:
            continue
        if item.type is QuestionType.LIKERT:
            points = np.array([float(c) for c in item.categories if c not in (NO_ANSWER, SUPPRESSED_VALUE)])
            width = len(points)
            statistics[key] = {
                "overall": _from_counts(points, overall[key].to_numpy()[:width], quartiles=False),
                "by": {
                    b: {
                        group: _from_counts(points, row[:width], quartiles=False)
                        for group, row in zip(crosstabs[key][b].index, crosstabs[key][b].to_numpy(), strict=True)
                    }
                    for b in crosstabs[key]
                },
            }
        elif key in numeric_values:
            statistics[key] = _numeric_statistics(numeric_values[key], {b: group_codes[b] for b in chosen}, chosen)
            for b in [b for b in chosen if chosen[b].question == key]:
                statistics[key]["by"].pop(b, None)
    return CampaignCounts(
        respondents=n,
        items=items,
        breakdowns=chosen,
        overall=overall,
        crosstabs=crosstabs,
        group_sizes=sizes,
        statistics=statistics,
        themes={theme: tuple(keys) for theme, keys in themes.items()},
    )


def statistic_of(values: Sequence[float] | np.ndarray, *, quartiles: bool = True) -> Statistic:
    """The :class:`Statistic` of plain values (NaN ignored); the reference the count-based path must equal."""
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    unique, counts = np.unique(array, return_counts=True)
    return _from_counts(unique, counts, quartiles=quartiles)


@lru_cache(maxsize=4096)
def _t975(degrees_of_freedom: int) -> float:
    """The 97.5% quantile of Student's t (two-sided 95% interval); cached, the call is slow."""
    return float(scipy_stats.t.ppf(0.975, degrees_of_freedom))


def _from_counts(values: np.ndarray, counts: np.ndarray, *, quartiles: bool) -> Statistic:
    """Mean, SD, t-based 95% CI (and quartiles) of a distribution given as distinct values and counts."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return Statistic(0, None, None, None)
    mean = float((values * counts).sum() / n)
    sd = ci = None
    if n >= 2:
        sd = float(math.sqrt((counts * (values - mean) ** 2).sum() / (n - 1)))
        half = _t975(n - 1) * sd / math.sqrt(n)
        ci = (mean - half, mean + half)
    if not quartiles:
        return Statistic(n, mean, sd, ci)
    order = np.argsort(values, kind="stable")
    values, cumulative = values[order], np.cumsum(counts[order])

    def quantile(p: float) -> float:
        h = (n - 1) * p  # numpy's "linear" method: between order statistics floor(h) and floor(h) + 1
        low = math.floor(h)
        x_low = values[np.searchsorted(cumulative, low + 1)]
        x_high = values[np.searchsorted(cumulative, min(low + 2, n))]
        return float(x_low + (h - low) * (x_high - x_low))

    return Statistic(n, mean, sd, ci, quantile(0.25), quantile(0.5), quantile(0.75))


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``; whole numbers in a short range are counted, not sorted."""
    if len(values):
        low, high = values.min(), values.max()
        if high - low < _MAX_VALUE_BINS and (values == np.floor(values)).all():
            shifted = (values - low).astype(np.intp)
            present = np.flatnonzero(np.bincount(shifted))
            rank = np.zeros(int(high - low) + 1, dtype=np.intp)
            rank[present] = np.arange(len(present))
            return present + low, rank[shifted]
    return np.unique(values, return_inverse=True)


def _numeric_statistics(
    values: np.ndarray, group_codes: Mapping[str, np.ndarray], chosen: Mapping[str, Breakdown]
) -> dict[str, Any]:
    answered = ~np.isnan(values)
    distinct, inverse = _distinct(values[answered])
    u = len(distinct)
    result: dict[str, Any] = {"overall": _from_counts(distinct, np.bincount(inverse, minlength=u), quartiles=True)}
    by: dict[str, dict[str, Statistic]] = {}
    for b, codes in group_codes.items():
        groups = chosen[b].groups
        g = codes[answered]
        if len(groups) * max(u, 1) <= _MAX_VALUE_BINS:
            table = np.bincount(g.astype(np.int64) * u + inverse, minlength=len(groups) * u).reshape(len(groups), u)
            by[b] = {group: _from_counts(distinct, table[i], quartiles=True) for i, group in enumerate(groups)}
        else:  # many distinct values: sort each group instead of counting per value
            by[b] = {group: statistic_of(values[answered][g == i]) for i, group in enumerate(groups)}
    result["by"] = by
    return result


# --------------------------------------------------------------------------------------------------
# Publication
# --------------------------------------------------------------------------------------------------


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _cell(value: Any) -> Any:
    return value if disclosure.is_hidden(value) else int(value)


def _table_json(table: disclosure.SuppressedTable) -> dict[str, Any]:
    def percentages(axis: disclosure.Axis) -> list[list[float | None]]:
        frame = table.percentages(axis)
        return [[_round(v, 1) if v is not None else None for v in row] for row in frame.to_numpy().tolist()]

    data: dict[str, Any] = {
        "name": table.name,
        "question": table.question,
        "breakdown": table.breakdown,
        "additive": table.additive,
        "rows": [str(r) for r in table.published.index],
        "columns": [str(c) for c in table.published.columns],
        "cells": [[_cell(v) for v in row] for row in table.published.to_numpy().tolist()],
        "row_percentages": percentages("row"),
        "column_percentages": percentages("column") if table.breakdown is not None else None,
        "suppressed_count": table.suppressed_count,
        "note": table.note,
    }
    return data


def _visible_n(table: dict[str, Any], row: int) -> bool:
    """True if the answered ``n`` of a row can be read from published cells (row total and no-answer)."""
    cells, columns = table["cells"][row], table["columns"]
    needed = [cells[-1]] + [cells[columns.index(c)] for c in (NO_ANSWER, SUPPRESSED_VALUE) if c in columns]
    return not any(disclosure.is_hidden(v) for v in needed)


def _statistics_json(
    item: Item, raw: Mapping[str, Any], tables: Mapping[str, dict[str, Any]], crosstab_names: Mapping[str, str], k: int
) -> dict[str, Any]:
    overall_table = tables[item.key]
    overall_stat: Statistic = raw["overall"]
    overall_shown = _visible_n(overall_table, 0) and disclosure.statistic_visible(overall_stat.n, k=k)
    result: dict[str, Any] = {"overall": overall_stat.as_json() if overall_shown else None, "by": {}}
    for b, by_group in raw["by"].items():
        if b not in crosstab_names:
            continue
        table = tables[crosstab_names[b]]
        groups = list(by_group)
        hidden = [g for i, g in enumerate(groups) if not _visible_n(table, i)]
        n_by_group = pd.Series([by_group[g].n for g in groups], index=groups)
        visible = disclosure.visible_statistics(n_by_group, k=k, overall_shown=overall_shown, hidden_groups=hidden)
        result["by"][b] = {g: by_group[g].as_json() if visible[g] else None for g in groups}
    return result


def publish(counts: CampaignCounts, *, k: int, funnel: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The published form of ``counts``: every table suppressed jointly; see ``docs/aggregation.md``.

    Only :attr:`analysis.disclosure.SuppressedTable.published` values (ints and the marker), their safe
    percentages, the notes, and statistics that passed :func:`analysis.disclosure.visible_statistics`
    are in the result. ``funnel`` is the output of :func:`funnel_publish` (already suppressed).
    """
    families: dict[str, disclosure.Question] = {}
    for key, item in counts.items.items():
        if item.quasi_identifier and not item.additive:
            continue  # a multi-choice quasi-identifier is published through its indicator breakdowns
        families[key] = disclosure.Question(
            overall=counts.overall[key], crosstabs=dict(counts.crosstabs[key]), additive=item.additive
        )
    result = disclosure.suppress_campaign(
        families, k=k, breakdown_totals=dict(counts.group_sizes), respondents=counts.respondents
    )
    tables = {table.name: _table_json(table) for table in result.tables()}
    some_table = next(iter(tables.values()))
    respondents = some_table["cells"][-1][-1]

    questions: dict[str, Any] = {}
    for key, item in counts.items.items():
        family = result.families.get(key)
        crosstab_names = {b: t.name for b, t in family.crosstabs.items()} if family else {}
        entry: dict[str, Any] = {
            "type": str(item.type),
            "theme": item.theme,
            "quasi_identifier": item.quasi_identifier,
            "additive": item.additive,
            "categories": list(item.categories),
            "overall": family.overall.name if family else None,
            "crosstabs": crosstab_names,
            "statistics": None,
        }
        if family is None:  # multi-choice quasi-identifier: its options are the indicator breakdowns
            entry["indicators"] = {
                spec.option: b for b, spec in counts.breakdowns.items() if spec.question == key and spec.option
            }
        if key in counts.statistics:
            entry["statistics"] = _statistics_json(item, counts.statistics[key], tables, crosstab_names, k)
        questions[key] = entry

    breakdowns = {
        b: {
            "question": spec.question,
            "option": spec.option,
            "groups": list(spec.groups),
            "table": result.breakdowns[b].name,
        }
        for b, spec in counts.breakdowns.items()
    }
    multi: dict[str, list[str]] = {}
    for b, spec in counts.breakdowns.items():
        if spec.option is not None:
            multi.setdefault(spec.question, []).append(b)
    suppressed = sum(t["suppressed_count"] for t in tables.values())
    return {
        "format": FORMAT,
        "k": k,
        "respondents": respondents,
        "suppressed_cells": suppressed,
        "note": disclosure.note_for(k) if suppressed else "",
        "questions": questions,
        "breakdowns": breakdowns,
        "multi_breakdowns": multi,
        "themes": {theme: list(keys) for theme, keys in counts.themes.items()},
        "tables": tables,
        "funnel": funnel,
    }


def funnel_publish(*, started: int, completed: int, steps: Sequence[tuple[str, int, bool]], k: int) -> dict[str, Any]:
    """Completion and drop-off per step from the tallies, suppressed as one frequency table.

    ``steps``: ``(step key, respondents who reached it, conditional)`` in survey order (``conditional``:
    the step has a ``show_if``). The table has one column per step plus ``_completed``, and ``Total`` =
    started; every count is at most ``started`` (modelled like a multi-choice table). ``drop_off`` of an
    unconditional step = reached there minus reached at the next unconditional step (or completed after
    the last), given only when both are shown; ``completion_rate`` only when both counts are shown.
    """
    labels = [key for key, _reached, _conditional in steps] + ["_completed"]
    values = [min(int(reached), started) for _key, reached, _conditional in steps] + [min(completed, started)]
    if started == 0:
        return {"started": 0, "completed": 0, "completion_rate": None, "steps": [], "table": None}
    table = disclosure.suppress_frequencies(
        pd.Series(values, index=labels), k=k, additive=False, respondents=started, name="funnel"
    )
    published = _table_json(table)
    cells = dict(zip(published["columns"], published["cells"][0], strict=True))
    hidden = disclosure.is_hidden
    shown_started, shown_completed = cells[disclosure.TOTAL], cells["_completed"]
    rate = None
    if not hidden(shown_started) and not hidden(shown_completed) and shown_started:
        rate = round(shown_completed / shown_started, 3)
    unconditional = [key for key, _reached, conditional in steps if not conditional]
    rows = []
    for key, _reached, conditional in steps:
        drop = None
        if not conditional:
            position = unconditional.index(key)
            following = unconditional[position + 1] if position + 1 < len(unconditional) else "_completed"
            if not hidden(cells[key]) and not hidden(cells[following]):
                drop = max(cells[key] - cells[following], 0)
        rows.append({"step": key, "reached": cells[key], "conditional": conditional, "drop_off": drop})
    return {
        "started": shown_started,
        "completed": shown_completed,
        "completion_rate": rate,
        "steps": rows,
        "table": published,
    }
