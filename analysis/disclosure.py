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
* **Two markers, and what they reveal.**  A primary cell shows ``"< k"`` (:func:`primary_marker`,
  e.g. ``"< 5"``): the reader learns that it counts 1 .. k-1 people.  A complementary cell shows
  :data:`SECONDARY_MARKER` (``"•"``).  Complements are chosen only among cells counting at least ``k``
  (never a zero, and primary cells are hidden already), so a reader learns that a "•" cell counts
  ``k`` or more.  These revealed ranges are public (the note under every table states them), so the
  suppression and the auditor start from them: with a published row total of 6, a "< 5" cell and a
  "•" cell are exactly 1 and 5, and that row needs one more hidden cell.
* **No exact recovery.**  Cells are hidden until no small ("< k") cell's value can be worked out
  exactly from the published tables and the revealed ranges (a complement may be worked out: it
  counts k or more, a number that could have been published).  The one exception cannot be helped by hiding
  more: where the "< k" markers and the published zeros pin a cell by themselves (e.g. a group of
  k-1 people who all gave different answers, so every one of its k-1 non-zero counts is 1; or any
  "< 2", which says 1), hiding every other count would not change it.  :func:`hidden_cell_bounds`
  reports such cells as ``unavoidable``; :func:`audit_recoverable` reports every other recovery.
  The per-cell reasons (``"primary"``/``"secondary"``) follow from the markers; they are published.
* **Statistics** (means, standard deviations, confidence intervals) are shown only for ``n >= k``
  (:func:`statistic_visible`, :func:`visible_statistics`).

The auditor (:func:`audit_recoverable`) attacks the *published* tables; its exact guarantee is stated in
its docstring.  :func:`suppress_campaign` runs the same auditor on its own result and keeps hiding cells
until the auditor finds nothing it could prevent, so every result of this module passes the audit by
construction.

Not covered: differencing between campaigns or between snapshots of the same campaign taken at
different times, external knowledge, and an attacker who reasons about *how* complements were chosen.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
from django.utils.translation import gettext_noop

