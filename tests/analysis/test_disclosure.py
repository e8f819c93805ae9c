"""Statistical disclosure control (analysis/disclosure.py): what a reader of a published table can and
cannot learn.  Pure functions: no Django, no database.

Besides the module's own auditor, two independent attackers written here check the results: an exact
linear-algebra attacker (which hidden cells are fixed by the published sums) and, on small tables, an
exhaustive integer attacker (every table of non-negative counts that fits what is published, with every
"< k" cell in 1..k-1 and every "•" cell at k or more, as the markers tell the reader).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    DEFAULT_K,
    PRIMARY,
    SECONDARY,
    SECONDARY_MARKER,
    TOTAL,
    Question,
    SuppressedTable,
    audit_recoverable,
    hidden_cell_bounds,
    is_hidden,
    primary_marker,
    statistic_visible,
    suppress_campaign,
    suppress_crosstab,
    suppress_family,
    suppress_frequencies,
    visible_statistics,
)

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Counts with many zeros and small values, and some large ones.
counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(0, 12), st.integers(0, 80))
ks = st.integers(2, 11)


def options(n: int) -> list[str]:
    return [f"option {j}" for j in range(n)]


def groups(n: int, prefix: str = "group") -> list[str]:
    return [f"{prefix} {i}" for i in range(n)]


def marked(table: SuppressedTable, mask: pd.DataFrame) -> SuppressedTable:
    """The table published with ``mask`` hidden, each hidden cell showing the marker its count gets."""
    counts = table.confidential_counts

    def marker(value: int) -> object:
        return primary_marker(table.k) if 1 <= value < table.k else SECONDARY_MARKER

    published = counts.astype(object).where(~mask, counts.map(marker).astype(object))
    return dataclasses.replace(table, mask=mask, published=published)


def primary_only(table: SuppressedTable) -> SuppressedTable:
    """The same table with only the small cells hidden, as a naive platform would publish it."""
    return marked(table, (table.confidential_counts >= 1) & (table.confidential_counts < table.k))


def everything_hidden(tables: list[SuppressedTable]) -> list[SuppressedTable]:
    """The tables with every non-zero count hidden: what no suppression can do better than."""
    return [marked(t, t.confidential_counts > 0) for t in tables]


def check_table(table: SuppressedTable, k: int) -> None:
    """Properties every published table must have."""
    counts, mask = table.confidential_counts, table.mask
    small = (counts >= 1) & (counts < k)
    assert (mask | ~small).all().all(), "every count 1..k-1 is hidden"
    assert ((table.reasons == PRIMARY) == small).all().all(), "primary means exactly 'count 1..k-1'"
    assert ((table.reasons == SECONDARY) == (mask & ~small)).all().all()
    for (row, column), hidden in mask.stack().items():
        shown = table.published.at[row, column]
        if hidden and small.at[row, column]:
            assert shown == primary_marker(k) and is_hidden(shown)
        elif hidden:
            assert shown == SECONDARY_MARKER and is_hidden(shown)
            assert counts.at[row, column] >= k, "a complement ('•') always counts k or more"
        else:
            assert shown == counts.at[row, column] and isinstance(shown, int)
    percentages = table.percentages()
    assert percentages.where(mask).isna().all().all(), "no percentage for a hidden cell"
    assert table.suppressed_count == int(mask.to_numpy().sum())


def unavoidable_cells(tables: list[SuppressedTable]) -> set:
    """Cells the module reports as pinned by the markers and zeros alone (checked against the exhaustive
    attacker with every count hidden in the small-table properties below)."""
    by_name = {t.name: t for t in tables}
    return {cell_id(by_name[b.table], b.row, b.column) for b in hidden_cell_bounds(tables) if b.unavoidable}


def same_masks(a: list[SuppressedTable], b: list[SuppressedTable]) -> bool:
    return all(x.mask.equals(y.mask) and x.reasons.equals(y.reasons) for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------------------------------
# Independent attackers
# --------------------------------------------------------------------------------------------------


def cell_id(table: SuppressedTable, row, column) -> tuple:
    """A cell named by meaning, so that the same number in two tables is one cell."""
    if row == TOTAL and column == TOTAL:
        return ("everyone",)
    if table.breakdown is None or row == TOTAL:
        return ("category", table.question, column)
    if column == TOTAL:
        return ("category", table.breakdown, row)
    return ("within", table.question, column, table.breakdown, row)


def relations(tables: list[SuppressedTable]) -> tuple[dict, dict, list, list]:
    """Cell identities, equations (total, parts) and inequalities (part, total) of published tables.

    Written independently of the module: cells are named by meaning ("option o overall", "group g of
    breakdown b", "option o within group g of b", "everyone"), so shared margins link the tables.
    Returns (known: cell -> shown count or None, ranges: hidden cell -> (low, high or None) as its
    marker says, equations, inequalities).
    """

    key = cell_id
    known: dict = {}
    ranges: dict = {}
    equations, inequalities = [], []
    for table in tables:
        rows, columns = list(table.published.index), list(table.published.columns)
        for row in rows:
            for column in columns:
                cell = key(table, row, column)
                known.setdefault(cell, None)
                value = table.published.at[row, column]
                if not table.mask.at[row, column]:
                    known[cell] = int(value)
                elif value == f"< {table.k}":
                    ranges[cell] = (1, table.k - 1)
                else:
                    assert value == "\u2022"
                    ranges[cell] = (table.k, None)
        for row in rows:
            parts = [key(table, row, c) for c in columns[:-1]]
            if table.additive:
                equations.append((key(table, row, TOTAL), parts))
            else:
                inequalities += [(p, key(table, row, TOTAL)) for p in parts]
        if table.breakdown is not None:
            for column in columns:
                equations.append((key(table, TOTAL, column), [key(table, r, column) for r in rows[:-1]]))
    return known, ranges, equations, inequalities


def linearly_determined(tables: list[SuppressedTable]) -> set:
    """Hidden cells whose value follows from the published sums by any linear combination (exact SVD)."""
    known, _, equations, _ = relations(tables)
    unknown = [cell for cell, value in known.items() if value is None]
    column = {cell: i for i, cell in enumerate(unknown)}
    rows = []
    for total, parts in equations:
        row = np.zeros(len(unknown))
        for cell, sign in [(total, 1.0), *((p, -1.0) for p in parts)]:
            if cell in column:
                row[column[cell]] += sign
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    _, singular, vt = np.linalg.svd(np.array(rows), full_matrices=True)
    null_space = vt[int((singular > 1e-9).sum()) :]
    norms = np.linalg.norm(null_space, axis=0) if len(null_space) else np.zeros(len(unknown))
    return {cell for cell, norm in zip(unknown, norms, strict=True) if norm < 1e-7}


def integer_exposed(tables: list[SuppressedTable], k: int, cap: int) -> list:
    """Exhaustive attack: hidden "< k" cells that take the same value in EVERY table of non-negative
    integers that fits the published numbers and the markers' ranges.

    Searches over all completions (values 0..cap) with constraint propagation and backtracking; only
    for small tables.  ``cap`` must be at least the number of respondents.
    """
    known, ranges, equations, inequalities = relations(tables)
    cells = list(known)
    index = {cell: i for i, cell in enumerate(cells)}
    eqs = [(index[t], [index[p] for p in parts]) for t, parts in equations]
    leqs = [(index[p], index[t]) for p, t in inequalities]

    def narrow(lo: list[int], hi: list[int]) -> bool:
        changed = True
        while changed:
            changed = False
            for t, parts in eqs:
                new = [(t, max(lo[t], sum(lo[p] for p in parts)), min(hi[t], sum(hi[p] for p in parts)))]
                for p in parts:
                    rest_lo = sum(lo[q] for q in parts if q != p)
                    rest_hi = sum(hi[q] for q in parts if q != p)
                    new.append((p, max(lo[p], lo[t] - rest_hi), min(hi[p], hi[t] - rest_lo)))
                for c, a, b in new:
                    if a > b:
                        return False
                    if (a, b) != (lo[c], hi[c]):
                        lo[c], hi[c], changed = a, b, True
            for p, t in leqs:
                if hi[p] > hi[t] or lo[t] < lo[p]:
                    hi[p], lo[t], changed = min(hi[p], hi[t]), max(lo[t], lo[p]), True
                    if lo[p] > hi[p] or lo[t] > hi[t]:
                        return False
        return True

    def feasible(lo: list[int], hi: list[int]) -> bool:
        lo, hi = list(lo), list(hi)
        if not narrow(lo, hi):
            return False
        free = [c for c in range(len(cells)) if lo[c] != hi[c]]
        if not free:
            return True
        c = min(free, key=lambda c: hi[c] - lo[c])
        for value in range(lo[c], hi[c] + 1):
            lo2, hi2 = list(lo), list(hi)
            lo2[c] = hi2[c] = value
            if feasible(lo2, hi2):
                return True
        return False

    lo = [known[c] if known[c] is not None else ranges[c][0] for c in cells]
    hi = [known[c] if known[c] is not None else ranges[c][1] or cap for c in cells]
    exposed = []
    for c, cell in enumerate(cells):
        if known[cell] is not None or ranges[cell][1] is None:
            continue  # shown, or a complement ("•", k or more: not sensitive)
        values = []
        for value in range(lo[c], hi[c] + 1):
            if feasible(
                [value if i == c else v for i, v in enumerate(lo)], [value if i == c else h for i, h in enumerate(hi)]
            ):
                values.append(value)
                if len(values) > 1:
                    break
        assert values, "the true table fits what is published"
        if len(values) == 1:
            exposed.append(cell)
    return exposed


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


@st.composite
def crosstabs(draw, max_rows: int = 6, max_columns: int = 8, values=counts) -> pd.DataFrame:
    n_rows, n_columns = draw(st.integers(1, max_rows)), draw(st.integers(1, max_columns))
    data = draw(st.lists(st.lists(values, min_size=n_columns, max_size=n_columns), min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(data, index=groups(n_rows), columns=options(n_columns))


@st.composite
def families(draw, max_people: int = 120, max_groups: int = 6, max_options: int = 8, max_breakdowns: int = 3):
    """A family drawn from made-up respondents, so that every table fits together.

    Returns (overall, crosstabs, additive, breakdown_totals, respondents).  Multi-choice questions
    (additive=False) let each person tick any set of options.
    """
    n_options = draw(st.integers(1, max_options))
    additive = draw(st.booleans())
    n_breakdowns = draw(st.integers(1, max_breakdowns))
    sizes = [draw(st.integers(1, max_groups)) for _ in range(n_breakdowns)]
    answer = st.integers(0, n_options - 1) if additive else st.sets(st.integers(0, n_options - 1))
    person = st.tuples(answer, *(st.integers(0, s - 1) for s in sizes))
    people = draw(st.lists(person, max_size=max_people))
    ticks = [[a] if additive else sorted(a) for a, *_ in people]
    overall = pd.Series([sum(o in t for t in ticks) for o in range(n_options)], index=options(n_options))
    tables, totals = {}, {}
    for b, size in enumerate(sizes):
        name = f"breakdown {b}"
        table = np.zeros((size, n_options), dtype=int)
        for t, person_ in zip(ticks, people, strict=True):
            for o in t:
                table[person_[1 + b], o] += 1
        tables[name] = pd.DataFrame(table, index=groups(size, f"b{b}"), columns=options(n_options))
        group_counts = [sum(p[1 + b] == g for p in people) for g in range(size)]
        totals[name] = pd.Series(group_counts, index=groups(size, f"b{b}"))
    return overall, tables, additive, totals, len(people)


def suppress_drawn_family(drawn, k: int):
    overall, tables, additive, totals, respondents = drawn
    return suppress_family(overall, tables, k=k, additive=additive, breakdown_totals=totals, respondents=respondents)


# --------------------------------------------------------------------------------------------------
# Primary suppression and presentation
# --------------------------------------------------------------------------------------------------


def test_small_counts_are_hidden_zeros_and_large_counts_are_shown():
    """Counts 1..k-1 show "< k" and no percentage; 0 and counts >= k are shown as they are."""
    answers = pd.Series({"yes": 12, "no": 4, "maybe": 0, "don't know": 1, "no answer": 5})
    table = suppress_frequencies(answers, k=5)

    assert table.published.loc[TOTAL].tolist() == [12, "< 5", 0, "< 5", 5, 22]
    assert table.reasons.loc[TOTAL, "no"] == PRIMARY
    assert table.suppressed_count == 2
    assert table.reason_counts == {PRIMARY: 2, SECONDARY: 0}
    percentages = table.percentages().loc[TOTAL]
    assert percentages["no"] is None and percentages["don't know"] is None
    assert percentages["yes"] == pytest.approx(100 * 12 / 22)
    assert percentages["maybe"] == 0.0
    assert "\u201c< 5\u201d count 1 to 4 people" in table.note and "\u2022" in table.note
    assert audit_recoverable(table) == []


def test_a_table_without_small_counts_has_no_note():
    table = suppress_frequencies(pd.Series({"yes": 12, "no": 0}), k=5)
    assert table.suppressed_count == 0 and table.note == ""
    assert table.published.loc[TOTAL].tolist() == [12, 0, 12]


def test_one_small_count_in_a_frequency_table_needs_a_second_hidden_cell():
    """Otherwise the hidden count would be the total minus the shown ones."""
    table = suppress_frequencies(pd.Series({"yes": 30, "no": 3, "maybe": 9, "no answer": 12}), k=5)

    assert table.mask.loc[TOTAL].tolist() == [False, True, True, False, False]
    assert table.reasons.loc[TOTAL, "maybe"] == SECONDARY
    assert audit_recoverable(table) == []


def test_percentages_are_hidden_when_the_denominator_is_hidden():
    """A shown count divided by its percentage would give back a hidden group size."""
    ct = pd.DataFrame({"yes": [3, 40, 20], "no": [0, 30, 25]}, index=["14-17", "18-21", "22-27"])
    table = suppress_crosstab(ct, k=5)

    assert table.mask.at["14-17", TOTAL]
    assert table.published.at["14-17", "no"] == 0
    assert table.percentages().loc["14-17"].isna().all()
    assert table.percentages(axis="column").at["14-17", "yes"] is None


def test_small_cells_show_less_than_k_and_complements_show_a_dot():
    """The reader is told which hidden cells are small ("< 5": 1 to 4) and which are complements ("•": 5 or
    more), as the product owner decided; the suppression accounts for what that reveals."""
    ct = pd.DataFrame([[20, 3, 15], [25, 30, 22], [18, 27, 31]], index=groups(3), columns=["a", "b", "c"])
    table = suppress_crosstab(ct, k=5)
    hidden = [(table.published.at[r, c], table.reasons.at[r, c]) for (r, c), h in table.mask.stack().items() if h]
    assert {marker for marker, reason in hidden if reason == PRIMARY} == {"< 5"}
    assert {marker for marker, reason in hidden if reason == SECONDARY} == {SECONDARY_MARKER}
    assert table.published.at["group 0", "b"] == "< 5"
    assert primary_marker(11) == "< 11"
    assert [is_hidden(v) for v in ("< 5", "< 11", SECONDARY_MARKER, 5, "5", "<5", "", None)] == [True] * 3 + [False] * 5


def test_a_small_cell_and_a_complement_that_add_up_to_a_shown_total_get_more_company():
    """Total 6 = "< 5" + "•" pins both (1 + 5, since "•" is at least 5): that is never published."""
    table = suppress_frequencies(pd.Series({"rare": 1, "common": 5}), k=5)
    naive = marked(table, table.mask.copy().assign(**{TOTAL: False}))
    assert naive.published.loc[TOTAL].tolist() == ["< 5", SECONDARY_MARKER, 6]
    (exposed,) = audit_recoverable(naive)
    assert (exposed.column, exposed.lower, exposed.upper) == ("rare", 1, 1)
    complement = next(b for b in hidden_cell_bounds(naive) if b.column == "common")
    assert (complement.lower, complement.upper, complement.exposed) == (5, 5, False), "5 or more is not sensitive"

    assert table.published.loc[TOTAL].tolist() == ["< 5", SECONDARY_MARKER, SECONDARY_MARKER]
    assert audit_recoverable(table) == []
    rare = next(b for b in hidden_cell_bounds(table) if b.column == "rare")
    assert (rare.lower, rare.upper) == (1, 4)


def test_markers_alone_can_pin_a_cell_and_that_is_reported_as_unavoidable():
    """A group of 4 people (k=5) who gave 4 different answers: "< 5" four times in a row whose total is
    "< 5" means 1 each.  Hiding every other count would not change that, so the cells are reported as
    unavoidable instead of hiding the whole campaign."""
    ct = pd.DataFrame([[1, 1, 1, 1, 0], [25, 30, 22, 7, 9]], index=["tiny", "big"], columns=list("abcde"))
    table = suppress_crosstab(ct, k=5)
    assert table.published.loc["tiny"].tolist() == ["< 5"] * 4 + [0, "< 5"]
    pinned = [b for b in hidden_cell_bounds(table) if b.exposed]
    assert {(b.row, b.column) for b in pinned} == {("tiny", c) for c in ["a", "b", "c", "d", TOTAL]}
    assert all(b.unavoidable and b.lower == b.upper for b in pinned)
    assert audit_recoverable(table) == []
    assert table.published.at[TOTAL, "e"] == 9 and table.published.at["big", "e"] == 9, "nothing else is hidden"


# --------------------------------------------------------------------------------------------------
# Secondary suppression and the auditor
# --------------------------------------------------------------------------------------------------

ONE_SMALL_CELL = pd.DataFrame(
    [[20, 3, 15], [25, 30, 22], [18, 27, 31]],
    index=["14-17", "18-21", "22-27"],
    columns=["yes", "no", "maybe"],
)


def test_a_single_small_cell_gets_complements_in_its_row_and_column():
    """Secondary suppression hides another cell in the row and the column of the small one, and the
    auditor cannot pin the small one down: it could be 0 or at least k for all a reader knows."""
    table = suppress_crosstab(ONE_SMALL_CELL, k=5)
    inner = table.mask.drop(index=TOTAL, columns=TOTAL)

    assert table.reasons.at["14-17", "no"] == PRIMARY
    assert inner.loc["14-17"].sum() >= 2
    assert inner["no"].sum() >= 2
    assert not table.mask.loc[TOTAL].any() and not table.mask[TOTAL].any(), "totals stay visible"
    assert audit_recoverable(table) == []
    (small,) = [b for b in hidden_cell_bounds(table) if (b.row, b.column) == ("14-17", "no")]
    assert small.lower < small.upper and not small.exposed
    assert small.method is None


def test_without_secondary_suppression_the_auditor_recovers_the_small_cell():
    """Hiding only the small cell is useless: the row total minus the other cells gives it back.
    This shows the auditor does find real disclosures."""
    table = primary_only(suppress_crosstab(ONE_SMALL_CELL, k=5))

    (exposed,) = audit_recoverable(table)
    assert (exposed.row, exposed.column) == ("14-17", "no")
    assert exposed.lower == exposed.upper == 3
    assert exposed.method == "subtraction"


def test_auditor_finds_recoveries_that_need_several_equations():
    """Hiding two cells in every row and column is not enough when a hidden cell is not on a cycle of
    hidden cells: here the small cell follows from adding up two rows and subtracting two columns."""
    ct = pd.DataFrame(
        [[10, 11, 2, 50], [12, 13, 50, 50], [50, 50, 15, 16], [50, 50, 17, 18]],
        index=groups(4),
        columns=options(4),
    )
    table = suppress_crosstab(ct, k=5)
    mask = pd.DataFrame(False, index=table.mask.index, columns=table.mask.columns)
    # Rows 0-1 x columns 0-1 form one cycle of hidden cells, rows 2-3 x columns 2-3 another; the small
    # cell (row 0, column 2) is the only link between them.
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 2), (2, 3), (3, 2), (3, 3)]:
        mask.iat[r, c] = True
    naive = marked(table, mask)
    per_line = mask.drop(index=TOTAL, columns=TOTAL)
    assert ((per_line.sum(axis=0) == 0) | (per_line.sum(axis=0) >= 2)).all()
    assert ((per_line.sum(axis=1) == 0) | (per_line.sum(axis=1) >= 2)).all()

    exposed = {(e.row, e.column): e for e in audit_recoverable(naive)}
    assert ("group 0", "option 2") in exposed
    assert exposed[("group 0", "option 2")].lower == 2 == exposed[("group 0", "option 2")].upper
    assert audit_recoverable(table) == []


def test_auditor_uses_the_ranges_the_markers_reveal():
    """Inner cells hidden, all totals shown: 3+1=4, 1+0=1.  Without markers the corner cells could move
    round the cycle; with "< 5" meaning at least 1, the 1 next to the 0 is pinned, and then all are."""
    ct = pd.DataFrame([[3, 1], [1, 0]], index=groups(2), columns=options(2))
    table = suppress_crosstab(ct, k=5)
    mask = pd.DataFrame(False, index=table.mask.index, columns=table.mask.columns)
    for r, c in [(0, 0), (0, 1), (1, 0)]:
        mask.iat[r, c] = True
    exposed = {(e.row, e.column): (e.lower, e.upper) for e in audit_recoverable(marked(table, mask))}
    assert exposed == {
        ("group 0", "option 0"): (3, 3),
        ("group 0", "option 1"): (1, 1),
        ("group 1", "option 0"): (1, 1),
    }
    assert audit_recoverable(table) == []


def test_auditor_agrees_with_the_exhaustive_attacker_where_several_equations_are_needed():
    """Found by the exhaustive attacker on a random table (before markers differed): rows g1 and g3 minus
    column o1 give e + i = 8, so column o2 gives b + l = 3, and row g4 gives l <= 2.  With the markers'
    ranges the auditor pins exactly the cells the exhaustive attacker pins, and none after suppression."""
    counts = pd.DataFrame(
        [[4, 0, 2, 3], [0, 4, 2, 0], [5, 0, 0, 1], [0, 1, 6, 0], [1, 6, 1, 0]],
        index=[f"g{i}" for i in range(5)],
        columns=[f"o{j}" for j in range(4)],
    )
    table = suppress_crosstab(counts, k=5)
    hidden = [
        "g0 o0",
        "g0 o2",
        "g0 o3",
        "g1 o1",
        "g1 o2",
        "g2 o0",
        "g2 o3",
        "g3 o1",
        "g3 o2",
        "g4 o0",
        "g4 o2",
    ]
    mask = pd.DataFrame(False, index=table.mask.index, columns=table.mask.columns)
    for cell in [*hidden, "Total o0", "Total o3"]:
        mask.at[cell.split()[0], cell.split()[1]] = True
    earlier = marked(table, mask)

    by_auditor = {cell_id(earlier, e.row, e.column) for e in audit_recoverable(earlier)}
    assert by_auditor and by_auditor == set(integer_exposed([earlier], 5, cap=40))
    assert audit_recoverable(table) == []
    assert integer_exposed([table], 5, cap=40) == []


def test_overall_counts_minus_the_other_groups_do_not_reveal_a_hidden_cell():
    """The overall table of a question is the total row of every cross-tab of it: the overall count
    of an answer minus the shown cells of its column must not give a hidden cell back."""
    overall = pd.Series({"yes": 63, "no": 60, "maybe": 68})
    by_age = ONE_SMALL_CELL
    by_gender = pd.DataFrame(
        [[30, 28, 33], [31, 30, 34], [2, 2, 1]], index=["f", "m", "d"], columns=["yes", "no", "maybe"]
    )
    family = suppress_family(overall, {"age": by_age, "gender": by_gender}, k=5)

    assert audit_recoverable(family) == []
    for crosstab in family.crosstabs.values():
        check_table(crosstab, 5)
        for column in overall.index:
            inner_hidden = crosstab.mask[column].drop(TOTAL).sum()
            assert inner_hidden == 0 or inner_hidden >= 2 or crosstab.mask.at[TOTAL, column]
        # The overall table is the total row of every cross-tab, hidden cell for hidden cell.
        assert crosstab.mask.loc[TOTAL].equals(family.overall.mask.loc[TOTAL])
        # The breakdown table is the total column of its cross-tab.
        breakdown = family.breakdowns[crosstab.breakdown]
        assert crosstab.mask[TOTAL].tolist() == breakdown.mask.loc[TOTAL].tolist()

    # Suppressing the age table only along its rows would be undone by the overall table.
    naive = family.crosstabs["age"]
    mask = pd.DataFrame(False, index=naive.mask.index, columns=naive.mask.columns)
    mask.at["14-17", "no"] = mask.at["14-17", "yes"] = True
    rows_only = marked(naive, mask)
    assert audit_recoverable([rows_only]) != []
    assert {(e.row, e.column) for e in audit_recoverable([rows_only, family.overall])} >= {("14-17", "no")}


def test_group_sizes_are_hidden_consistently_across_questions():
    """Every cross-tab by age band publishes the age band sizes: a size hidden in one must be hidden
    in all, or the other table gives it back.  suppress_campaign suppresses all questions jointly."""
    age = ["14-17", "18-21", "22-27"]
    q1 = Question(
        overall=pd.Series({"yes": 43, "no": 51}),
        crosstabs={"age": pd.DataFrame({"yes": [1, 20, 22], "no": [2, 24, 25]}, index=age)},
    )
    q2 = Question(
        overall=pd.Series({"a": 30, "b": 64}),
        crosstabs={"age": pd.DataFrame({"a": [0, 14, 16], "b": [3, 30, 31]}, index=age)},
    )
    campaign = suppress_campaign({"q1": q1, "q2": q2}, k=5)

    sizes = [campaign.families[q].crosstabs["age"].mask[TOTAL] for q in ("q1", "q2")]
    assert sizes[0].equals(sizes[1])
    assert sizes[0]["14-17"], "the age band of 3 people is hidden everywhere"
    assert campaign.breakdowns["age"].mask.loc[TOTAL].tolist() == sizes[0].tolist()
    assert audit_recoverable(campaign) == []


def test_a_question_used_as_breakdown_shares_its_cells():
    """'age by gender' and 'gender by age' hold the same joint counts; they are one set of cells."""
    ages, genders = ["14-17", "18-27"], ["f", "m"]
    joint = pd.DataFrame([[3, 20], [25, 30]], index=ages, columns=genders)  # rows age, columns gender
    questions = {
        "age": Question(overall=joint.sum(axis=1), crosstabs={"gender": joint.T}),
        "gender": Question(overall=joint.sum(axis=0), crosstabs={"age": joint}),
    }
    campaign = suppress_campaign(questions, k=5)
    age_by_gender = campaign.families["age"].crosstabs["gender"].mask
    gender_by_age = campaign.families["gender"].crosstabs["age"].mask
    assert age_by_gender.drop(index=TOTAL, columns=TOTAL).T.equals(gender_by_age.drop(index=TOTAL, columns=TOTAL))
    assert campaign.breakdowns["age"] is campaign.families["age"].overall
    assert audit_recoverable(campaign) == []


def test_multi_choice_rows_do_not_add_up():
    """One person may tick several options, so option counts within a group only stay below the group
    size; the group sizes come from the breakdown's own table."""
    by_age = pd.DataFrame(
        {"sport": [3, 15, 12], "music": [6, 14, 20], "games": [7, 9, 2]}, index=["14-17", "18-21", "22-27"]
    )
    sizes = pd.Series({"14-17": 8, "18-21": 25, "22-27": 30})
    family = suppress_family(by_age.sum(), {"age": by_age}, k=5, additive=False, breakdown_totals={"age": sizes})
    table = family.crosstabs["age"]

    check_table(table, 5)
    assert table.confidential_counts[TOTAL].tolist() == [8, 25, 30, 63]
    assert table.confidential_counts.loc[TOTAL].tolist() == [30, 40, 18, 63]
    assert table.mask.at["14-17", "sport"] and table.mask.at["22-27", "games"]
    assert audit_recoverable(family) == []
    for bounds in hidden_cell_bounds(family):
        if bounds.row != TOTAL and bounds.column != TOTAL:
            assert bounds.upper is not None and bounds.upper <= sizes[bounds.row]


def test_multi_choice_frequency_table():
    """Without breakdowns a multi-choice table has no equation at all: each option is at most the number
    of respondents, so a hidden option is anywhere in the range its marker gives."""
    table = suppress_frequencies(pd.Series({"sport": 3, "music": 10, "games": 0}), additive=False, respondents=12)
    assert table.published.loc[TOTAL].tolist() == ["< 5", 10, 0, 12]
    assert table.reason_counts == {PRIMARY: 1, SECONDARY: 0}
    (bounds,) = hidden_cell_bounds(table)
    assert (bounds.lower, bounds.upper, bounds.exposed) == (1, 4, False)


def test_multi_choice_by_a_question_takes_the_group_sizes_from_that_question():
    ages = pd.Series({"14-17": 9, "18-27": 21})
    hobbies = pd.DataFrame({"sport": [3, 15], "music": [6, 14]}, index=ages.index)
    campaign = suppress_campaign(
        {"age": Question(overall=ages), "hobbies": Question(hobbies.sum(), {"age": hobbies}, additive=False)},
        k=5,
    )
    assert campaign.families["hobbies"].crosstabs["age"].confidential_counts[TOTAL].tolist() == [9, 21, 30]
    assert campaign.breakdowns["age"] is campaign.families["age"].overall
    assert audit_recoverable(campaign) == []


def test_multi_choice_needs_the_group_sizes():
    with pytest.raises(ValueError, match="group sizes"):
        suppress_family(pd.Series({"a": 3}), {"age": pd.DataFrame({"a": [1, 2]})}, additive=False)


def test_tables_that_do_not_fit_together_are_rejected():
    """A cross-tab that lost respondents (e.g. no age given) cannot be protected jointly with the
    overall table: the difference would be a count of its own.  Code 'no answer' as a group."""
    overall = pd.Series({"yes": 10, "no": 12})
    by_age = pd.DataFrame({"yes": [4, 5], "no": [6, 6]}, index=["14-17", "18-27"])
    with pytest.raises(ValueError, match="respondents"):
        suppress_family(overall, {"age": by_age})
    by_age.loc["no answer"] = [1, 0]
    assert audit_recoverable(suppress_family(overall, {"age": by_age})) == []


@pytest.mark.parametrize(
    "bad",
    [
        pd.Series({"a": -1}),
        pd.Series({"a": 1.5}),
        pd.Series({"a": float("nan")}),
        pd.Series({TOTAL: 3}),
        pd.Series([], dtype=int),
    ],
)
def test_invalid_counts_are_rejected(bad):
    with pytest.raises(ValueError):
        suppress_frequencies(bad)


def test_k_must_be_at_least_two():
    with pytest.raises(ValueError, match="k must be"):
        suppress_frequencies(pd.Series({"a": 3}), k=1)


def test_default_k_is_five():
    assert DEFAULT_K == 5
    assert suppress_frequencies(pd.Series({"a": 4, "b": 1, "c": 5})).reasons.loc[TOTAL, "c"] == ""


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k", "shown"), [(0, 5, False), (4, 5, False), (5, 5, True), (10, 11, False)])
def test_statistics_need_at_least_k_people(n, k, shown):
    """A mean, SD or confidence interval is shown only when it summarises at least k people."""
    assert statistic_visible(n, k=k) is shown


def test_one_hidden_group_mean_is_protected_by_hiding_another():
    """n_i * mean_i adds up to N * mean: with the overall mean shown, one hidden group's mean could be
    computed from the others, so the smallest other group is hidden too."""
    sizes = pd.Series({"14-17": 3, "18-21": 40, "22-27": 12, "none": 0})
    shown = visible_statistics(sizes, k=5)
    assert shown.tolist() == [False, True, False, False]
    assert visible_statistics(sizes, k=5, overall_shown=False).tolist() == [False, True, True, False]
    assert visible_statistics(sizes, k=5, hidden_groups=["22-27"]).tolist() == [False, True, False, False]


# --------------------------------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------------------------------


@PROPERTY
@given(values=st.lists(counts, min_size=1, max_size=8), k=ks)
def test_property_frequency_tables(values, k):
    series = pd.Series(values, index=options(len(values)))
    table = suppress_frequencies(series, k=k)
    check_table(table, k)
    assert audit_recoverable(table) == []
    assert not (linearly_determined([table]) - unavoidable_cells([table])) & {
        ("category", "question", o) for o in series[(series > 0) & (series < k)].index
    }
    cap = int(series.sum()) + k
    assert set(integer_exposed([table], k, cap=cap)) <= set(integer_exposed(everything_hidden([table]), k, cap=cap))
    assert same_masks([table], [suppress_frequencies(series, k=k)])


@PROPERTY
@given(ct=crosstabs(), k=ks)
def test_property_crosstabs(ct, k):
    table = suppress_crosstab(ct, k=k)
    check_table(table, k)
    assert audit_recoverable(table) == []
    determined = linearly_determined([table])
    for row, column in itertools.product(ct.index, ct.columns):
        cell = ("within", "question", column, "breakdown", row)
        if 1 <= ct.at[row, column] < k and cell not in unavoidable_cells([table]):
            assert cell not in determined
    assert same_masks([table], [suppress_crosstab(ct, k=k)])


@SLOW_PROPERTY
@given(drawn=families(), k=ks)
def test_property_families(drawn, k):
    family = suppress_drawn_family(drawn, k)
    tables = family.tables()
    for table in tables:
        check_table(table, k)
    assert audit_recoverable(family) == []
    truth = {
        cell_id(table, row, column): value
        for table in tables
        for (row, column), value in table.confidential_counts.stack().items()
    }
    unavoidable = unavoidable_cells(tables)
    for cell in linearly_determined(tables):
        # Allowed only where the markers alone pin the cell (e.g. "< 2" says 1, whatever else is published).
        assert not 1 <= truth[cell] < k or cell in unavoidable, f"{cell} can be computed from the published tables"
    assert same_masks(tables, suppress_drawn_family(drawn, k).tables())


@SLOW_PROPERTY
@given(ct=crosstabs(max_rows=3, max_columns=3, values=st.integers(0, 6)), k=st.integers(2, 7))
def test_property_small_crosstabs_resist_an_exhaustive_integer_attack(ct, k):
    """Every table of non-negative integers that fits the published numbers and the markers is tried: a
    small hidden cell has one value in all of them only if it would have with every count hidden."""
    table = suppress_crosstab(ct, k=k)
    cap = int(ct.to_numpy().sum()) + k
    exposed = integer_exposed([table], k, cap=cap)
    assert set(exposed) <= set(integer_exposed(everything_hidden([table]), k, cap=cap))


@SLOW_PROPERTY
@given(drawn=families(max_people=25, max_groups=3, max_options=3, max_breakdowns=2), k=st.integers(2, 7))
def test_property_small_families_resist_an_exhaustive_integer_attack(drawn, k):
    family = suppress_drawn_family(drawn, k)
    exposed = integer_exposed(family.tables(), k, cap=drawn[4] + k)
    assert set(exposed) <= set(integer_exposed(everything_hidden(family.tables()), k, cap=drawn[4] + k))


def test_integer_attacker_finds_the_primary_only_disclosure():
    """The exhaustive attacker is not vacuous: it catches the naive table too."""
    naive = primary_only(suppress_crosstab(ONE_SMALL_CELL.iloc[:2, :2], k=5))
    assert integer_exposed([naive], 5, cap=200) != []
