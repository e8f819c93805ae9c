"""k-anonymity of quasi-identifiers: check it, and enforce it by local suppression.

Pure pandas (no Django, no database). The anonymiser runs :func:`enforce` on a campaign's stored records and
every export runs it again on what it writes, so one function decides what is suppressed everywhere.

A *combination* (equivalence class) is a set of rows with equal values in every quasi-identifier column;
unanswered (``None``/``NaN``) counts as a value of its own. A table is k-anonymous when every combination has
at least ``k`` rows. A suppressed cell holds :data:`SUPPRESSED`, and rows whose quasi-identifiers are all
suppressed form one combination like any other: it, too, must have ``k`` rows. (A single fully suppressed
row would otherwise be the one row an attacker who knows that their target took part could pin down.)

Algorithm (:func:`enforce`), deterministic and independent of the row order:

1. Columns are visited from the most specific (most distinct values) to the least; ties by column name.
2. In the current column, the values held by rows of too-small combinations are visited from the rarest
   in the whole column to the most frequent (ties by the value's text). Each value is suppressed *only in
   the violating rows* that hold it, and the violations are recomputed, until none is left. Rare values go
   first because suppressing them changes the fewest cells: least information loss first.
3. After the last column every remaining violator is fully suppressed. If the fully suppressed group then
   has 1 .. k-1 rows, it is padded to ``k`` with the fewest cells: the missing rows come from the largest
   combination if that keeps ``k`` rows (its first rows in table order), else the smallest combination
   joins the group as a whole.

With fewer than ``k`` rows in total no table can be k-anonymous: every quasi-identifier is suppressed and the
report says ``reached=False``.

:func:`enforce_coded` is the same algorithm over integer-coded columns (numpy, no pandas objects), for the
aggregation's input of up to millions of records: given the same values in the same row order it suppresses
exactly the same cells as :func:`enforce`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "SUPPRESSED",
    "CodedColumn",
    "SuppressionReport",
    "combination_sizes",
    "enforce",
    "enforce_coded",
    "is_k_anonymous",
]

#: The value of a suppressed cell, in the database and in every export.
SUPPRESSED = "suppressed"
_MISSING = "\x00missing"  # stands in for None/NaN while grouping; never leaves this module


@dataclass(frozen=True)
class SuppressionReport:
    """What :func:`enforce` did: cells suppressed per column, and rows whose quasi-identifiers are all gone."""

    k: int
    rows: int
    suppressed: dict[str, int] = field(default_factory=dict)
    fully_suppressed_rows: int = 0
    reached: bool = True

    @property
    def suppressed_values(self) -> int:
        return sum(self.suppressed.values())


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), _MISSING).astype(str)


def _as_tuple(combination: object) -> tuple[str, ...]:
    return combination if isinstance(combination, tuple) else (combination,)  # type: ignore[return-value]


def combination_sizes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.Series:
    """For each row, how many rows share its combination of values in ``columns`` (default: all)."""
    columns = list(columns if columns is not None else frame.columns)
    if frame.empty:
        return pd.Series([], dtype=int, index=frame.index)
    if not columns:
        return pd.Series(len(frame), index=frame.index)
    keys = _keys(frame[columns])
    return keys.groupby(columns, dropna=False)[columns[0]].transform("size").astype(int)


def is_k_anonymous(frame: pd.DataFrame, k: int, columns: Sequence[str] | None = None) -> bool:
    """Whether every combination of values in ``columns`` (default: all) has at least ``k`` rows."""
    return bool((combination_sizes(frame, columns) >= k).all())


def enforce(
    frame: pd.DataFrame, k: int, columns: Sequence[str] | None = None
) -> tuple[pd.DataFrame, SuppressionReport]:
    """Suppress quasi-identifier cells until ``frame`` is k-anonymous on ``columns`` (default: all).

    Returns a copy of ``frame`` (other columns untouched, suppressed cells set to :data:`SUPPRESSED`) and
    the report. Cells that already hold :data:`SUPPRESSED` are not counted again.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    columns = list(columns if columns is not None else frame.columns)
    result = frame.copy()
    report_counts = dict.fromkeys(columns, 0)
    if frame.empty or not columns:
        return result, SuppressionReport(k=k, rows=len(frame), suppressed=report_counts)

    keys = _keys(frame[columns])
    mask = pd.DataFrame(False, index=frame.index, columns=columns)

    def violators() -> pd.Series:
        return keys.groupby(columns, dropna=False)[columns[0]].transform("size") < k

    def suppress(rows: pd.Series, column: str) -> None:
        fresh = rows & (keys[column] != SUPPRESSED)
        keys.loc[fresh, column] = SUPPRESSED
        mask.loc[fresh, column] = True

    order = sorted(columns, key=lambda column: (-keys[column].nunique(), column))
    bad = violators()
    for column in order:
        if not bad.any():
            break
        frequency = keys[column].value_counts()
        candidates = sorted(set(keys.loc[bad, column]) - {SUPPRESSED}, key=lambda v: (frequency[v], v))
        for value in candidates:
            suppress(bad & (keys[column] == value), column)
            bad = violators()
            if not bad.any():
                break

    reached = True
    fully = (keys == SUPPRESSED).all(axis=1)
    group = int(fully.sum())
    if 0 < group < k:
        if len(frame) < k:
            reached = False
            suppress(pd.Series(True, index=frame.index), columns[0])
            for column in columns[1:]:
                suppress(pd.Series(True, index=frame.index), column)
        else:
            sizes = keys[~fully].groupby(columns, dropna=False).size()
            need = k - group
            # Least loss: ``need`` rows of the largest combination if it can spare them and keep k, else the
            # whole smallest combination. Ties go to the smaller combination of values, so row order is irrelevant.
            spare = sizes[sizes >= k + need]
            if len(spare):
                donor = min(spare.index[spare == spare.max()], key=_as_tuple)
            else:
                donor = min(sizes.index[sizes == sizes.min()], key=_as_tuple)
            same = (keys[columns] == pd.Series(_as_tuple(donor), index=columns)).all(axis=1) & ~fully
            members = same[same].index
            moved = members[:need] if len(spare) else members
            chosen = pd.Series(frame.index.isin(moved), index=frame.index)
            for column in columns:
                suppress(chosen, column)

    for column in columns:
        report_counts[column] = int(mask[column].sum())
        if mask[column].any():
            result[column] = result[column].astype(object)
            result.loc[mask[column], column] = SUPPRESSED
    fully = (keys == SUPPRESSED).all(axis=1)
    report = SuppressionReport(
        k=k, rows=len(frame), suppressed=report_counts, fully_suppressed_rows=int(fully.sum()), reached=reached
    )
    return result, report