__all__ = [
    "DEFAULT_K",
    "NOTE",
    "PRIMARY",
    "SECONDARY",
    "SECONDARY_MARKER",
    "TOTAL",
    "Campaign",
    "CellBounds",
    "Family",
    "Question",
    "SuppressedTable",
    "audit_recoverable",
    "hidden_cell_bounds",
    "is_hidden",
    "note_for",
    "primary_marker",
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

SECONDARY_MARKER = "\u2022"  # "•"
"""What a complementary (secondary) cell shows in :attr:`SuppressedTable.published`; it counts ``k`` or more."""

PRIMARY = "primary"
"""Reason code: the cell counts 1 .. k-1 people; it shows :func:`primary_marker`."""

SECONDARY = "secondary"
"""Reason code: the cell (``k`` or more) is hidden so that another hidden cell cannot be worked out."""

NOTE = gettext_noop(
    "Cells marked “< {k}” count 1 to {k_minus_1} people; they and their percentages are hidden to "
    "protect the people who answered. Cells marked {marker} count at least {k} people and are hidden so that "
    "the small counts cannot be worked out from the other numbers."
)
"""The human note shown under a table with hidden cells (English msgid, stored so in snapshots and exports;
pages show its translation, see :func:`analysis.selectors.snapshot_question`).

Placeholders: ``{k}``, ``{k_minus_1}`` and ``{marker}``; :func:`note_for` fills them in."""

_PRIMARY_PATTERN = re.compile(r"< ([0-9]+)")


def primary_marker(k: int) -> str:
    """What a primary cell (1 .. k-1 people) shows: ``"< k"``, e.g. ``"< 5"``."""
    return f"< {k}"


def is_hidden(value: object) -> bool:
    """True if a published value is a hidden cell (``"< k"`` or :data:`SECONDARY_MARKER`), not a count."""
    return isinstance(value, str) and (value == SECONDARY_MARKER or _PRIMARY_PATTERN.fullmatch(value) is not None)


def note_for(k: int, note: str = NOTE) -> str:
    """``note`` (by default :data:`NOTE`, or its translation) with the markers of ``k`` filled in."""
    return note.format(k=k, k_minus_1=k - 1, marker=SECONDARY_MARKER)


Reason = Literal["", "primary", "secondary"]
Axis = Literal["row", "column"]

_INF = math.inf
_Key = tuple  # internal identity of a cell across all tables of a campaign
_Cost = Callable[[int, "int | None"], tuple[int, int, bool, int, int]]  # (cell, relation being fixed) -> sort key


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
    ``published`` (object dtype) holds ``int`` counts where ``mask`` is False, ``"< k"``
    (:func:`primary_marker`) on primary cells and :data:`SECONDARY_MARKER` on secondary ones.
    ``reasons`` holds ``""``, ``"primary"`` or ``"secondary"`` per cell (the markers show it too).
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
        """Hidden cells per reason, e.g. ``{"primary": 2, "secondary": 3}``."""
        values = self.reasons.to_numpy().ravel().tolist()
        return {PRIMARY: values.count(PRIMARY), SECONDARY: values.count(SECONDARY)}

    @property
    def note(self) -> str:
        """The note to print under the table, or ``""`` if nothing is hidden.  See :data:`NOTE`."""
        return note_for(self.k) if self.suppressed_count else ""

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
    reasoning), ``"marker"`` (``"< 2"`` says 1); None if it was not determined exactly.  ``exposed``:
    the cell is a small one ("< k") and the attacker can work out its value exactly (``lower ==
    upper``).  A complement ("•") worked out exactly is not exposed: it counts ``k`` or more, a
    number that could have been published.  ``unavoidable``: exposed
    even if every published non-zero count were hidden too, i.e. the "< k" markers and the published
    zeros pin it by themselves (see the module docstring).  A cell that appears in several tables is
    reported once, at its first appearance (``table``, ``row``, ``column``).
    """

    table: str
    row: Hashable
    column: Hashable
    lower: int
    upper: int | None
    method: str | None
    exposed: bool
    unavoidable: bool = False


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

    1. Primary: every cell (margins included) counting 1 .. k-1 is hidden and shows ``"< k"``.  Zeros
       are not hidden.
    2. Lines: every relation (row or column equation, in any table) must have no hidden cell or at
       least two, otherwise the hidden one is its total minus the rest.  For a relation with exactly one
       hidden cell, hide one more of its cells as a complement ("•").  Only cells counting ``k`` or more
       are eligible (that is what "•" tells the reader; such a cell always exists in the relation).  The
       cheapest by (margin level: inner cell < group or option total < number of respondents; number of
       other relations it would newly leave with a single hidden cell; below ``2k-2`` (a smaller
       complement can pin the small cell: 6 = "< 5" + "•" means 1 + 5); count; position).  Repeat to a
       fixed point (ties are broken by position, so the result is deterministic).
    3. Audit: attack the result like :func:`audit_recoverable`, starting from the ranges the markers
       reveal.  For each small cell whose value is pinned, hide the cheapest eligible cell of its
       tightest relation (the one whose published ranges leave the least room; if none has an eligible
       cell, the nearest one through hidden cells), at most one per neighbourhood and round, and go back
       to step 2.  Small cells that would be pinned even with every other count hidden
       (``unavoidable``, see :func:`hidden_cell_bounds`) are left as they are.  Hiding more cells never
       helps the attacker and the number of cells is finite, so this terminates.

    Speed: each connected set of hidden cells is attacked on its own, and its result is reused until a
    new complement joins it, so a round costs only what changed.  The cost depends on the number of
    cells and hidden cells, not on the number of respondents.

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
    lo: list[int] = [0] * len(system.keys)
    hi: list[float] = [_INF] * len(system.keys)
    shown: list[bool] = [False] * len(system.keys)
    for table, grid in zip(tables, grids, strict=True):
        _merge_published(system, table, grid, lo, hi, shown, k)
    marker_pins = [not shown[c] and lo[c] == hi[c] for c in range(len(lo))]
    published_lo, published_hi = list(lo), list(hi)
    how = _attack(system, lo, hi, k)
    # Only a small count is sensitive: a complement worked out exactly is a count >= k, publishable anyway.
    small = [not shown[c] and published_hi[c] <= k - 1 for c in range(len(lo))]
    exposed = [small[c] and lo[c] == hi[c] for c in range(len(lo))]
    unavoidable: set[int] = set()
    if any(exposed):
        counts = [lo[c] if shown[c] else None for c in range(len(lo))]
        unavoidable = _unavoidable(system, counts, published_lo, published_hi, k, exact=True)
    result = []
    for c in range(len(lo)):
        if shown[c]:
            continue
        table, row, column = system.where[c]
        upper = None if hi[c] == _INF else int(hi[c])
        method = "marker" if marker_pins[c] else how[c]
        result.append(CellBounds(table, row, column, int(lo[c]), upper, method, exposed[c], c in unavoidable))
    return result


def audit_recoverable(
    published: Campaign | Family | SuppressedTable | Iterable[SuppressedTable], *, k: int | None = None
) -> list[CellBounds]:
    """Attack the published tables like a reader would; return the hidden cells whose value they can
    work out exactly, except ``unavoidable`` ones (pinned by the "< k" markers and zeros alone).

    Input: the published tables (only ``published`` and ``mask`` are read, never the true counts) of a
    table family or a whole campaign; tables are linked through their shared cells exactly as in
    :func:`suppress_campaign`, and a cell hidden in one table but shown in another counts as known.
    ``k`` defaults to the tables' ``k``.

    The attacker knows the published numbers, what the markers reveal (``"< k"``: 1 .. k-1;
    :data:`SECONDARY_MARKER`: k or more), that counts are non-negative integers, and every relation
    between the tables (row and column sums, shared margins; "option <= group size" for multi-choice
    rows).  The auditor repeats steps 1-3 until nothing changes, then runs step 4:

    1. *Subtraction*: any relation with exactly one unknown cell gives that cell.
    2. *Linear combination*: every cell that has the same value in all solutions of the equations,
       however many equations must be combined (exact; graph elimination plus a small SVD).
    3. *Bounds*: interval propagation over every relation, starting from the markers' ranges, with
       integer rounding and non-negativity.
    4. *Flow check*: hidden cells not linked to a hidden margin that is shared by several tables form
       transportation networks with the ranges of step 3 as arc bounds; for them a max-flow computation
       decides exactly whether some table of integers fitting the published numbers has the cell at
       another value (a cycle through the cell in the residual network).

    A hidden "< k" cell is **exposed** if the attacker can work out its exact value (a complement
    counts k or more, so its exact value reveals no small count by itself; the attacker still uses
    it to go on).  It is **unavoidable**
    if it would be exposed even with every published non-zero count hidden as well (then no
    suppression could have prevented it: the markers and the zeros alone pin it); such cells are left
    out here and reported by :func:`hidden_cell_bounds`.

    Guarantees.

    * Sound: every reported range contains every value consistent with what is published, so every
      reported exposure is real.
    * No exact recovery by linear algebra: if nothing is reported, no hidden small cell can be computed
      from the published sums, however the equations are combined.
    * Exact for networks: for every hidden cell of a single table (frequency table or cross-tab; for
      multi-choice cross-tabs, where the group size of its row is shown), and of any set of linked
      tables whose shared margins (overall answer counts, group sizes, number of respondents) are
      shown or appear in at most two equations, "exposed" equals the verdict of an attacker who tries
      every possible table of integers within the markers' ranges.
    * Otherwise, for cells linked through a hidden margin shared by three or more equations (e.g. a
      hidden overall count of a question with two or more cross-tabs), ranges come from steps 1-3 and
      may be wider than an integer-programming attacker would find, so such an attacker might pin a
      cell the auditor cannot.
    * Reported ranges are sound outer bounds (possibly wider than the truth).

    Not modelled: other campaigns, earlier snapshots, external knowledge, and knowledge of *which*
    complement the algorithm would choose.
    """
    return [cell for cell in hidden_cell_bounds(published, k=k) if cell.exposed and not cell.unavoidable]


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


def _merge_published(
    system: _System,
    table: SuppressedTable,
    grid: list[list[int]],
    lo: list[int],
    hi: list[float],
    shown: list[bool],
    k: int,
) -> None:
    """Read one published table into the attacker's ranges: a count, or what its marker reveals."""
    published, mask = table.published.to_numpy(), table.mask.to_numpy()
    if published.shape != (len(grid), len(grid[0])) or mask.shape != published.shape:
        raise ValueError(f"table {table.name!r}: published and mask do not match")
    for i, row in enumerate(grid):
        for j, c in enumerate(row):
            value = published[i, j]
            where = (table.name, table.published.index[i], table.published.columns[j])
            if mask[i, j]:
                low, high = _marker_range(value, k, where)
                if not shown[c]:  # a cell shown in another table is known whatever this one says
                    lo[c], hi[c] = max(lo[c], low), min(hi[c], high)
                continue
            if isinstance(value, str) or int(value) != value or value < 0:
                raise ValueError(f"table {table.name!r}: a shown cell holds {value!r}, not a count")
            if shown[c] and lo[c] != int(value):
                first = system.where[c]
                raise ValueError(
                    f"inconsistent tables: {first[0]!r} [{first[1]!r}, {first[2]!r}] = {lo[c]} but "
                    f"{where[0]!r} [{where[1]!r}, {where[2]!r}] = {int(value)}."
                )
            shown[c] = True
            lo[c] = hi[c] = int(value)


