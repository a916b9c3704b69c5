"""Disclosure control: hand-computed cases, an LP oracle for recoverability, Hypothesis invariants."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.report.disclosure import (
    SUPPRESSED_COLUMN,
    Additive,
    DisclosurePolicy,
    GroupTotal,
    Share,
    protect,
)

POLICY = DisclosurePolicy.load()


def test_packaged_policy_defaults():
    assert POLICY.min_count == 5 and POLICY.min_denominator == 5
    assert POLICY.zero_counts == "protect_groups" and POLICY.publish_zeros
    assert POLICY.version


def test_policy_override_and_bad_file(tmp_path):
    assert DisclosurePolicy.load(min_count=10).min_count == 10
    bad = tmp_path / "p.yaml"
    bad.write_text("version: x\nmin_count: 0\n")
    with pytest.raises(ConfigurationError, match="min_count"):
        DisclosurePolicy.load(bad)


def test_primary_suppression_hand_case():
    frame = pl.DataFrame({"area": ["a", "b", "c", "d"], "n": [3, 5, 0, 120]})
    out = protect(frame, counts=["n"])
    assert out.frame["n"].to_list() == [None, 5, 0, 120]  # a zero is no person: published
    assert out.frame[SUPPRESSED_COLUMN].to_list() == ["n:primary", None, None, None]
    strict = protect(frame, counts=["n"], policy=DisclosurePolicy.load(zero_counts="suppress"))
    assert strict.frame["n"].to_list() == [None, 5, None, 120]
    assert strict.frame[SUPPRESSED_COLUMN].to_list() == ["n:primary", None, "n:primary", None]
    assert protect(frame, counts=["n"], policy=DisclosurePolicy.load(zero_counts="publish")).frame["n"].to_list() \
        == [None, 5, 0, 120]


def test_zero_counts_must_be_a_known_mode():
    with pytest.raises(ConfigurationError, match="zero_counts"):
        DisclosurePolicy.load(zero_counts="maybe")


def test_a_2026_1_policy_file_keeps_its_meaning(tmp_path):
    old = tmp_path / "policy.yaml"
    old.write_text('version: "2026.1"\nmin_count: 5\nmin_denominator: 5\npublish_zeros: false\nmarker: "·"\n')
    assert DisclosurePolicy.load(old).zero_counts == "suppress"
    old.write_text('version: "2026.1"\npublish_zeros: true\n')
    assert DisclosurePolicy.load(old).zero_counts == "publish"


def test_zeros_published_beside_other_categories():
    # 0 convicted of 40 residents, and a breakdown 0 / 25 / 15: zeros tell nothing about anyone
    # that a published total and other non-zero categories do not already allow.
    frame = pl.DataFrame({"convicted": [0], "residents": [40], "q1": [0], "q2": [25], "q3": [15]})
    out = protect(frame, counts=["convicted", "residents", "q1", "q2", "q3"],
                  totals=[Additive(["convicted"], "residents", remainder=True), Additive(["q1", "q2", "q3"], "residents")])
    assert out.frame.row(0, named=True) == {"convicted": 0, "residents": 40, "q1": 0, "q2": 25, "q3": 15,
                                            SUPPRESSED_COLUMN: None}


def test_group_disclosure_every_member_has_the_trait():
    # 12 of 12 residents outside work: the zero remainder says each of them is. The count goes
    # (reason group); the total stays, and the count lies anywhere in [0, 12].
    frame = pl.DataFrame({"outside_work": [12, 11], "residents": [12, 12]})
    out = protect(frame, counts=["outside_work", "residents"],
                  totals=[Additive(["outside_work"], "residents", remainder=True)])
    assert out.frame["outside_work"].to_list() == [None, None]  # 11 of 12: the remainder 1 is small
    assert out.frame["residents"].to_list() == [12, 12]
    assert out.reasons["outside_work"] == ["group", "secondary"]
    lax = protect(frame, counts=["outside_work", "residents"], policy=DisclosurePolicy.load(zero_counts="publish"),
                  totals=[Additive(["outside_work"], "residents", remainder=True)])
    assert lax.frame["outside_work"].to_list() == [12, None]


def test_group_disclosure_everyone_in_one_category():
    # all 9 households in the lowest quartile: the zeros of the other quartiles say so; the whole
    # breakdown goes, the total stays. One-category rows with a total of 0 tell nothing.
    frame = pl.DataFrame({"q1": [9, 0, 6], "q2": [0, 0, 7], "q3": [0, 0, 0], "n": [9, 0, 13]})
    out = protect(frame, counts=["q1", "q2", "q3", "n"], totals=[Additive(["q1", "q2", "q3"], "n")])
    assert out.frame.select("q1", "q2", "q3", "n").rows() == [(None, None, None, 9), (0, 0, 0, 0), (6, 7, 0, 13)]
    assert [out.reasons[c][0] for c in ("q1", "q2", "q3")] == ["group"] * 3
    # across rows (a one-way table with a total row): the same
    table = pl.DataFrame({"cat": ["a", "b", "c", "total"], "n": [0, 30, 0, 30]})
    across = protect(table, counts=["n"], totals=[GroupTotal("n", "cat", "total")])
    assert across.frame["n"].to_list() == [None, None, None, 30]
    assert across.reasons["n"] == ["group", "group", "group", None]


def test_one_suppressed_part_gets_a_partner():
    # q1..q4 add up to n: q1=2 alone would be n - (q2+q3+q4); the smallest other part (q3=7) goes too.
    frame = pl.DataFrame({"q1": [2], "q2": [30], "q3": [7], "q4": [11], "n": [50]})
    out = protect(frame, counts=["q1", "q2", "q3", "q4", "n"], totals=[Additive(["q1", "q2", "q3", "q4"], "n")])
    row = out.frame.row(0, named=True)
    assert row["q1"] is None and row["q3"] is None
    assert row["q2"] == 30 and row["q4"] == 11 and row["n"] == 50
    assert out.reasons["q3"][0] == "secondary"


def test_small_suppressed_sum_needs_more_cells():
    # 1 + 1 = 2 < 5: knowing the pair sums to 2 pins each in [0, 2]; add cells until the sum reaches 5.
    frame = pl.DataFrame({"a": [1], "b": [1], "c": [2], "d": [90], "n": [94]})
    out = protect(frame, counts=["a", "b", "c", "d", "n"], totals=[Additive(["a", "b", "c", "d"], "n")])
    row = out.frame.row(0, named=True)
    assert [row[k] is None for k in "abcd"] == [True, True, True, True]
    assert row["n"] == 94


def test_remainder_protects_the_complement():
    # 48 of 50 have the trait: publishing both reveals that 2 do not.
    frame = pl.DataFrame({"n_trait": [48, 20], "n": [50, 50]})
    out = protect(frame, counts=["n_trait", "n"], totals=[Additive(["n_trait"], "n", remainder=True)])
    assert out.frame["n_trait"].to_list() == [None, 20]
    assert out.frame["n"].to_list() == [50, 50]


def test_group_total_one_way_table():
    frame = pl.DataFrame({
        "year": [2020] * 4 + [2021] * 4,
        "origin": ["dansk", "indvandrer", "efterkommer", "I alt"] * 2,
        "n": [100, 3, 40, 143, 100, 20, 40, 160],
    })
    out = protect(frame, counts=["n"], totals=[GroupTotal("n", "origin", "I alt", by=["year"])])
    assert out.frame["n"].to_list() == [100, None, None, 143, 100, 20, 40, 160]


def test_shares_follow_their_counts():
    frame = pl.DataFrame({"n": [4, 40, 40], "k": [2, 3, 20], "share": [0.5, 0.075, 0.5]})
    out = protect(frame, counts=["n", "k"], shares=[Share("share", "n", "k")])
    assert out.frame["share"].to_list() == [None, None, 0.5]
    assert out.reasons["share"] == ["denominator", "numerator", None]


def test_errors_name_column_and_row():
    with pytest.raises(DataValidationError, match="row 2.*column 'n'"):
        protect(pl.DataFrame({"n": [5, -1]}), counts=["n"], name="t.csv")
    with pytest.raises(DataValidationError, match="column 'n'"):
        protect(pl.DataFrame({"n": [5, None]}), counts=["n"])
    with pytest.raises(DataValidationError, match="add up"):
        protect(pl.DataFrame({"a": [5], "b": [6], "n": [12]}), counts=["a", "b", "n"],
                totals=[Additive(["a", "b"], "n")])
    with pytest.raises(DataValidationError, match="missing"):
        protect(pl.DataFrame({"n": [5]}), counts=["n"], shares=[Share("s", "n")])


# --- oracle: is a suppressed cell recoverable from what is published? --------------------------

def _interval(values: np.ndarray, hidden: np.ndarray, total_hidden: bool, remainder: bool,
              target: int) -> tuple[float, float]:
    """Min and max of hidden variable `target` (index into parts, or -1 for the total) given the
    published cells, the equation sum(parts) (+ remainder) = total and non-negativity."""
    unknown = [j for j in range(len(values) - 1) if hidden[j]]
    names = unknown + (["T"] if total_hidden else []) + (["R"] if remainder else [])
    a_eq = np.zeros((1, len(names)))
    b = float(values[-1]) if not total_hidden else 0.0
    for k, nm in enumerate(names):
        a_eq[0, k] = -1.0 if nm == "T" else 1.0
    known = sum(float(values[j]) for j in range(len(values) - 1) if not hidden[j])
    b -= known
    idx = names.index("T" if target == -1 else target)
    c = np.zeros(len(names))
    c[idx] = 1.0
    lo = linprog(c, A_eq=a_eq, b_eq=[b], bounds=[(0, None)] * len(names))
    hi = linprog(-c, A_eq=a_eq, b_eq=[b], bounds=[(0, None)] * len(names))
    return lo.fun, (np.inf if hi.status == 3 else -hi.fun)


rows_strategy = st.lists(
    st.lists(st.integers(0, 40), min_size=1, max_size=5), min_size=1, max_size=6
).filter(lambda rows: len({len(r) for r in rows}) == 1)


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, remainder_extra=st.integers(0, 12), use_remainder=st.booleans(),
       min_count=st.integers(2, 10), zero_counts=st.sampled_from(["protect_groups", "publish", "suppress"]))
def test_property_no_small_count_published_and_nothing_recoverable(rows, remainder_extra, use_remainder,
                                                                   min_count, zero_counts):
    policy = DisclosurePolicy.load(min_count=min_count, zero_counts=zero_counts)
    publish_zeros = zero_counts != "suppress"
    k = len(rows[0])
    parts = [f"p{j}" for j in range(k)]
    data = {p: [r[j] for r in rows] for j, p in enumerate(parts)}
    data["n"] = [sum(r) + (remainder_extra if use_remainder else 0) for r in rows]
    frame = pl.DataFrame(data)
    out = protect(frame, counts=[*parts, "n"], totals=[Additive(parts, "n", remainder=use_remainder)],
                  policy=policy)
    for col in [*parts, "n"]:
        for i, v in enumerate(out.frame[col].to_list()):
            if v is not None:
                assert not policy.is_sensitive(v), (col, i, v)
                if not publish_zeros:
                    assert v >= min_count
    for i in range(frame.height):
        values = np.array([data[p][i] for p in parts] + [data["n"][i]], dtype=float)
        hidden = np.array([out.is_suppressed(p, i) for p in parts])
        total_hidden = out.is_suppressed("n", i)
        sensitive_cells = [j for j in range(k) if policy.is_sensitive(values[j])]
        for j in sensitive_cells:
            lo, hi = _interval(values, hidden, total_hidden, use_remainder, j)
            assert hi - lo >= 1.0 - 1e-9, (i, j, lo, hi)
        if use_remainder and policy.is_sensitive(values[-1] - values[:-1].sum()) and not total_hidden:
            assert hidden.any()  # the remainder is not simply total minus published parts
        # group disclosure: with zeros published, the published cells must not show that the whole
        # total sits in one part (the other parts, and the remainder, zero)
        nonzero = [j for j in range(k) if values[j] != 0]
        rest = values[-1] - values[:-1].sum()
        if (zero_counts == "protect_groups" and values[-1] > 0 and len(nonzero) == 1
                and (rest == 0 if use_remainder else k >= 2)):
            assert hidden[nonzero[0]], ("group: the part holding the whole total is published", i)
            lo, hi = _interval(values, hidden, total_hidden, use_remainder, nonzero[0])
            assert hi - lo >= 1.0 - 1e-9, ("group", i, lo, hi)


@settings(max_examples=80, deadline=None)
@given(cells=st.lists(st.integers(0, 30), min_size=1, max_size=8), min_count=st.integers(2, 8))
def test_property_group_total_never_leaves_one_hidden_cell(cells, min_count):
    policy = DisclosurePolicy.load(min_count=min_count)
    labels = [f"c{j}" for j in range(len(cells))] + ["total"]
    frame = pl.DataFrame({"cat": labels, "n": [*cells, sum(cells)]})
    out = protect(frame, counts=["n"], totals=[GroupTotal("n", "cat", "total")], policy=policy)
    hidden = [out.is_suppressed("n", i) for i in range(len(cells))]
    total_hidden = out.is_suppressed("n", len(cells))
    if not total_hidden and any(hidden):
        assert sum(hidden) >= 2
        assert sum(v for v, h in zip(cells, hidden) if h) >= min_count
    published = [v for v in out.frame["n"].to_list() if v is not None]
    assert all(v == 0 or v >= min_count for v in published)  # zeros are published, 1..min_count-1 never
    if sum(cells) > 0 and len(cells) >= 2 and sum(v != 0 for v in cells) == 1:  # everyone in one category
        assert hidden[next(j for j, v in enumerate(cells) if v != 0)] and sum(hidden) >= 2


def test_group_total_excludes_rows_outside_the_sum():
    frame = pl.DataFrame({"cat": ["birth", "a", "b", "total"], "n": [2, 3, 40, 43]})
    out = protect(frame, counts=["n"], totals=[GroupTotal("n", "cat", "total", exclude=["birth"])])
    assert out.frame["n"].to_list() == [None, None, None, 43]  # a=3 needs a partner: b
    assert out.reasons["n"] == ["primary", "primary", "secondary", None]


def test_value_sum_hides_a_part_when_only_the_total_is_suppressed():
    """A hidden total beside published parts is their sum: one part must go too."""
    from boligmix.report.disclosure import ValueSum

    frame = pl.DataFrame({"n": [3, 50], "a": [0.1, 0.1], "b": [-0.02, 0.3], "c": [0.05, 0.01],
                          "change": [0.13, 0.41]})
    out = protect(frame, counts=["n"], shares=[Share("change", "n")],
                  value_sums=[ValueSum(["a", "b", "c"], "change")])
    row0, row1 = out.frame.row(0, named=True), out.frame.row(1, named=True)
    assert row0["change"] is None and out.reasons["change"][0] == "denominator"
    assert row0["b"] is None and out.reasons["b"][0] == "secondary"  # smallest |part|
    assert row0["a"] == 0.1 and row0["c"] == 0.05
    assert row1["change"] == 0.41 and None not in (row1["a"], row1["b"], row1["c"])


def test_value_sum_keeps_two_parts_hidden():
    from boligmix.report.disclosure import ValueSum

    frame = pl.DataFrame({"n_a": [2, 50], "n_b": [50, 50], "n_c": [60, 60],
                          "a": [0.1, 0.1], "b": [-0.02, 0.3], "c": [0.05, 0.01], "change": [0.13, 0.41]})
    out = protect(frame, counts=["n_a", "n_b", "n_c"],
                  shares=[Share("a", "n_a"), Share("b", "n_b"), Share("c", "n_c")],
                  value_sums=[ValueSum(["a", "b", "c"], "change")])
    assert out.frame.row(0, named=True)["a"] is None and out.frame.row(0, named=True)["b"] is None
    assert out.reasons["b"][0] == "secondary" and out.frame.row(0, named=True)["c"] == 0.05
    assert out.frame.row(1, named=True)["a"] == 0.1
