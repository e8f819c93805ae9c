"""Statistical disclosure control: the one place that decides which numbers Stimmen may publish.

Every page, export and API that shows counts, percentages or statistics of a campaign calls this module.
It is pure Python + pandas/numpy (no Django, no database) so it can be tested and audited on its own.
``docs/disclosure-control.md`` explains the rules for city staff and researchers.

Rules, in short
---------------
* **Primary suppression.** A cell counting 1 .. k-1 people (``k`` per campaign, default 5) is hidden.
  Zeros are *not* hidden (standard practice, e.g. Destatis/Eurostat tau-argus): a 0 says that nobody
  gave an answer, it does not single anyone out.  Zeros are, however, treated as *known numbers* by the
  secondary suppression and by the auditor, so a published 0 can never be the missing piece that lets
  someone compute a hidden cell.  What zeros do reveal ("every person in this group gave the same
  answer", group/attribute disclosure) is *not* protected by these rules; see the docs.
* **Margins are cells.**  Row totals (group sizes), column totals (overall answer counts) and the grand
  total are published too, so they are primary-suppressed when small and can be chosen as complements.
* **Secondary (complementary) suppression.**  No hidden cell may be recoverable from the totals or from
  another published table of the same campaign.  All tables of a campaign are modelled as ONE system of
  cells and linear relations (see :func:`suppress_campaign`); a cell that appears in several tables
  (e.g. "14-17 year olds" in every cross-tab by age band, or an answer's overall count in every
  cross-tab of that question) is one cell and is hidden everywhere or nowhere.
* **One marker for every hidden cell.**  Primary and secondary cells are published with the same marker
  :data:`SUPPRESSED_MARKER`.  Writing ``"< 5"`` only on the small cells would tell a reader *which* of
  the hidden cells are the small ones and undo the secondary suppression: with a published row total of
  6, a hidden "< 5" cell and a hidden "other" cell (so >= 5, or 0) the small one must be exactly 1.
  The per-cell reasons (``"primary"``/``"secondary"``) are therefore for staff and logs only.
* **Statistics** (means, standard deviations, confidence intervals) are shown only for ``n >= k``
  (:func:`statistic_visible`, :func:`visible_statistics`).

The auditor (:func:`audit_recoverable`) attacks the *published* tables; its exact guarantee is stated in
its docstring.  :func:`suppress_campaign` runs the same auditor on its own result and keeps hiding cells
until the auditor finds nothing, so every result of this module passes the audit by construction.

Not covered: differencing between campaigns or between snapshots of the same campaign taken at
different times, external knowledge, and an attacker who reasons about *how* complements were chosen.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_K",
    "NOTE",
    "PRIMARY",
    "SECONDARY",
    "SUPPRESSED_MARKER",
    "TOTAL",
    "Campaign",
    "CellBounds",
    "Family",
    "Question",
    "SuppressedTable",
    "audit_recoverable",
    "hidden_cell_bounds",
    "statistic_visible",
    "suppress_campaign",
    "suppress_crosstab",
    "suppress_family",
    "suppress_frequencies",
    "visible_statistics",
]

DEFAULT_K = 5
"""Minimum number of people a published count must have (unless it is 0)."""

TOTAL = "Total"
"""Label of the margin row/column in every table.  No answer option or group may use this label."""

SUPPRESSED_MARKER = "\u2022"  # "•"
"""What a hidden cell shows in :attr:`SuppressedTable.published`, whatever the reason it is hidden."""

PRIMARY = "primary"
"""Reason code: the cell counts 1 .. k-1 people."""

SECONDARY = "secondary"
"""Reason code: the cell is hidden so that another hidden cell cannot be worked out."""

NOTE = (
    "Cells marked {marker} are hidden to protect the people who answered: they count fewer than {k} "
    "people, or they would let someone work out such a cell from the other numbers."
)
"""The human note shown under a table with hidden cells (English msgid; the caller translates it)."""

Reason = Literal["", "primary", "secondary"]
Axis = Literal["row", "column"]

_INF = math.inf
_Key = tuple  # internal identity of a cell across all tables of a campaign
_Cost = Callable[[int, "int | None"], tuple[int, bool, int, int, int]]  # (cell, relation being fixed) -> sort key


# --------------------------------------------------------------------------------------------------
# Public result types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SuppressedTable:
    """One published table after disclosure control.

    Layout (all four frames share it): columns are the categories (answer options, or the groups of a
    breakdown for a breakdown's own frequency table) followed by a :data:`TOTAL` column; rows are the
    groups of the breakdown followed by a :data:`TOTAL` row.  A one-dimensional frequency table is a
    single row labelled :data:`TOTAL` ("all respondents").  Transpose it for a vertical display.

    For a multi-choice question (``additive=False``) the :data:`TOTAL` column holds the number of
    *respondents* of the row (group size, or all respondents), not the sum of the option counts.

    ``confidential_counts`` holds the true counts, margins included.  It is CONFIDENTIAL: never render
    or export it; it exists so that :meth:`percentages` can be computed and for tests.
    ``published`` (object dtype) holds ``int`` counts, or :data:`SUPPRESSED_MARKER` where ``mask`` is
    True.  ``reasons`` holds ``""``, ``"primary"`` or ``"secondary"`` per cell; it is for staff and logs
    only (publishing it would show which hidden cells are the small ones).
    """

    name: str
    question: str
    breakdown: str | None
    additive: bool
    k: int
    confidential_counts: pd.DataFrame
    published: pd.DataFrame
    mask: pd.DataFrame
    reasons: pd.DataFrame

    @property
    def suppressed_count(self) -> int:
        """How many cells of this table (margins included) are hidden: publish this number."""
        return int(self.mask.to_numpy().sum())

    @property
    def reason_counts(self) -> dict[str, int]:
        """Hidden cells per reason, e.g. ``{"primary": 2, "secondary": 3}`` (internal use only)."""
        values = self.reasons.to_numpy().ravel().tolist()
        return {PRIMARY: values.count(PRIMARY), SECONDARY: values.count(SECONDARY)}

    @property
    def note(self) -> str:
        """The note to print under the table, or ``""`` if nothing is hidden.  See :data:`NOTE`."""
        return NOTE.format(marker=SUPPRESSED_MARKER, k=self.k) if self.suppressed_count else ""

    def percentages(self, axis: Axis = "row") -> pd.DataFrame:
        """Percentages (0..100, floats), with ``None`` wherever showing them could reveal a hidden cell.

        ``axis="row"``: share of the row total (for a frequency table: share of all respondents; for a
        cross-tab: share of the group).  ``axis="column"``: share of the column total.  A percentage is
        shown only if the cell *and* its denominator are published and the denominator is not 0: the
        percentage of a hidden cell would give the cell back, and a published count divided by its
        percentage would give back a hidden total.
        """
        if axis not in ("row", "column"):
            raise ValueError(f"axis must be 'row' or 'column', not {axis!r}")
        counts, mask = self.confidential_counts.to_numpy(), self.mask.to_numpy()
        last_row, last_column = counts.shape[0] - 1, counts.shape[1] - 1
        rows = []
        for i in range(counts.shape[0]):
            row: list[float | None] = []
            for j in range(counts.shape[1]):
                di, dj = (i, last_column) if axis == "row" else (last_row, j)
                shown = not mask[i, j] and not mask[di, dj] and counts[di, dj] > 0
                row.append(100.0 * int(counts[i, j]) / int(counts[di, dj]) if shown else None)
            rows.append(row)
        return pd.DataFrame(rows, index=self.mask.index, columns=self.mask.columns, dtype=object)


@dataclass(frozen=True, eq=False)
class Family:
    """A question's overall frequency table, its cross-tabs and the breakdown tables they link to.

    ``crosstabs`` and ``breakdowns`` are keyed by breakdown name.  ``breakdowns[b]`` is the frequency
    table of breakdown ``b`` (group sizes): it equals the :data:`TOTAL` column of ``crosstabs[b]`` and is
    hidden consistently with it.
    """

    question: str
    k: int
    overall: SuppressedTable
    crosstabs: Mapping[str, SuppressedTable]
    breakdowns: Mapping[str, SuppressedTable]

    def tables(self) -> list[SuppressedTable]:
        """All published tables of the family, in a stable order."""
        return [self.overall, *self.crosstabs.values(), *self.breakdowns.values()]


@dataclass(frozen=True, eq=False)
class Campaign:
    """All published tables of a campaign, suppressed jointly.  ``families`` is keyed by question."""

    k: int
    families: Mapping[str, Family]
    breakdowns: Mapping[str, SuppressedTable]

    def tables(self) -> list[SuppressedTable]:
        """All published tables (each breakdown table once), in a stable order."""
        tables: list[SuppressedTable] = []
        for family in self.families.values():
            tables += [family.overall, *family.crosstabs.values()]
        return tables + [t for t in self.breakdowns.values() if all(t is not u for u in tables)]


@dataclass(frozen=True)
class Question:
    """Input for :func:`suppress_campaign`: the counts of one question.

    ``overall``: respondents per answer option.  ``crosstabs``: breakdown name -> DataFrame with one row
    per group of the breakdown (e.g. age band) and one column per answer option, *without* margins.
    ``additive``: True for single-choice questions (the options of a row add up to the row's number of
    respondents); False for multi-choice questions (one person may tick several options, so each option
    is only known to be at most the group size).  Every table must count the same respondents: code
    "no answer" / "not shown" as an option or group instead of dropping people.
    """

    overall: pd.Series
    crosstabs: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    additive: bool = True


@dataclass(frozen=True)
class CellBounds:
    """What an attacker can learn about one hidden cell from the published tables.

    ``lower``/``upper``: the cell's value lies in ``lower .. upper`` (``upper`` is None if unbounded).
    ``method``: how the cell was pinned down, if it was: ``"subtraction"`` (a row/column equation with
    one unknown), ``"linear combination"`` (several equations combined) or ``"bounds"`` (interval
    reasoning); None if it was not determined exactly.  ``exposed``: the attacker can prove the cell is
    a small non-zero count (``1 <= lower`` and ``upper <= k-1``).  A cell that appears in several tables
    is reported once, at its first appearance (``table``, ``row``, ``column``).
    """

    table: str
    row: Hashable
    column: Hashable
    lower: int
    upper: int | None
    method: str | None
    exposed: bool


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


def statistic_visible(n: int, *, k: int = DEFAULT_K) -> bool:
    """True if a mean, standard deviation, median or confidence interval over ``n`` people may be shown.

    The rule is ``n >= k``.  When statistics of several groups are shown next to a statistic of all of
    them, use :func:`visible_statistics`, which also stops a hidden group's statistic from being
    worked out from the others.
    """
    _check_k(k)
    return n >= k


def visible_statistics(
    n_by_group: pd.Series,
    *,
    k: int = DEFAULT_K,
    overall_shown: bool = True,
    hidden_groups: Iterable[Hashable] = (),
) -> pd.Series:
    """For each group, whether its statistics (mean, SD, CI, ...) may be shown.  Returns a bool Series.

    A group's statistic is hidden when its ``n`` is below ``k``, or when the group is in
    ``hidden_groups``; pass there the groups whose size is hidden in the published frequency tables
    (``~table.mask`` of the breakdown table), otherwise a missing mean would tell which hidden group
    size is the small one.  Sums add up (``sum n_i * mean_i = N * mean``, and likewise sums of squares),
    so if the overall statistic is shown and exactly one non-empty group is hidden, that group's value
    could be computed from the others: then the next smallest non-empty group is hidden too.  Empty
    groups (``n == 0``) never show a statistic and need no protection.
    """
    _check_k(k)
    sizes = _counts_series(n_by_group, "group sizes")
    hidden = set(hidden_groups)
    visible = pd.Series([int(n) >= k and g not in hidden for g, n in sizes.items()], index=sizes.index)
    non_empty_hidden = [g for g, n in sizes.items() if n > 0 and not visible[g]]
    if overall_shown and len(non_empty_hidden) == 1:
        candidates = [(int(n), pos, g) for pos, (g, n) in enumerate(sizes.items()) if visible[g]]
        if candidates:
            visible[min(candidates)[2]] = False
    return visible.astype(bool)


def suppress_frequencies(
    counts: pd.Series,
    *,
    k: int = DEFAULT_K,
    additive: bool = True,
    respondents: int | None = None,
    name: str = "question",
) -> SuppressedTable:
    """Suppress one frequency table (answer option -> count) that is published on its own.

    The result has one row (:data:`TOTAL`) and the options plus a :data:`TOTAL` column.  For a
    multi-choice question pass ``additive=False`` and the number of ``respondents``.  If the question
    is also shown broken down by a group, use :func:`suppress_family` instead: suppressing the tables
    one by one does not protect against differencing between them.
    """
    question = Question(overall=counts, additive=additive)
    return suppress_campaign({name: question}, k=k, respondents=respondents).families[name].overall


def suppress_crosstab(
    counts: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    additive: bool = True,
    group_sizes: pd.Series | None = None,
    question: str = "question",
    breakdown: str = "breakdown",
) -> SuppressedTable:
    """Suppress one cross-tab (rows = groups of a breakdown, columns = answer options), margins included.

    The result adds a :data:`TOTAL` column (group sizes) and a :data:`TOTAL` row (overall answer
    counts); they are suppressed together with the inner cells.  For a multi-choice question pass
    ``additive=False`` and ``group_sizes`` (respondents per group).  Use :func:`suppress_family` or
    :func:`suppress_campaign` when other tables of the same campaign are published too.
    """
    frame = _counts_frame(counts, f"{question} by {breakdown}")
    spec = Question(overall=frame.sum(axis=0), crosstabs={breakdown: frame}, additive=additive)
    sizes = None if group_sizes is None else {breakdown: group_sizes}
    result = suppress_campaign({question: spec}, k=k, breakdown_totals=sizes)
    return result.families[question].crosstabs[breakdown]


def suppress_family(
    overall: pd.Series,
    crosstabs: Mapping[str, pd.DataFrame],
    *,
    k: int = DEFAULT_K,
    additive: bool = True,
    breakdown_totals: Mapping[str, pd.Series] | None = None,
    respondents: int | None = None,
    question: str = "question",
) -> Family:
    """Suppress one question's overall table, its cross-tabs and the breakdown tables jointly.

    ``overall``: counts per answer option.  ``crosstabs``: breakdown name -> groups x options counts
    (no margins); their column sums must equal ``overall``.  For multi-choice questions pass
    ``additive=False`` and, per breakdown, the group sizes in ``breakdown_totals`` (for single-choice
    questions they are the row sums and need not be given; if given they must agree).  When several
    questions of a campaign are published, call :func:`suppress_campaign` with all of them instead:
    they share the breakdown tables (group sizes), so they must be suppressed together.
    """
    spec = Question(overall=overall, crosstabs=dict(crosstabs), additive=additive)
    result = suppress_campaign({question: spec}, k=k, breakdown_totals=breakdown_totals, respondents=respondents)
    return result.families[question]


def suppress_campaign(
    questions: Mapping[str, Question],
    *,
    k: int = DEFAULT_K,
    breakdown_totals: Mapping[str, pd.Series] | None = None,
    respondents: int | None = None,
) -> Campaign:
    """Suppress every published table of a campaign jointly.  Deterministic: same input, same result.

    Tables: for each question its overall frequency table and its cross-tabs; for each breakdown its
    frequency table (group sizes).  A cell shared by several tables is one cell: answer counts are the
    column margins of every cross-tab of the question; group sizes are the row margins of every
    cross-tab by that breakdown *and* the breakdown's own table (and the overall table of a question of
    the same name); the number of respondents is every grand total; a joint count
    "age = a and gender = g" is the same cell in "age by gender" and "gender by age".

    Relations: in every table each column adds up to its :data:`TOTAL` (groups partition the
    respondents) and, for single-choice questions, each row adds up to its :data:`TOTAL`.  For
    multi-choice questions the rows give only "option count <= row total"; the group sizes are linked
    through the breakdown's own table (they add up to the number of respondents).

    Algorithm:

    1. Primary: every cell (margins included) counting 1 .. k-1 is hidden.  Zeros are not.
    2. Lines: every relation (row or column equation, in any table) must have no hidden cell or at
       least two, otherwise the hidden one is its total minus the rest.  For a relation with exactly one
       hidden cell, hide one more of its cells: the cheapest by (margin level: inner cell < group or
       option total < number of respondents; is zero; number of other relations it would newly leave
       with a single hidden cell; count; position).  This keeps the headline totals visible where
       possible and prefers small non-zero counts that close a rectangle; zeros are used only if no
       non-zero cell of the same level is left.  Repeat to a fixed point (ties are broken by position,
       so the result is deterministic).
    3. Audit: run the auditor of :func:`audit_recoverable` on the result.  For each exposed cell, hide
       the cheapest published cell that shares a relation with it (or, if there is none, the nearest
       one through hidden cells) and go back to step 2.  Hiding more cells never helps the auditor, and
       with everything hidden nothing is exposed, so this terminates.

    ``breakdown_totals`` (breakdown -> group sizes) is needed for breakdowns used only by multi-choice
    questions; ``respondents`` only if no table gives the number of respondents (multi-choice
    questions without breakdowns).  Raises ``ValueError`` if the tables do not fit together, e.g. a
    cross-tab whose row sums differ from the group sizes, because such tables cannot be protected
    jointly.
    """
    _check_k(k)
    if respondents is not None and (int(respondents) != respondents or respondents < 0):
        raise ValueError("respondents must be a non-negative integer")
    prepared = _prepare(questions, breakdown_totals or {}, respondents)
    system, grids = _build([layout for layout, _ in prepared])
    values = _assign(system, prepared, grids)
    if any(v is None for v in values):  # pragma: no cover - every cell comes from some frame
        raise AssertionError("a cell without a value")
    true_values = [int(v) for v in values if v is not None]
    hidden, reasons = _suppress(system, true_values, k)

    tables: dict[str, SuppressedTable] = {}
    hidden_array, reason_array = np.asarray(hidden, dtype=bool), np.asarray(reasons, dtype=object)
    for (layout, array), grid in zip(prepared, grids, strict=True):
        tables[layout.name] = _make_table(layout, array, grid, hidden_array, reason_array, k)
    families: dict[str, Family] = {}
    breakdowns: dict[str, SuppressedTable] = {}
    for layout, _ in prepared:
        if layout.kind == "breakdown":
            breakdowns[layout.question] = tables[layout.name]
    for spec in questions.values():
        for b in spec.crosstabs:
            if b in questions:
                breakdowns.setdefault(b, tables[b])
    for q, spec in questions.items():
        crosstabs = {b: tables[_crosstab_name(q, b)] for b in spec.crosstabs}
        families[q] = Family(
            question=q,
            k=k,
            overall=tables[q],
            crosstabs=crosstabs,
            breakdowns={b: breakdowns[b] for b in spec.crosstabs},
        )
    return Campaign(k=k, families=families, breakdowns=breakdowns)


def hidden_cell_bounds(
    published: Campaign | Family | SuppressedTable | Iterable[SuppressedTable], *, k: int | None = None
) -> list[CellBounds]:
    """What an attacker learns about every hidden cell; see :func:`audit_recoverable` for the method."""
    tables = _tables_of(published)
    k = _k_of(tables, k)
    layouts = [_layout_of(t) for t in tables]
    system, grids = _build(layouts)
    known: list[int | None] = [None] * len(system.keys)
    for table, grid in zip(tables, grids, strict=True):
        _merge_published(system, table, grid, known)
    lo, hi, how = _attack(system, known, k)
    result = []
    for c, value in enumerate(known):
        if value is not None:
            continue
        table, row, column = system.where[c]
        upper = None if hi[c] == _INF else int(hi[c])
        exposed = lo[c] >= 1 and hi[c] <= k - 1
        result.append(CellBounds(table, row, column, int(lo[c]), upper, how[c], exposed))
    return result


def audit_recoverable(
    published: Campaign | Family | SuppressedTable | Iterable[SuppressedTable], *, k: int | None = None
) -> list[CellBounds]:
    """Attack the published tables like a reader would; return the hidden cells that are exposed.

    Input: the published tables (only ``published`` and ``mask`` are read, never the true counts) of a
    table family or a whole campaign; tables are linked through their shared cells exactly as in
    :func:`suppress_campaign`, and a cell hidden in one table but shown in another counts as known.
    ``k`` defaults to the tables' ``k``.

    The attacker knows the published numbers, that counts are non-negative integers, and every
    relation between the tables (row and column sums, shared margins; "option <= group size" for
    multi-choice rows).  The auditor repeats steps 1-3 until nothing changes, then runs step 4:

    1. *Subtraction*: any relation with exactly one unknown cell gives that cell.
    2. *Linear combination*: every cell that has the same value in all solutions of the equations,
       however many equations must be combined (exact; graph elimination plus a small SVD).
    3. *Bounds*: interval propagation over every relation, with integer rounding and non-negativity.
    4. *Flow check*: hidden cells not linked to a hidden margin that is shared by several tables form
       transportation networks; for them a max-flow computation decides exactly whether some table of
       non-negative integers fitting the published numbers has the cell at 0, and whether one has it
       at ``k`` or more.

    A hidden cell is **exposed** if the attacker can prove ``1 <= value <= k-1``: it is determined
    exactly and small, or all values it can take lie in ``1 .. k-1``.  Determined cells that are 0 or
    ``>= k`` are not exposed (they are not sensitive).

    Guarantees.

    * Sound: every reported range contains every value consistent with what is published, so every
      reported exposure is real.
    * No exact recovery: if nothing is reported, no hidden cell can be computed exactly from the
      published tables, however the equations are combined.
    * Exact for networks: for every hidden cell of a single table (frequency table or cross-tab; for
      multi-choice cross-tabs, where the group size of its row is shown), and of any set of linked
      tables whose shared margins (overall answer counts, group sizes, number of respondents) are
      shown or appear in at most two equations, the exposure decision equals that of an attacker who
      tries every possible table of integers.
    * Otherwise, for cells linked through a hidden margin shared by three or more equations (e.g. a
      hidden overall count of a question with two or more cross-tabs), ranges come from step 3 alone
      and may be wider than an integer- or linear-programming attacker would find, so such an attacker
      might show that a cell is small where the auditor cannot.
    * Reported ranges are exact for cells the flow check found exposed, and otherwise sound outer
      bounds (possibly wider than the truth).

    Not modelled: other campaigns, earlier snapshots, external knowledge, knowledge of the suppression
    algorithm, and markers that differ by reason.
    """
    return [cell for cell in hidden_cell_bounds(published, k=k) if cell.exposed]


# --------------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    name: str
    kind: Literal["overall", "crosstab", "breakdown"]
    question: str  # the variable whose categories are the columns
    breakdown: str | None  # the variable whose groups are the rows (None for 1-D tables)
    additive: bool
    rows: tuple[Hashable, ...]  # labels, TOTAL last
    columns: tuple[Hashable, ...]  # labels, TOTAL last


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(f"k must be an integer >= 2, not {k!r}")


def _check_labels(labels: pd.Index, what: str) -> None:
    if len(labels) == 0:
        raise ValueError(f"{what}: a table needs at least one category")
    if not labels.is_unique:
        raise ValueError(f"{what}: labels must be unique")
    if any(isinstance(label, str) and label == TOTAL for label in labels):
        raise ValueError(f"{what}: {TOTAL!r} is reserved for margins; rename that category")


def _int_array(values: np.ndarray, what: str) -> np.ndarray:
    if values.dtype == bool:
        raise ValueError(f"{what}: counts must be integers, not booleans")
    try:
        floats = values.astype("float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: counts must be numbers") from error
    if np.isnan(floats).any():
        raise ValueError(f"{what}: counts must not be missing (NaN)")
    if (floats < 0).any() or (floats != np.round(floats)).any():
        raise ValueError(f"{what}: counts must be non-negative integers")
    return floats.astype(np.int64)


def _counts_series(counts: pd.Series | Mapping, what: str) -> pd.Series:
    series = counts if isinstance(counts, pd.Series) else pd.Series(dict(counts))
    _check_labels(series.index, what)
    values = series.to_numpy(dtype="float64", na_value=np.nan) if series.dtype != object else series.to_numpy()
    return pd.Series(_int_array(np.asarray(values), what), index=series.index)


def _counts_frame(counts: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame")
    _check_labels(counts.index, f"{what} (rows)")
    _check_labels(counts.columns, f"{what} (columns)")
    try:
        raw = counts.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: counts must be numbers") from error
    return pd.DataFrame(_int_array(raw, what), index=counts.index, columns=counts.columns)


def _crosstab_name(question: str, breakdown: str) -> str:
    return f"{question} by {breakdown}"


def _reindex_rows(frame: pd.DataFrame, groups: pd.Index, what: str) -> pd.DataFrame:
    extra = [g for g in frame.index if g not in groups]
    if extra:
        raise ValueError(f"{what}: groups {extra!r} are missing from the breakdown totals")
    return frame.reindex(groups, fill_value=0)


def _prepare(
    questions: Mapping[str, Question],
    breakdown_totals: Mapping[str, pd.Series],
    respondents: int | None,
) -> list[tuple[_Layout, np.ndarray]]:
    """Validate the inputs; build every table as an int array with margins (table order = cell order)."""
    if not questions:
        raise ValueError("nothing to suppress: no questions given")
    sizes: dict[str, pd.Series] = {b: _counts_series(s, f"breakdown totals {b!r}") for b, s in breakdown_totals.items()}
    used_as_breakdown = {b for spec in questions.values() for b in spec.crosstabs}
    for q, spec in questions.items():  # a single-choice question used as a breakdown gives the group sizes
        if q in used_as_breakdown and q not in sizes and spec.additive:
            sizes[q] = _counts_series(spec.overall, f"question {q!r}")
    totals: list[int] = [int(respondents)] if respondents is not None else []
    totals += [int(s.sum()) for s in sizes.values()]
    crosstab_frames: dict[tuple[str, str], pd.DataFrame] = {}
    overall_series: dict[str, pd.Series] = {}

    for q, spec in questions.items():
        if not isinstance(q, str) or not isinstance(spec, Question):
            raise TypeError("questions must map question names (str) to Question objects")
        overall = _counts_series(spec.overall, f"question {q!r}")
        overall_series[q] = overall
        if spec.additive:
            totals.append(int(overall.sum()))
        for b, crosstab in spec.crosstabs.items():
            what = f"cross-tab {_crosstab_name(q, b)!r}"
            if not isinstance(b, str) or b == q:
                raise ValueError(f"{what}: a breakdown must be named by a string other than the question")
            if b in questions and not questions[b].additive:
                raise ValueError(f"{what}: a multi-choice question cannot be used as a breakdown")
            frame = _counts_frame(crosstab, what)
            extra = [o for o in frame.columns if o not in overall.index]
            if extra:
                raise ValueError(f"{what}: options {extra!r} are not in the overall table")
            frame = frame.reindex(columns=overall.index, fill_value=0)
            if b in sizes:
                frame = _reindex_rows(frame, sizes[b].index, what)
            elif spec.additive:
                sizes[b] = frame.sum(axis=1)
                totals.append(int(frame.to_numpy().sum()))
            else:
                raise ValueError(f"{what}: a multi-choice question needs the group sizes of {b!r} (breakdown_totals)")
            if not spec.additive and (frame.gt(sizes[b], axis=0)).to_numpy().any():
                raise ValueError(f"{what}: an option count exceeds its group size")
            crosstab_frames[(q, b)] = frame

    if not totals:
        raise ValueError("the number of respondents is unknown: pass respondents=")
    if len(set(totals)) > 1:
        raise ValueError(
            f"the tables count different numbers of respondents ({sorted(set(totals))}); all tables of a "
            "campaign must count the same people (code 'no answer' as an option or group)"
        )
    n_total = totals[0]

    prepared: list[tuple[_Layout, np.ndarray]] = []
    for q, spec in questions.items():
        overall = overall_series[q]
        if not spec.additive and (overall > n_total).any():
            raise ValueError(f"question {q!r}: an option count exceeds the number of respondents")
        options = tuple(overall.index)
        counts = overall.to_numpy()
        total = int(counts.sum()) if spec.additive else n_total
        array = np.append(counts, total)[np.newaxis, :]
        prepared.append((_Layout(q, "overall", q, None, spec.additive, (TOTAL,), (*options, TOTAL)), array))
        for b in spec.crosstabs:
            inner = crosstab_frames[(q, b)].to_numpy()
            row_totals = inner.sum(axis=1) if spec.additive else sizes[b].to_numpy()
            array = np.column_stack([inner, row_totals])
            array = np.vstack([array, array.sum(axis=0)])
            groups = tuple(crosstab_frames[(q, b)].index)
            layout = _Layout(_crosstab_name(q, b), "crosstab", q, b, spec.additive, (*groups, TOTAL), (*options, TOTAL))
            prepared.append((layout, array))
    for b, group_sizes in sizes.items():
        if b in questions:  # the breakdown's table is that question's overall table
            continue
        array = np.append(group_sizes.to_numpy(), int(group_sizes.sum()))[np.newaxis, :]
        prepared.append((_Layout(b, "breakdown", b, None, True, (TOTAL,), (*group_sizes.index, TOTAL)), array))
    names = [layout.name for layout, _ in prepared]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"table names clash: {duplicates!r}; rename questions or breakdowns")
    return prepared


def _layout_of(table: SuppressedTable) -> _Layout:
    kind = "crosstab" if table.breakdown is not None else "overall"
    rows, columns = tuple(table.published.index), tuple(table.published.columns)
    return _Layout(table.name, kind, table.question, table.breakdown, table.additive, rows, columns)


def _tables_of(published: object) -> list[SuppressedTable]:
    if isinstance(published, Campaign | Family):
        return published.tables()
    if isinstance(published, SuppressedTable):
        return [published]
    tables = list(published)  # type: ignore[call-overload]
    if not all(isinstance(t, SuppressedTable) for t in tables):
        raise TypeError("expected SuppressedTable objects")
    return tables


def _k_of(tables: Sequence[SuppressedTable], k: int | None) -> int:
    if k is None:
        ks = {t.k for t in tables}
        if len(ks) != 1:
            raise ValueError("the tables use different k (or none were given); pass k=")
        k = ks.pop()
    _check_k(k)
    return k


# --------------------------------------------------------------------------------------------------
# The linked system of cells and relations
# --------------------------------------------------------------------------------------------------


class _System:
    """Cells (identified across tables by a key) and relations between them.

    Equations: ``total == sum(parts)``.  Inequalities: ``part <= total``.  Relation ids: equation ``e``
    is ``e``; inequality ``j`` is ``len(equations) + j`` (valid after :meth:`finish`).
    """

    def __init__(self) -> None:
        self.keys: list[_Key] = []
        self.where: list[tuple[str, Hashable, Hashable]] = []
        self.index: dict[_Key, int] = {}
        self.equations: list[tuple[int, tuple[int, ...]]] = []
        self.leqs: list[tuple[int, int]] = []
        self._seen: set[tuple] = set()
        self.relations_of: list[list[int]] = []

    def cell(self, key: _Key, where: tuple[str, Hashable, Hashable]) -> int:
        c = self.index.get(key)
        if c is None:
            c = self.index[key] = len(self.keys)
            self.keys.append(key)
            self.where.append(where)
        return c

    def add_equation(self, total: int, parts: Sequence[int]) -> None:
        signature = ("=", total, tuple(sorted(parts)))
        if signature not in self._seen:
            self._seen.add(signature)
            self.equations.append((total, tuple(parts)))

    def add_leq(self, part: int, total: int) -> None:
        signature = ("<=", part, total)
        if signature not in self._seen:
            self._seen.add(signature)
            self.leqs.append((part, total))

    def finish(self) -> None:
        self.relations_of = [[] for _ in self.keys]
        for e, (t, parts) in enumerate(self.equations):
            for c in (t, *parts):
                self.relations_of[c].append(e)
        m = len(self.equations)
        for j, (p, t) in enumerate(self.leqs):
            self.relations_of[p].append(m + j)
            self.relations_of[t].append(m + j)

    def cells_of(self, relation: int) -> tuple[int, ...]:
        m = len(self.equations)
        if relation < m:
            t, parts = self.equations[relation]
            return (t, *parts)
        return self.leqs[relation - m]


def _cell_key(layout: _Layout, row: Hashable, column: Hashable) -> _Key:
    row_total = isinstance(row, str) and row == TOTAL
    column_total = isinstance(column, str) and column == TOTAL
    if row_total and column_total:
        return ("N",)
    if layout.breakdown is None or row_total:
        return ("freq", layout.question, column)
    if column_total:
        return ("freq", layout.breakdown, row)
    a, b = (layout.question, column), (layout.breakdown, row)
    return ("joint", a, b) if a[0] < b[0] else ("joint", b, a)


def _build(layouts: Sequence[_Layout]) -> tuple[_System, list[list[list[int]]]]:
    system = _System()
    grids = []
    for layout in layouts:
        if layout.rows[-1] != TOTAL or layout.columns[-1] != TOTAL:
            raise ValueError(f"table {layout.name!r}: the last row and column must be {TOTAL!r}")
        if layout.breakdown is None and len(layout.rows) != 1:
            raise ValueError(f"table {layout.name!r}: a frequency table has a single {TOTAL!r} row")
        grid = [
            [system.cell(_cell_key(layout, r, c), (layout.name, r, c)) for c in layout.columns] for r in layout.rows
        ]
        grids.append(grid)
        for row in grid:
            if layout.additive:
                system.add_equation(row[-1], row[:-1])
            else:
                for c in row[:-1]:
                    system.add_leq(c, row[-1])
        if layout.breakdown is not None:
            for j in range(len(layout.columns)):
                system.add_equation(grid[-1][j], [grid[i][j] for i in range(len(layout.rows) - 1)])
    system.finish()
    return system, grids


def _assign(
    system: _System, prepared: Sequence[tuple[_Layout, np.ndarray]], grids: Sequence[list[list[int]]]
) -> list[int | None]:
    values: list[int | None] = [None] * len(system.keys)
    for (layout, array), grid in zip(prepared, grids, strict=True):
        for i, row in enumerate(grid):
            for j, c in enumerate(row):
                _set_value(system, values, c, int(array[i, j]), (layout.name, layout.rows[i], layout.columns[j]))
    return values


def _set_value(
    system: _System, values: list[int | None], c: int, value: int, where: tuple[str, Hashable, Hashable]
) -> None:
    if values[c] is None:
        values[c] = value
    elif values[c] != value:
        first = system.where[c]
        raise ValueError(
            f"inconsistent tables: {first[0]!r} [{first[1]!r}, {first[2]!r}] = {values[c]} but "
            f"{where[0]!r} [{where[1]!r}, {where[2]!r}] = {value}.  All tables of a campaign must count "
            "the same respondents (code 'no answer' as an option or group instead of dropping people)."
        )


def _merge_published(system: _System, table: SuppressedTable, grid: list[list[int]], known: list[int | None]) -> None:
    published, mask = table.published.to_numpy(), table.mask.to_numpy()
    if published.shape != (len(grid), len(grid[0])) or mask.shape != published.shape:
        raise ValueError(f"table {table.name!r}: published and mask do not match")
    for i, row in enumerate(grid):
        for j, c in enumerate(row):
            if mask[i, j]:
                continue
            value = published[i, j]
            if isinstance(value, str) or int(value) != value or value < 0:
                raise ValueError(f"table {table.name!r}: a shown cell holds {value!r}, not a count")
            _set_value(
                system,
                known,
                c,
                int(value),
                (table.name, table.published.index[i], table.published.columns[j]),
            )


def _make_table(
    layout: _Layout,
    array: np.ndarray,
    grid: list[list[int]],
    hidden: np.ndarray,
    reasons: np.ndarray,
    k: int,
) -> SuppressedTable:
    index, columns = pd.Index(layout.rows, dtype=object), pd.Index(layout.columns, dtype=object)
    cells = np.asarray(grid, dtype=np.int64)
    mask = hidden[cells]
    published = array.astype(object)  # Python ints
    published[mask] = SUPPRESSED_MARKER
    reason_array = reasons[cells]
    return SuppressedTable(
        name=layout.name,
        question=layout.question,
        breakdown=layout.breakdown,
        additive=layout.additive,
        k=k,
        confidential_counts=pd.DataFrame(array.astype(np.int64), index=index, columns=columns, copy=True),
        published=pd.DataFrame(published, index=index, columns=columns),
        mask=pd.DataFrame(mask, index=index, columns=columns),
        reasons=pd.DataFrame(reason_array, index=index, columns=columns),
    )


# --------------------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------------------


def _suppress(system: _System, values: list[int], k: int) -> tuple[list[bool], list[str]]:
    reasons = [PRIMARY if 1 <= v <= k - 1 else "" for v in values]
    hidden = [bool(r) for r in reasons]
    hidden_in = [sum(hidden[c] for c in (t, *parts)) for t, parts in system.equations]

    def hide(c: int) -> None:
        hidden[c] = True
        reasons[c] = SECONDARY
        for r in system.relations_of[c]:
            if r < len(hidden_in):
                hidden_in[r] += 1

    # Margins are shared with other tables (the overall counts, group sizes, number of respondents are
    # the headline numbers), so inner cells are preferred: level 0 inner, 1 group/option totals, 2 N.
    level = [0 if key[0] == "joint" else 1 if key[0] == "freq" else 2 for key in system.keys]

    def cost(c: int, relation: int | None) -> tuple[int, bool, int, int, int]:
        # Relations that would be left with one hidden cell if c were hidden too (each needs one more).
        new_singles = sum(
            1 for r in system.relations_of[c] if r != relation and r < len(hidden_in) and hidden_in[r] == 0
        )
        return (level[c], values[c] == 0, new_singles, values[c], c)

    while True:
        _close_lines(system, hidden, hidden_in, hide, cost)
        known: list[int | None] = [None if hidden[c] else values[c] for c in range(len(values))]
        lo, hi, _ = _attack(system, known, k)
        exposed = [c for c in range(len(values)) if hidden[c] and lo[c] >= 1 and hi[c] <= k - 1]
        if not exposed:
            return hidden, reasons
        candidate = _nearest_candidate(system, hidden, exposed[0], cost)
        if candidate is None:  # pragma: no cover - an exposure needs a published cell nearby
            raise AssertionError("exposed cell without a candidate complement")
        hide(candidate)


def _close_lines(
    system: _System, hidden: list[bool], hidden_in: list[int], hide: Callable[[int], None], cost: _Cost
) -> None:
    """Make every equation hold zero or at least two hidden cells (step 2 of the algorithm)."""
    queue = deque(range(len(system.equations)))
    queued = [True] * len(system.equations)
    while queue:
        e = queue.popleft()
        queued[e] = False
        if hidden_in[e] != 1:
            continue
        t, parts = system.equations[e]
        candidates = [c for c in (t, *parts) if not hidden[c]]
        if not candidates:  # pragma: no cover - an equation has at least two cells
            continue
        chosen = min(candidates, key=lambda c: cost(c, e))
        hide(chosen)
        for r in system.relations_of[chosen]:
            if r < len(queued) and not queued[r]:
                queued[r] = True
                queue.append(r)


def _nearest_candidate(system: _System, hidden: list[bool], start: int, cost: _Cost) -> int | None:
    """The cheapest published cell sharing a relation with ``start``, searching outwards through hidden
    cells."""
    seen_cells = {start}
    seen_relations: set[int] = set()
    frontier = [start]
    while frontier:
        candidates: list[int] = []
        next_frontier: list[int] = []
        for c in frontier:
            for r in system.relations_of[c]:
                if r in seen_relations:
                    continue
                seen_relations.add(r)
                for d in system.cells_of(r):
                    if d in seen_cells:
                        continue
                    seen_cells.add(d)
                    (next_frontier if hidden[d] else candidates).append(d)
        if candidates:
            return min(candidates, key=lambda d: cost(d, None))
        frontier = sorted(next_frontier)
    return None


# --------------------------------------------------------------------------------------------------
# The attacker
# --------------------------------------------------------------------------------------------------


def _attack(system: _System, known: list[int | None], k: int) -> tuple[list[int], list[float], list[str | None]]:
    """Bounds ``lo[c] <= value <= hi[c]`` for every cell, and how fixed cells were determined."""
    lo: list[int] = [0 if v is None else v for v in known]
    hi: list[float] = [_INF if v is None else v for v in known]
    how: list[str | None] = [None] * len(known)

    def fixed() -> int:
        return sum(1 for a, b in zip(lo, hi, strict=True) if a == b)

    fixed_at_linear = -1
    while True:
        before = fixed()
        _subtract(system, lo, hi, how)
        if fixed() != fixed_at_linear:  # new known cells may determine more through combinations
            _linear(system, lo, hi, how)
            fixed_at_linear = fixed()
        _propagate(system, lo, hi, how)
        if fixed() == before:
            _network(system, lo, hi, how, k)
            return lo, hi, how


def _fix(lo: list[int], hi: list[float], c: int, value: int) -> None:
    if not lo[c] <= value <= hi[c]:
        raise ValueError("the published tables are inconsistent (no table of counts fits them)")
    lo[c] = value
    hi[c] = value


def _subtract(system: _System, lo: list[int], hi: list[float], how: list[str | None]) -> None:
    equations = system.equations
    queue = deque(range(len(equations)))
    queued = [True] * len(equations)
    while queue:
        e = queue.popleft()
        queued[e] = False
        t, parts = equations[e]
        unknown = [c for c in (t, *parts) if lo[c] != hi[c]]
        if len(unknown) != 1:
            continue
        c = unknown[0]
        value = sum(lo[p] for p in parts) if c == t else lo[t] - sum(lo[p] for p in parts if p != c)
        _fix(lo, hi, c, value)
        how[c] = "subtraction"
        for r in system.relations_of[c]:
            if r < len(equations) and not queued[r]:
                queued[r] = True
                queue.append(r)


_GROUND = -1


@dataclass
class _Graph:
    """The equations with unknown cells, seen as a graph (see :func:`_linear`).

    ``rows[i]`` = ({unknown cell: coefficient +-1}, right-hand side) of the i-th equation that still has
    unknowns; ``adjacency[i]`` = [(cell, other row or _GROUND)] for the edge cells of row i;
    ``components`` = [(rows, grounded, balanced)] with ``sign[i]`` = +-1 so that the signed rows of a
    balanced component cancel every edge cell inside it; ``edge_cells`` = unknown cells in one or two
    equations of balanced components; ``dense`` = the other unknown cells (sorted).
    """

    rows: list[tuple[dict[int, int], int]]
    adjacency: list[list[tuple[int, int]]]
    sign: list[int]
    components: list[tuple[list[int], bool, bool]]
    edge_cells: set[int]
    dense: list[int]


def _graph(system: _System, lo: list[int], hi: list[float]) -> _Graph:
    rows: list[tuple[dict[int, int], int]] = []
    occurrences: dict[int, list[int]] = {}
    for t, parts in system.equations:
        coefficients: dict[int, int] = {}
        rhs = 0
        for c, a in ((t, 1), *((p, -1) for p in parts)):
            if lo[c] != hi[c]:
                coefficients[c] = a
            else:
                rhs -= a * lo[c]
        if coefficients:
            for c in coefficients:
                occurrences.setdefault(c, []).append(len(rows))
            rows.append((coefficients, rhs))
    adjacency: list[list[tuple[int, int]]] = [[] for _ in rows]
    for c, occ in occurrences.items():
        if len(occ) == 1:
            adjacency[occ[0]].append((c, _GROUND))
        elif len(occ) == 2:
            adjacency[occ[0]].append((c, occ[1]))
            adjacency[occ[1]].append((c, occ[0]))

    sign = [0] * len(rows)
    components: list[tuple[list[int], bool, bool]] = []
    for start in range(len(rows)):
        if sign[start]:
            continue
        sign[start] = 1
        members, grounded, balanced = [start], False, True
        queue = deque([start])
        while queue:
            i = queue.popleft()
            for c, j in adjacency[i]:
                if j == _GROUND:
                    grounded = True
                    continue
                wanted = -sign[i] * rows[i][0][c] * rows[j][0][c]  # coefficients are +-1
                if not sign[j]:
                    sign[j] = wanted
                    members.append(j)
                    queue.append(j)
                elif sign[j] != wanted:
                    balanced = False
        components.append((members, grounded, balanced))

    edge_cells = {c for c, occ in occurrences.items() if len(occ) <= 2}
    for members, _, balanced in components:
        if not balanced:
            for i in members:
                edge_cells.difference_update(rows[i][0])
    dense = sorted(c for c in occurrences if c not in edge_cells)
    return _Graph(rows, adjacency, sign, components, edge_cells, dense)


def _linear(system: _System, lo: list[int], hi: list[float], how: list[str | None]) -> None:
    """Fix every unknown cell that has the same value in all solutions of the equations.

    Exact (over the rationals), ignoring signs and bounds.  Equations are nodes of a graph; an unknown
    cell that occurs in one or two equations is an edge between them (or to a "ground" node, the cell
    being free in its only equation); cells in three or more equations (shared margins) are "dense".
    In a connected component of this graph whose equations can be signed so that every edge cancels
    (always so for row/column tables), the edges can be eliminated: the signed sum of the component's
    equations is the only constraint it puts on the dense cells, and none if the component reaches the
    ground.  The dense cells are then settled by a small dense system (SVD).  An edge cell is
    determined iff it is a bridge whose side without ground sums to a determined combination of dense
    cells; an edge on a cycle can always be shifted around the cycle.  Components that cannot be
    signed (not produced by this module's tables) fall back to the dense system as they are.
    """
    graph = _graph(system, lo, hi)
    rows, adjacency, sign, components = graph.rows, graph.adjacency, graph.sign, graph.components
    edge_cells, dense = graph.edge_cells, graph.dense
    if not rows:
        return
    ground = _GROUND
    column = {c: n for n, c in enumerate(dense)}

    def signed_sum(members: Iterable[int]) -> tuple[dict[int, int], int]:
        total: dict[int, int] = {}
        rhs = 0
        for i in members:
            rhs += sign[i] * rows[i][1]
            for c, a in rows[i][0].items():
                if c in column:
                    total[c] = total.get(c, 0) + sign[i] * a
        return {c: a for c, a in total.items() if a}, rhs

    matrix: list[dict[int, int]] = []
    vector: list[int] = []
    for members, grounded, balanced in components:
        if not balanced:
            for i in members:
                matrix.append(rows[i][0])
                vector.append(rows[i][1])
        elif not grounded:
            coefficients, rhs = signed_sum(members)
            matrix.append(coefficients)
            vector.append(rhs)
    a = np.zeros((len(matrix), len(dense)))
    for r, coefficients in enumerate(matrix):
        for c, value in coefficients.items():
            a[r, column[c]] = value
    if len(matrix) and len(dense):
        _, singular, vt = np.linalg.svd(a, full_matrices=False)
        rank = int((singular > 1e-9 * max(1.0, float(singular[0]))).sum())
        basis = vt[:rank]
        particular = np.linalg.lstsq(a, np.asarray(vector, dtype=float), rcond=None)[0]
    else:
        basis = np.zeros((0, len(dense)))
        particular = np.zeros(len(dense))

    def in_row_space(w: np.ndarray) -> bool:
        return bool(np.linalg.norm(w - basis.T @ (basis @ w)) < 1e-7 * max(1.0, float(np.linalg.norm(w))))

    def settle(c: int, value: float) -> None:
        rounded = round(value)
        if abs(value - rounded) < 1e-6 and lo[c] != hi[c]:
            _fix(lo, hi, c, rounded)
            how[c] = how[c] or "linear combination"

    for n, c in enumerate(dense):
        unit = np.zeros(len(dense))
        unit[n] = 1.0
        if in_row_space(unit):
            settle(c, float(particular[n]))

    # Bridges of each balanced component (iterative Tarjan on rows + a local ground node).
    for members, grounded, balanced in components:
        if not balanced or len(members) + grounded < 2:
            continue
        local = {i: n for n, i in enumerate(members)}
        g = len(members)  # local index of the ground node
        size = g + 1
        neighbours: list[list[tuple[int, int]]] = [[] for _ in range(size)]  # (other node, cell)
        for i in members:
            for c, j in adjacency[i]:
                if c in edge_cells:
                    other = g if j == ground else local[j]
                    neighbours[local[i]].append((other, c))
                    if j == ground:
                        neighbours[g].append((local[i], c))
        discovered = [-1] * size
        low = [0] * size
        subtree: list[list[int]] = [[] for _ in range(size)]
        order = 0
        discovered[0] = low[0] = order
        stack: list[tuple[int, int, int]] = [(0, -1, 0)]  # node, cell of the tree edge in, next neighbour
        while stack:
            node, via, position = stack[-1]
            if position < len(neighbours[node]):
                stack[-1] = (node, via, position + 1)
                other, c = neighbours[node][position]
                if c == via:
                    continue
                if discovered[other] == -1:
                    order += 1
                    discovered[other] = low[other] = order
                    stack.append((other, c, 0))
                else:
                    low[node] = min(low[node], discovered[other])
                continue
            stack.pop()
            subtree[node].append(node)
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                subtree[parent].extend(subtree[node])
                if low[node] > discovered[parent] and lo[via] != hi[via]:
                    side = subtree[node]
                    if g in side:
                        side = [n for n in range(size) if n not in set(side)]
                    side_rows = [members[n] for n in side if n != g]
                    coefficients, rhs = signed_sum(side_rows)
                    end = next(members[n] for n in side if n != g and via in rows[members[n]][0])
                    own = sign[end] * rows[end][0][via]
                    w = np.zeros(len(dense))
                    for d, value in coefficients.items():
                        w[column[d]] = value
                    if in_row_space(w):
                        settle(via, (rhs - float(w @ particular)) / own)


def _network(system: _System, lo: list[int], hi: list[float], how: list[str | None], k: int) -> None:
    """Exact exposure check for unknown cells of "network" components, by max-flow.

    A balanced component of :func:`_graph` without dense cells is a transportation network: its
    equations are flow conservation at nodes (with the known cells as supplies and demands), its
    unknown cells are arcs carrying a non-negative flow, and an inequality ``cell <= known total`` is a
    capacity.  Such constraint matrices are totally unimodular, so the values a cell can take in tables
    of non-negative *integers* are exactly the integers between its linear-programming bounds.  Starting
    from one feasible flow ``f`` (found by max-flow), a cell can go down to 0 iff ``f[cell]`` units can
    be rerouted around it, and up to ``k`` iff ``k - f[cell]`` more units can be sent round a cycle
    through it.  Cells for which neither is possible are exposed: their bounds are set to the exact
    ones.  Components with dense cells (hidden margins shared by several tables) or with inequalities
    between two unknown cells are left to interval propagation.
    """
    graph = _graph(system, lo, hi)
    capacity: dict[int, int] = {}
    blocked: set[int] = set()
    for p, t in system.leqs:
        if lo[t] == hi[t]:
            if lo[p] != hi[p]:
                capacity[p] = min(capacity.get(p, lo[t]), lo[t])
        else:
            blocked.update((p, t))
    rows, sign = graph.rows, graph.sign
    for members, _, balanced in graph.components:
        if not balanced:
            continue
        arcs: dict[int, tuple[int, int]] = {}  # cell -> (tail, head) as local node numbers
        local = {i: n for n, i in enumerate(members)}
        ground = len(members)
        eligible = True
        for i in members:
            if any(c not in graph.edge_cells or c in blocked for c in rows[i][0]):
                eligible = False
                break
            for c, j in graph.adjacency[i]:
                if c in arcs:
                    continue
                other = ground if j == _GROUND else local[j]
                inflow = sign[i] * rows[i][0][c] == 1
                arcs[c] = (other, local[i]) if inflow else (local[i], other)
        if not eligible or not any(lo[c] <= k - 1 and hi[c] >= 1 for c in arcs):
            continue
        demand = [sign[i] * rows[i][1] for i in members]
        demand.append(-sum(demand))  # the ground node takes whatever balances
        source, sink = ground + 1, ground + 2
        network = _FlowNetwork(ground + 3)
        arc_of = {c: network.add(u, v, capacity.get(c, _INF)) for c, (u, v) in arcs.items()}
        terminal_arcs = []
        for node, d in enumerate(demand):
            if d < 0:
                terminal_arcs.append(network.add(source, node, -d))
            elif d > 0:
                terminal_arcs.append(network.add(node, sink, d))
        needed = sum(d for d in demand if d > 0)
        if network.max_flow(source, sink, _INF, network.capacity) < needed:
            raise ValueError("the published tables are inconsistent (no table of counts fits them)")
        residual = network.capacity
        for a in terminal_arcs:
            residual[a] = residual[a ^ 1] = 0
        for c, a in arc_of.items():
            flow = int(residual[a ^ 1])
            if lo[c] == hi[c] or not 1 <= flow <= k - 1:
                continue
            tail, head = arcs[c]
            without = list(residual)
            without[a] = without[a ^ 1] = 0
            down = network.max_flow(tail, head, flow, without)
            if down >= flow:
                continue  # the cell can be 0
            without = list(residual)
            without[a] = without[a ^ 1] = 0
            up = network.max_flow(head, tail, k - flow, without)
            if up >= k - flow:
                continue  # the cell can be k or more
            lo[c], hi[c] = max(lo[c], int(flow - down)), min(hi[c], int(flow + up))
            if lo[c] == hi[c]:
                how[c] = how[c] or "bounds"


class _FlowNetwork:
    """A directed graph for max-flow; arc ``a`` and its reverse ``a ^ 1`` are stored in pairs."""

    def __init__(self, nodes: int) -> None:
        self.arcs_from: list[list[int]] = [[] for _ in range(nodes)]
        self.head: list[int] = []
        self.capacity: list[float] = []

    def add(self, tail: int, head: int, capacity: float) -> int:
        arc = len(self.head)
        self.head += [head, tail]
        self.capacity += [capacity, 0]
        self.arcs_from[tail].append(arc)
        self.arcs_from[head].append(arc + 1)
        return arc

    def max_flow(self, source: int, sink: int, limit: float, residual: list[float]) -> float:
        """Push up to ``limit`` units from source to sink (Edmonds-Karp), updating ``residual`` in place."""
        total: float = 0
        head, arcs_from = self.head, self.arcs_from
        while total < limit:
            via = [-1] * len(arcs_from)
            via[source] = -2
            queue = deque([source])
            while queue and via[sink] == -1:
                node = queue.popleft()
                for a in arcs_from[node]:
                    if residual[a] > 0 and via[head[a]] == -1:
                        via[head[a]] = a
                        queue.append(head[a])
            if via[sink] == -1:
                break
            push, node = limit - total, sink
            while node != source:
                push = min(push, residual[via[node]])
                node = head[via[node] ^ 1]
            node = sink
            while node != source:
                residual[via[node]] -= push
                residual[via[node] ^ 1] += push
                node = head[via[node] ^ 1]
            total += push
        return total


def _propagate(system: _System, lo: list[int], hi: list[float], how: list[str | None]) -> None:
    """Interval propagation (hull consistency) over all relations, to a fixed point or a step budget.

    Stopping early keeps every interval sound (it only leaves some intervals wider than they could be).
    """
    equations, leqs, relations_of = system.equations, system.leqs, system.relations_of
    m = len(equations)
    count = m + len(leqs)
    queue = deque(range(count))
    queued = [True] * count
    budget = 200 * count + 1000
    while queue and budget > 0:
        budget -= 1
        r = queue.popleft()
        queued[r] = False
        touched: list[int] = []
        if r < m:
            t, parts = equations[r]
            sum_lo = 0
            sum_hi = 0
            infinite = 0
            for p in parts:
                sum_lo += lo[p]
                if hi[p] == _INF:
                    infinite += 1
                else:
                    sum_hi += hi[p]
            new_lo, new_hi = max(lo[t], sum_lo), hi[t]
            if infinite == 0 and sum_hi < new_hi:
                new_hi = sum_hi
            if new_lo != lo[t] or new_hi != hi[t]:
                lo[t], hi[t] = new_lo, new_hi
                touched.append(t)
            lo_t, hi_t = lo[t], hi[t]
            for p in parts:
                hp = hi[p]
                others_infinite = infinite - (hp == _INF)
                new_lo = lo[p]
                if others_infinite == 0:
                    new_lo = max(new_lo, lo_t - (sum_hi - (0 if hp == _INF else hp)))
                new_hi = min(hp, hi_t - (sum_lo - lo[p]))
                if new_lo != lo[p] or new_hi != hp:
                    lo[p], hi[p] = new_lo, new_hi
                    touched.append(p)
        else:
            p, t = leqs[r - m]
            if hi[t] < hi[p]:
                hi[p] = hi[t]
                touched.append(p)
            if lo[p] > lo[t]:
                lo[t] = lo[p]
                touched.append(t)
        for c in touched:
            if lo[c] > hi[c]:
                raise ValueError("the published tables are inconsistent (no table of counts fits them)")
            if lo[c] == hi[c] and how[c] is None:
                how[c] = "bounds"
            for r2 in relations_of[c]:
                if not queued[r2]:
                    queued[r2] = True
                    queue.append(r2)