def _marker_range(value: object, k: int, where: tuple[str, Hashable, Hashable]) -> tuple[int, float]:
    if value == SECONDARY_MARKER:
        return k, _INF
    if value == primary_marker(k):
        return 1, k - 1
    raise ValueError(f"table {where[0]!r} [{where[1]!r}, {where[2]!r}]: {value!r} is not a marker of k={k}")


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
    reason_array = reasons[cells]
    published[mask & (reason_array == PRIMARY)] = primary_marker(k)
    published[mask & (reason_array == SECONDARY)] = SECONDARY_MARKER
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
    newly_hidden: list[int] = []

    def hide(c: int) -> None:
        hidden[c] = True
        reasons[c] = SECONDARY
        newly_hidden.append(c)
        for r in system.relations_of[c]:
            if r < len(hidden_in):
                hidden_in[r] += 1

    def eligible(c: int) -> bool:
        # A complement always counts k or more: that is what its marker tells the reader.
        return not hidden[c] and values[c] >= k

    # Margins are shared with other tables (the overall counts, group sizes, number of respondents are
    # the headline numbers), so inner cells are preferred: level 0 inner, 1 group/option totals, 2 N.
    level = [0 if key[0] == "joint" else 1 if key[0] == "freq" else 2 for key in system.keys]

    def cost(c: int, relation: int | None) -> tuple[int, int, bool, int, int]:
        # Relations that would be left with one hidden cell if c were hidden too (each needs one more).
        singles = [r for r in system.relations_of[c] if r != relation and r < len(hidden_in) and hidden_in[r] == 0]
        # Hiding c forces a complement in each of them: if the cheapest there is a total, c costs as much
        # (e.g. the size of a group that holds everyone forces the number of respondents).
        forced = level[c]
        for r in singles:
            forced = max(forced, min((level[d] for d in system.cells_of(r) if d != c and eligible(d)), default=3))
        # A complement below 2k-2 may leave the small cell less than its whole range 1..k-1: with a row
        # total of 6, "< 5" + "•" (>= 5) pins both.  Such complements are taken only if nothing else fits.
        return (forced, len(singles), values[c] < 2 * k - 2, values[c], c)

    # Each connected set of hidden cells is attacked on its own (the others are constants to it), and
    # its result is kept until a new complement joins it: every round re-attacks only what changed.
    attacked: dict[tuple[int, ...], list[tuple[int, int, float]]] = {}
    unavoidable: set[int] | None = None
    lines = list(range(len(system.equations)))
    all_relations = range(len(system.equations) + len(system.leqs))
    while True:
        _close_lines(system, hidden, hidden_in, hide, cost, eligible, lines)
        lo, hi = _revealed(values, reasons, k)
        published_lo, published_hi = list(lo), list(hi)
        for component, among in _components(system, lo, hi, all_relations):
            key = tuple(component)
            if key not in attacked:
                sub = _Subsystem(system, among)
                _attack_component(sub, component, lo, hi, [None] * len(lo), k)
                attacked[key] = [(c, lo[c], hi[c]) for c in sub.cells]
            for c, low, high in attacked[key]:
                lo[c], hi[c] = low, high
        exposed = [c for c in range(len(values)) if reasons[c] == PRIMARY and lo[c] == hi[c]]
        if not exposed:
            return hidden, reasons
        if unavoidable is None:  # depends only on the small cells and the zeros, which never change
            shown = [None if r else v for v, r in zip(values, reasons, strict=True)]
            unavoidable = _unavoidable(system, shown, published_lo, published_hi, k, exact=False)
        newly_hidden.clear()
        # One complement per exposed cell and round, unless a complement of this round already shares a
        # relation with the cell: then the cell waits for the next audit (it may be protected already).
        touched: set[int] = set()
        for c in exposed:
            if c in unavoidable or c in touched:
                continue
            candidate = _nearest_candidate(
                system, hidden, c, cost, eligible, partial(_slack, system, published_lo, published_hi)
            )
            if candidate is None:  # pragma: no cover - then hiding more could not help: unavoidable
                unavoidable.add(c)
                continue
            hide(candidate)
            for r in system.relations_of[candidate]:
                touched.update(system.cells_of(r))
        if not newly_hidden:
            return hidden, reasons
        lines = sorted({r for c in newly_hidden for r in system.relations_of[c] if r < len(system.equations)})


