"""k-anonymity: the check, and enforcement by suppressing the rarest values first."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.privacy.kanonymity import (
    SUPPRESSED,
    CodedColumn,
    combination_sizes,
    enforce,
    enforce_coded,
    is_k_anonymous,
)


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["age", "district", "origin"], dtype=object)


COMMON = [("18-20", "eving", "middle_east")] * 5 + [("21-24", "brackel", "turkey")] * 5


def test_check_counts_rows_per_combination_with_unanswered_as_a_value():
    data = frame([("18-20", "eving", None), ("18-20", "eving", None), ("18-20", "eving", "turkey")])
    assert combination_sizes(data).tolist() == [2, 2, 1]
    assert is_k_anonymous(data.iloc[:2], 2)
    assert not is_k_anonymous(data, 2)


def test_a_k_anonymous_table_is_left_as_it_is():
    data = frame(COMMON)
    result, report = enforce(data, 5)
    pd.testing.assert_frame_equal(result, data)
    assert report.suppressed_values == 0 and report.fully_suppressed_rows == 0 and report.reached


def test_the_rarest_value_goes_first_and_only_in_the_rows_that_need_it():
    data = frame(
        [("18-20", "eving", "middle_east")] * 5
        + [("21-24", "eving", "middle_east")] * 4
        + [("25-27", "eving", "middle_east")]
    )
    result, report = enforce(data, 5)
    # The lone 25-27 first, then the four 21-24: together they make a combination of five.
    assert result["age"].tolist() == ["18-20"] * 5 + [SUPPRESSED] * 5
    assert (result[["district", "origin"]] == data[["district", "origin"]]).all().all()
    assert report.suppressed == {"age": 5, "district": 0, "origin": 0}
    assert is_k_anonymous(result, 5)


def test_the_fully_suppressed_group_is_padded_to_k_with_the_fewest_cells():
    data = frame([*COMMON, *[("21-24", "hoerde", "germany")] * 9, ("14-17", "mengede", "sub_saharan_africa")])
    result, report = enforce(data, 5)
    assert is_k_anonymous(result, 5)
    assert report.reached
    # The rare row ends fully suppressed; four rows of the largest combination (nine, so five stay) join it.
    assert report.fully_suppressed_rows == 5
    assert (result.iloc[-1] == SUPPRESSED).all()
    assert (result["district"] == "hoerde").sum() == 5
    assert report.suppressed_values == (result == SUPPRESSED).sum().sum() == 15


def test_without_a_combination_to_spare_rows_the_smallest_joins_the_suppressed_group_whole():
    data = frame([*COMMON, ("14-17", "mengede", "sub_saharan_africa")])
    result, report = enforce(data, 5)
    assert is_k_anonymous(result, 5)
    assert report.fully_suppressed_rows == 6


def test_fewer_than_k_rows_suppress_everything_and_say_k_was_not_reached():
    result, report = enforce(frame(COMMON[:3]), 5)
    assert (result == SUPPRESSED).all().all()
    assert not report.reached


def test_other_columns_are_untouched_and_already_suppressed_cells_are_not_counted_again():
    data = frame([*COMMON, (SUPPRESSED, SUPPRESSED, SUPPRESSED)] * 1)
    data["wishes"] = "text"
    result, report = enforce(data, 5, columns=["age", "district", "origin"])
    assert (result["wishes"] == "text").all()
    # A whole combination of five joins the already suppressed row; that row is not counted again.
    assert report.suppressed_values == 5 * 3
    assert report.fully_suppressed_rows == 6


rows = st.lists(
    st.tuples(
        st.sampled_from(["14-17", "18-20", "21-24", "25-27", "over_27", None]),
        st.sampled_from(["eving", "brackel", "mengede", "hoerde", None]),
        st.sampled_from(["germany", "middle_east", "turkey", "eastern_europe", "sub_saharan_africa"]),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, k=st.integers(min_value=2, max_value=6))
def test_after_enforcement_every_combination_has_at_least_k_rows(rows, k):
    data = frame(rows)
    result, report = enforce(data, k)
    if len(data) >= k:
        assert is_k_anonymous(result, k)
        assert report.reached
    else:
        assert (result == SUPPRESSED).all().all()
    # Suppression only ever replaces cells, it never invents values.
    kept = result != SUPPRESSED
    assert (result[kept].fillna("-") == data[kept].fillna("-")).all().all()
    assert report.suppressed_values == int(((result == SUPPRESSED) & (data != SUPPRESSED)).sum().sum())


@settings(max_examples=40, deadline=None)
@given(rows=rows, k=st.integers(min_value=2, max_value=5), seed=st.randoms(use_true_random=False))
def test_enforcement_is_deterministic_and_ignores_row_order(rows, k, seed):
    data = frame(rows)
    first, report = enforce(data, k)
    again, report_again = enforce(data, k)
    pd.testing.assert_frame_equal(first, again)
    assert report == report_again
    order = list(range(len(data)))
    seed.shuffle(order)
    shuffled, shuffled_report = enforce(data.iloc[order].reset_index(drop=True), k)
    as_multiset = lambda table: sorted(map(tuple, table.fillna("-").itertuples(index=False)))  # noqa: E731
    assert as_multiset(shuffled) == as_multiset(first)
    assert shuffled_report.suppressed == report.suppressed


def test_k_below_one_is_refused():
    with pytest.raises(ValueError, match="k must be at least 1"):
        enforce(frame(COMMON), 0)
    with pytest.raises(ValueError, match="k must be at least 1"):
        enforce_coded(coded(frame(COMMON)), 0)


def coded(data: pd.DataFrame) -> dict[str, CodedColumn]:
    """The columns of ``data`` as codes: code 0 = unanswered, then the values in order of appearance."""
    columns = {}
    for name in data.columns:
        texts: list[str | None] = [None]
        values = []
        for value in data[name].tolist():
            if value is not None and value not in texts:
                texts.append(value)
            values.append(0 if value is None else texts.index(value))
        columns[name] = CodedColumn(np.array(values, dtype=np.uint8), texts)
    return columns


def applied(data: pd.DataFrame, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    result = data.copy()
    for name, mask in masks.items():
        result.loc[mask, name] = SUPPRESSED
    return result


@pytest.mark.parametrize(
    "rows",
    [
        [*COMMON, *[("21-24", "hoerde", "germany")] * 9, ("14-17", "mengede", "sub_saharan_africa")],
        [*COMMON, ("14-17", "mengede", "sub_saharan_africa")],
        COMMON[:3],
        [*COMMON, (SUPPRESSED, SUPPRESSED, SUPPRESSED)],
    ],
    ids=["padded-from-the-largest", "smallest-joins-whole", "fewer-than-k", "already-suppressed"],
)
def test_coded_enforcement_suppresses_the_same_cells_as_enforce(rows):
    data = frame(rows)
    expected, report = enforce(data, 5)
    masks, coded_report = enforce_coded(coded(data), 5)
    pd.testing.assert_frame_equal(applied(data, masks), expected)
    assert coded_report == report


mixed_rows = st.lists(
    st.tuples(
        st.sampled_from(["14-17", "18-20", "21-24", "25-27", "over_27", None, SUPPRESSED]),
        st.sampled_from(["eving", "brackel", "mengede", "hoerde", None]),
        st.sampled_from(["germany", "middle_east", "turkey", "eastern_europe", "sub_saharan_africa", SUPPRESSED]),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=mixed_rows, k=st.integers(min_value=1, max_value=7))
def test_coded_enforcement_equals_enforce_on_any_table(rows, k):
    """Same cells, same report, whatever the codes' order (codes follow first appearance, not the texts)."""
    data = frame(rows)
    expected, report = enforce(data, k)
    masks, coded_report = enforce_coded(coded(data), k)
    pd.testing.assert_frame_equal(applied(data, masks), expected)
    assert coded_report == report
    if len(data) >= k:
        assert is_k_anonymous(applied(data, masks), k)