@dataclass(frozen=True)
class CodedColumn:
    """A quasi-identifier column as integer codes: ``values[i]`` is the code of row ``i``, ``texts[code]`` its value.

    ``texts[code]`` is ``None`` for "unanswered" and :data:`SUPPRESSED` for a suppressed cell; every other text
    is the value as :func:`enforce` would see it (``str`` of the stored value).
    """

    values: np.ndarray
    texts: Sequence[str | None]


def enforce_coded(columns: Mapping[str, CodedColumn], k: int) -> tuple[dict[str, np.ndarray], SuppressionReport]:
    """:func:`enforce` over coded columns (same rows in the same order): which cells to suppress, and the report.

    Returns, per column, a boolean array of the rows whose value is suppressed now (cells that held
    :data:`SUPPRESSED` already are not included). Raises ``ValueError`` when the columns have so many distinct
    values that a combination does not fit in 63 bits (then use :func:`enforce`).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    names = list(columns)
    n = len(next(iter(columns.values())).values) if names else 0
    masks = {name: np.zeros(n, dtype=bool) for name in names}
    if n == 0 or not names:
        return masks, SuppressionReport(k=k, rows=n, suppressed=dict.fromkeys(names, 0))

    # Each column's codes become ranks in the order of the texts enforce() groups by, so that comparing ranks
    # compares texts (candidate order, ties between combinations) and a combination is one mixed-radix int.
    ranks = np.empty((n, len(names)), dtype=np.int64)
    radix, suppressed_rank = [], []
    for c, name in enumerate(names):
        texts = [_MISSING if text is None else str(text) for text in columns[name].texts]
        if SUPPRESSED not in texts:
            texts.append(SUPPRESSED)
        distinct = sorted(set(texts))
        rank_of_code = np.array([distinct.index(text) for text in texts], dtype=np.int64)
        ranks[:, c] = rank_of_code[np.asarray(columns[name].values, dtype=np.int64)]
        radix.append(len(distinct))
        suppressed_rank.append(distinct.index(SUPPRESSED))
    if math.prod(radix) >= 2**63:
        raise ValueError("too many combinations of quasi-identifier values for coded enforcement")
    weights = np.array([math.prod(radix[c + 1 :]) for c in range(len(names))], dtype=np.int64)
    key = ranks @ weights

    def sizes_of(keys: np.ndarray) -> np.ndarray:
        _unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return counts[inverse.ravel()]

    bad = sizes_of(key) < k

    def suppress(rows: np.ndarray, c: int) -> None:
        """Suppress column ``c`` in ``rows`` (bool) and update the violators of the combinations they join."""
        nonlocal bad
        fresh = rows & (ranks[:, c] != suppressed_rank[c])
        if not fresh.any():
            return
        masks[names[c]] |= fresh
        key[fresh] += (suppressed_rank[c] - ranks[fresh, c]) * weights[c]
        ranks[fresh, c] = suppressed_rank[c]
        # Violators are whole combinations, and a combination moves as a whole: only the combinations the
        # moved rows join change size (they grow), every other row keeps its verdict.
        joined = np.unique(key[fresh])
        members = np.isin(key, joined)
        bad[members] = sizes_of(key[members]) < k

    distinct_counts = [np.count_nonzero(np.bincount(ranks[:, c], minlength=radix[c])) for c in range(len(names))]
    order = sorted(range(len(names)), key=lambda c: (-distinct_counts[c], names[c]))
    for c in order:
        if not bad.any():
            break
        frequency = np.bincount(ranks[:, c], minlength=radix[c])
        candidates = [int(v) for v in np.unique(ranks[bad, c]) if v != suppressed_rank[c]]
        for value in sorted(candidates, key=lambda v: (frequency[v], v)):
            suppress(bad & (ranks[:, c] == value), c)
            if not bad.any():
                break

    reached = True
    fully = (ranks == np.array(suppressed_rank)).all(axis=1)
    group = int(fully.sum())
    if 0 < group < k:
        everyone = np.ones(n, dtype=bool)
        if n < k:
            reached = False
            for c in range(len(names)):
                suppress(everyone, c)
        else:
            unique, counts = np.unique(key[~fully], return_counts=True)
            need = k - group
            # As in enforce(): rows of the largest combination that can spare them, else the smallest
            # combination whole; ties to the smaller combination of values (the smaller key).
            spare = counts >= k + need
            target = counts[spare].max() if spare.any() else counts.min()
            donor = unique[counts == target].min()
            members = np.flatnonzero((key == donor) & ~fully)
            chosen = np.zeros(n, dtype=bool)
            chosen[members[:need] if spare.any() else members] = True
            for c in range(len(names)):
                suppress(chosen, c)

    fully = (ranks == np.array(suppressed_rank)).all(axis=1)
    report = SuppressionReport(
        k=k,
        rows=n,
        suppressed={name: int(masks[name].sum()) for name in names},
        fully_suppressed_rows=int(fully.sum()),
        reached=reached,
    )
    return masks, report