def _revealed(values: list[int], reasons: list[str], k: int) -> tuple[list[int], list[float]]:
    """What a reader knows of every cell: its count if shown, else the range its marker reveals."""
    lo: list[int] = []
    hi: list[float] = []
    for v, r in zip(values, reasons, strict=True):
        if r == PRIMARY:
            lo.append(1)
            hi.append(k - 1)
        elif r == SECONDARY:
            lo.append(k)
            hi.append(_INF)
        else:
            lo.append(v)
            hi.append(v)
    return lo, hi


def _unavoidable(
    system: _System, shown: list[int | None], lo: list[int], hi: list[float], k: int, *, exact: bool
) -> set[int]:
    """Hidden cells that would be pinned even if every shown non-zero count were hidden as well.

    ``shown``: the published count of each cell (None if hidden); ``lo``/``hi``: what is published (a
    count, or a marker's range).  Every shown non-zero count becomes a marker's range ("< k" for a
    shown 1 .. k-1 in a table this module did not make, k or more otherwise); zeros stay shown.

    ``exact``: attack that whole system (what the auditor reports).  Otherwise (during suppression,
    where the whole campaign would be one large system) only the relations that can bound anything:
    with every count hidden, a cell of k or more is unbounded above unless it is bounded by small
    cells, so starting from the relations of small cells, a relation joins once its total or all its
    parts are bounded.  That may miss a pin; then the suppression hides more than needed, never less.
    """
    max_lo = list(lo)
    max_hi = list(hi)
    for c, value in enumerate(shown):
        if value:
            max_lo[c], max_hi[c] = (1, k - 1) if value < k else (k, _INF)
    count = len(system.equations) + len(system.leqs)
    if exact:
        _attack(system, max_lo, max_hi, k)
        return {c for c, value in enumerate(shown) if value is None and max_lo[c] == max_hi[c]}
    m = len(system.equations)
    included: set[int] = set()
    attacked_lo, attacked_hi = max_lo, max_hi
    while True:
        bounded = [h != _INF for h in attacked_hi]
        new = []
        for r in range(count):
            if r in included:
                continue
            total, parts = system.equations[r] if r < m else (system.leqs[r - m][1], ())
            if bounded[total] or (parts and all(bounded[c] for c in parts)):
                new.append(r)
        if not new:
            return {c for c, value in enumerate(shown) if value is None and attacked_lo[c] == attacked_hi[c]}
        included.update(new)
        attacked_lo, attacked_hi = list(max_lo), list(max_hi)
        _attack(system, attacked_lo, attacked_hi, k, sorted(included))


def _close_lines(
    system: _System,
    hidden: list[bool],
    hidden_in: list[int],
    hide: Callable[[int], None],
    cost: _Cost,
    eligible: Callable[[int], bool],
    lines: Iterable[int],
) -> None:
    """Make every equation hold zero or at least two hidden cells (step 2 of the algorithm).

    ``lines``: the equations to look at first (later ones are queued as cells get hidden).  An equation
    with exactly one hidden cell always has a shown cell counting ``k`` or more: its total if the hidden
    cell is a part (total >= part > 0, and a shown count is 0 or >= k), otherwise a non-zero part.
    """
    queue = deque(lines)
    queued = [False] * len(system.equations)
    for e in queue:
        queued[e] = True
    while queue:
        e = queue.popleft()
        queued[e] = False
        if hidden_in[e] != 1:
            continue
        t, parts = system.equations[e]
        candidates = [c for c in (t, *parts) if eligible(c)]
        if not candidates:  # pragma: no cover - see the docstring
            raise AssertionError("an equation with one hidden cell and no complement")
        chosen = min(candidates, key=lambda c: cost(c, e))
        hide(chosen)
        for r in system.relations_of[chosen]:
            if r < len(queued) and not queued[r]:
                queued[r] = True
                queue.append(r)


def _nearest_candidate(
    system: _System,
    hidden: list[bool],
    start: int,
    cost: _Cost,
    eligible: Callable[[int], bool],
    slack: Callable[[int], float],
) -> int | None:
    """A complement for the exposed cell ``start``: an eligible cell of one of its relations.

    Margin level first (see :func:`_suppress`), then the relation with the least ``slack`` (how far its
    cells' published ranges are from pinning them: the one most likely to give ``start`` away), then
    the cost.  If no relation of ``start`` has an eligible cell, or only the number of respondents (the
    headline number of every page), the search goes outwards through hidden cells.
    """
    seen_cells = {start}
    seen_relations: set[int] = set()
    frontier = [start]
    fallback: tuple | None = None
    while frontier:
        best: tuple | None = None
        next_frontier: list[int] = []
        for c in frontier:
            for r in system.relations_of[c]:
                if r in seen_relations:
                    continue
                seen_relations.add(r)
                room = slack(r)
                for d in system.cells_of(r):
                    if hidden[d]:
                        if d not in seen_cells:
                            seen_cells.add(d)
                            next_frontier.append(d)
                    elif eligible(d):
                        key = cost(d, None)
                        rank = (key[0], room, *key[1:])
                        if best is None or rank < best[0]:
                            best = (rank, d)
        if best is not None and best[0][0] < 2:
            return best[1]
        fallback = fallback or best
        frontier = sorted(next_frontier)
    return None if fallback is None else fallback[1]


def _slack(system: _System, lo: list[int], hi: list[float], relation: int) -> float:
    """How much room the published ranges leave in a relation (0: its hidden cells are pinned by it)."""
    m = len(system.equations)
    if relation >= m:
        part, total = system.leqs[relation - m]
        return hi[total] - lo[part]
    total, parts = system.equations[relation]
    low = max(lo[total], sum(lo[p] for p in parts))
    high = min(hi[total], sum(hi[p] for p in parts))
    return high - low


# --------------------------------------------------------------------------------------------------
# The attacker
# --------------------------------------------------------------------------------------------------


def _attack(
    system: _System, lo: list[int], hi: list[float], k: int, relations: Sequence[int] | None = None
) -> list[str | None]:
    """Narrow ``lo[c] <= value <= hi[c]`` of every cell in place; return how fixed cells were determined.

    ``lo``/``hi`` start as what is published: a shown count has ``lo == hi``, a hidden cell the range its
    marker reveals.  ``relations``: use only these relations (default: all).  Each connected set of
    unknown cells is attacked on its own: the other cells of its relations are known numbers to it, so
    nothing outside it can change its ranges.
    """
    how: list[str | None] = [None] * len(lo)
    if relations is None:
        relations = range(len(system.equations) + len(system.leqs))
    for component, among in _components(system, lo, hi, relations):
        _attack_component(_Subsystem(system, among), component, lo, hi, how, k)
    return how


def _components(
    system: _System, lo: list[int], hi: list[float], relations: Iterable[int]
) -> list[tuple[list[int], list[int]]]:
    """The unknown cells (``lo != hi``) grouped by the ``relations`` that link them, each with those
    relations; sorted, so deterministic."""
    parent = list(range(len(lo)))

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    anchor: dict[int, int] = {}  # relation -> one of its unknown cells
    for r in relations:
        first = -1
        for c in system.cells_of(r):
            if lo[c] == hi[c]:
                continue
            if first < 0:
                first = root(c)
                anchor[r] = c
            else:
                other = root(c)
                if other != first:
                    parent[max(other, first)] = min(other, first)
                    first = min(other, first)
    groups: dict[int, list[int]] = {}
    for c in range(len(lo)):
        if lo[c] != hi[c]:
            groups.setdefault(root(c), []).append(c)
    among: dict[int, list[int]] = {}
    for r, c in anchor.items():
        among.setdefault(root(c), []).append(r)
    return [(groups[g], among.get(g, [])) for g in sorted(groups)]


class _Subsystem:
    """Some relations of the system (sorted ids), with the same cell numbers as the whole system."""

    def __init__(self, system: _System, relations: Iterable[int]) -> None:
        m = len(system.equations)
        relations = sorted(relations)
        self.equations = [system.equations[r] for r in relations if r < m]
        self.leqs = [system.leqs[r - m] for r in relations if r >= m]
        self.relations_of: dict[int, list[int]] = {}
        for e, (t, parts) in enumerate(self.equations):
            for c in (t, *parts):
                self.relations_of.setdefault(c, []).append(e)
        for j, (p, t) in enumerate(self.leqs):
            self.relations_of.setdefault(p, []).append(len(self.equations) + j)
            self.relations_of.setdefault(t, []).append(len(self.equations) + j)
        self.cells = sorted(self.relations_of)


def _attack_component(
    system: _Subsystem, cells: list[int], lo: list[int], hi: list[float], how: list[str | None], k: int
) -> None:
    if len(cells) == 1:  # every relation bounds the one unknown on its own: propagation is exact
        _subtract(system, lo, hi, how)
        _propagate(system, lo, hi, how)
        return

    def fixed() -> int:
        return sum(1 for c in cells if lo[c] == hi[c])

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
            if fixed() == before:
                return


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
        u, singular, vt = np.linalg.svd(a, full_matrices=False)
        rank = int((singular > 1e-9 * max(1.0, float(singular[0]))).sum())
        basis = vt[:rank]
        # The least-squares solution from the same decomposition (any solution will do: only cells
        # whose unit vector lies in the row space are read from it, and those are the same in all).
        particular = basis.T @ ((u[:, :rank].T @ np.asarray(vector, dtype=float)) / singular[:rank])
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


def _network(system: _Subsystem, lo: list[int], hi: list[float], how: list[str | None], k: int) -> None:
    """Exact check, by max-flow, of which unknown cells of "network" components are determined.

    A balanced component of :func:`_graph` without dense cells is a transportation network: its
    equations are flow conservation at nodes (with the known cells as supplies and demands), its
    unknown cells are arcs whose flow lies in ``lo .. hi`` (the markers' ranges, narrowed by
    propagation; an inequality ``cell <= known total`` is already in ``hi``).  Such constraint matrices
    are totally unimodular, so the integer solutions are exactly the integer points of the linear
    ones.  Starting from one feasible flow (found by max-flow after shifting every arc by its lower
    bound), a cell can take another value iff a cycle of the residual network passes through it: its
    arc lies in a strongly connected component with both ends, and, if the arc is strictly inside its
    bounds, the cycle does not merely run back along the arc itself.  Cells for which no such cycle
    exists are fixed at their value in that flow.  Components with dense cells (hidden margins shared
    by several tables) or with inequalities between two unknown cells are left to interval propagation.
    """
    graph = _graph(system, lo, hi)
    blocked: set[int] = set()
    for p, t in system.leqs:
        if lo[t] != hi[t]:
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
        if not eligible or not arcs:
            continue
        demand = [sign[i] * rows[i][1] for i in members]
        demand.append(-sum(demand))  # the ground node takes whatever balances
        for c, (tail, head) in arcs.items():  # the lower bound flows anyway: shift it out of the arc
            demand[head] -= lo[c]
            demand[tail] += lo[c]
        source, sink = ground + 1, ground + 2
        network = _FlowNetwork(ground + 3)
        arc_of = {c: network.add(u, v, hi[c] - lo[c]) for c, (u, v) in arcs.items()}
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
        component = network.strong_components(residual)
        for c, a in arc_of.items():
            tail, head = arcs[c]
            value = lo[c] + int(residual[a ^ 1])
            if component[tail] == component[head]:
                if residual[a] <= 0 or residual[a ^ 1] <= 0:
                    continue  # a cycle through the one residual direction of the arc: it can move
                without = list(residual)
                without[a] = without[a ^ 1] = 0
                if network.reaches(tail, head, without) or network.reaches(head, tail, without):
                    continue
            lo[c] = hi[c] = value
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

    def reaches(self, start: int, goal: int, residual: list[float]) -> bool:
        """True if ``goal`` can be reached from ``start`` along arcs with residual capacity."""
        seen = [False] * len(self.arcs_from)
        seen[start] = True
        stack = [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for a in self.arcs_from[node]:
                if residual[a] > 0 and not seen[self.head[a]]:
                    seen[self.head[a]] = True
                    stack.append(self.head[a])
        return False

    def strong_components(self, residual: list[float]) -> list[int]:
        """A component number per node, for the graph of arcs with residual capacity (Kosaraju)."""
        nodes = len(self.arcs_from)
        order: list[int] = []
        seen = [False] * nodes
        for start in range(nodes):
            if seen[start]:
                continue
            seen[start] = True
            stack = [(start, 0)]
            while stack:
                node, position = stack[-1]
                arcs = self.arcs_from[node]
                if position < len(arcs):
                    stack[-1] = (node, position + 1)
                    a = arcs[position]
                    if residual[a] > 0 and not seen[self.head[a]]:
                        seen[self.head[a]] = True
                        stack.append((self.head[a], 0))
                else:
                    stack.pop()
                    order.append(node)
        component = [-1] * nodes
        count = 0
        for start in reversed(order):
            if component[start] >= 0:
                continue
            component[start] = count
            stack2 = [start]
            while stack2:
                node = stack2.pop()
                for a in self.arcs_from[node]:  # arc a ^ 1 runs into node: follow it backwards
                    tail = self.head[a]
                    if residual[a ^ 1] > 0 and component[tail] < 0:
                        component[tail] = count
                        stack2.append(tail)
            count += 1
        return component

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
