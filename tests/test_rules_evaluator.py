"""The condition evaluator: parsing/validation, Kleene logic, frame vs row agreement, explain."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.evaluator import (
    Compare,
    Truth,
    condition_fields,
    evaluate,
    evaluate_frame,
    explain,
    parse_condition,
)

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN


def parse(data, fields=None, constants=None):
    return parse_condition(data, source="test.yaml", rule="r1", fields=fields, constants=constants)


# ---------------------------------------------------------------- hand-computed cases

def test_compare_operators_at_just_above_and_below_the_threshold():
    for op, below, at, above in [(">", F, F, T), (">=", F, T, T), ("<", T, F, F), ("<=", T, T, F),
                                 ("==", F, T, F), ("!=", T, F, T)]:
        cond = parse({"compare": {"field": "x", "op": op, "value": 40}})
        assert evaluate(cond, {"x": 39.999}) is below, op
        assert evaluate(cond, {"x": 40}) is at, op
        assert evaluate(cond, {"x": 40.001}) is above, op


def test_missing_none_and_nan_facts_are_unknown_never_a_pass():
    cond = parse({"compare": {"field": "x", "op": "<", "value": 55}})
    assert evaluate(cond, {}) is U
    assert evaluate(cond, {"x": None}) is U
    assert evaluate(cond, {"x": float("nan")}) is U
    assert evaluate(parse({"not": {"compare": {"field": "x", "op": "<", "value": 55}}}), {}) is U


def test_times_and_constants_scale_the_threshold():
    cond = parse({"compare": {"field": "conv", "op": ">=", "value": {"const": "national"}, "times": 3}})
    assert evaluate(cond, {"conv": 2.1}, {"national": 0.7}) is T
    assert evaluate(cond, {"conv": 2.09}, {"national": 0.7}) is F
    assert evaluate(cond, {"conv": 2.1}, {"national": None}) is U
    with pytest.raises(ConfigurationError) as info:
        evaluate(cond, {"conv": 2.1}, {})
    assert info.value.field == "national" and info.value.rule == "r1"


def test_in_known_and_string_equality():
    cond = parse({"all": [{"in": {"field": "tenure", "values": ["almen", "andel"]}},
                          {"known": "age"},
                          {"compare": {"field": "kind", "op": "==", "value": "family"}}]})
    assert evaluate(cond, {"tenure": "almen", "age": 30, "kind": "family"}) is T
    assert evaluate(cond, {"tenure": "ejer", "age": 30, "kind": "family"}) is F
    assert evaluate(cond, {"tenure": "almen", "kind": "family"}) is F  # known: age -> FALSE, not UNKNOWN
    assert evaluate(cond, {"age": 30, "kind": "family"}) is U


def test_at_least_with_unknowns():
    cond = parse({"at_least": 2, "of": [{"compare": {"field": f, "op": ">", "value": 0}} for f in "abc"]})
    assert evaluate(cond, {"a": 1, "b": 1}) is T          # 2 true, 1 unknown
    assert evaluate(cond, {"a": 1, "b": -1}) is U         # 1 true, 1 unknown -> could reach 2
    assert evaluate(cond, {"a": -1, "b": -1}) is F        # at most 1 true
    assert evaluate(cond, {"a": 1, "b": -1, "c": -1}) is F


def test_explain_reports_value_threshold_truth_and_margin():
    cond = parse({"all": [{"compare": {"field": "x", "op": ">", "value": 40}},
                          {"compare": {"field": "y", "op": ">=", "value": 2, "times": 1.5}},
                          {"in": {"field": "z", "values": ["a"]}}]})
    rows = explain(cond, {"x": 43.5, "y": 2.0})
    assert [r.field for r in rows] == ["x", "y", "z"]
    assert rows[0].truth is T and rows[0].threshold == 40 and rows[0].margin == pytest.approx(3.5)
    assert rows[1].truth is F and rows[1].threshold == pytest.approx(3.0) and rows[1].margin == pytest.approx(-1.0)
    assert rows[2].truth is U and rows[2].margin is None and rows[2].op == "in"


def test_condition_fields():
    cond = parse({"any": [{"known": "a"}, {"not": {"in": {"field": "b", "values": [1]}}}]})
    assert condition_fields(cond) == {"a", "b"}


def test_truth_cannot_be_used_as_a_python_bool():
    with pytest.raises(TypeError):
        bool(Truth.UNKNOWN)


# ---------------------------------------------------------------- validation at load time

@pytest.mark.parametrize("data, field", [
    ({"compare": {"field": "x", "op": "=>", "value": 1}}, "op"),
    ({"compare": {"field": "nope", "op": ">", "value": 1}}, "nope"),
    ({"compare": {"field": "x", "op": ">", "value": 1, "unit": "pct"}}, "unit"),
    ({"compare": {"field": "x", "op": ">", "value": "40"}}, "value"),
    ({"compare": {"field": "x", "op": ">", "value": float("inf")}}, "value"),
    ({"compare": {"field": "x", "op": ">"}}, "value"),
    ({"compare": {"field": "x", "op": ">", "value": {"const": "unknown_const"}}}, "unknown_const"),
    ({"compare": {"field": "x", "op": "==", "value": "a", "times": 2}}, "times"),
    ({"xor": [{"known": "x"}]}, "xor"),
    ({"all": []}, "all"),
    ({"all": {"known": "x"}}, "all"),
    ({"known": "x", "not": {"known": "x"}}, "known,not"),
    ({"at_least": 3, "of": [{"known": "x"}, {"known": "x"}]}, "at_least"),
    ({"at_least": -1, "of": [{"known": "x"}]}, "at_least"),
    ({"at_least": 1, "of": [{"known": "x"}], "label": "y"}, "label"),
    ({"of": [{"known": "x"}]}, "at_least"),
    ({"in": {"field": "x", "values": []}}, "values"),
    ({"known": "y"}, "y"),
    ("x > 3", "condition"),
])
def test_invalid_conditions_are_rejected_naming_file_rule_and_field(data, field):
    with pytest.raises(ConfigurationError) as info:
        parse(data, fields={"x"}, constants={"national"})
    assert info.value.source == "test.yaml" and info.value.rule == "r1"
    assert info.value.field == field
    assert "test.yaml" in str(info.value) and "r1" in str(info.value)


def test_ordering_comparison_on_a_string_fact_is_a_data_error():
    cond = parse({"compare": {"field": "x", "op": ">", "value": 1}})
    with pytest.raises(DataValidationError):
        evaluate(cond, {"x": "12"})
    with pytest.raises(DataValidationError):
        evaluate_frame(cond, pl.DataFrame({"x": ["12"]}))


def test_frame_type_mismatch_is_a_data_error():
    cond = parse({"in": {"field": "x", "values": [1, 2]}})
    with pytest.raises(DataValidationError) as info:
        evaluate_frame(cond, pl.DataFrame({"x": ["a", "b"]}))
    assert info.value.column == "x"
    cond = parse({"compare": {"field": "x", "op": "==", "value": "a"}})
    with pytest.raises(DataValidationError):
        evaluate_frame(cond, pl.DataFrame({"x": [1, 2]}))
    with pytest.raises(DataValidationError):
        evaluate(cond, {"x": 1})


def test_frame_missing_column_is_unknown_and_nan_is_unknown():
    cond = parse({"any": [{"compare": {"field": "x", "op": ">", "value": 1}},
                          {"compare": {"field": "y", "op": ">", "value": 1}}]})
    frame = pl.DataFrame({"x": [2.0, 0.0, float("nan"), None]})
    assert evaluate_frame(cond, frame).to_list() == [True, None, None, None]
    assert evaluate_frame(cond, frame.head(0)).to_list() == []


# ---------------------------------------------------------------- properties

truths = st.sampled_from(list(Truth))


@given(truths, truths, truths)
def test_kleene_laws(a, b, c):
    assert a & b is b & a and a | b is b | a
    assert (a & b) & c is a & (b & c) and (a | b) | c is a | (b | c)
    assert a & (b | c) is (a & b) | (a & c)
    assert ~(a & b) is ~a | ~b and ~(a | b) is ~a & ~b
    assert ~~a is a
    assert a & T is a and a | F is a and a & F is F and a | T is T
    assert a & (a | b) is a  # absorption
    # the order FALSE < UNKNOWN < TRUE: and is min, or is max
    assert (a & b).value == min(a.value, b.value) and (a | b).value == max(a.value, b.value)


FIELDS = ("a", "b", "c", "d")
leaves = st.builds(
    lambda f, op, v: {"compare": {"field": f, "op": op, "value": v}},
    st.sampled_from(FIELDS), st.sampled_from([">", ">=", "<", "<=", "==", "!="]), st.integers(-2, 2),
) | st.builds(lambda f: {"known": f}, st.sampled_from(FIELDS)) | st.builds(
    lambda f, vs: {"in": {"field": f, "values": vs}}, st.sampled_from(FIELDS),
    st.lists(st.integers(-2, 2), min_size=1, max_size=3))


def _extend(children):
    lists = st.lists(children, min_size=1, max_size=4)
    return (st.builds(lambda cs: {"all": cs}, lists) | st.builds(lambda cs: {"any": cs}, lists)
            | st.builds(lambda c: {"not": c}, children)
            | lists.flatmap(lambda cs: st.integers(0, len(cs)).map(lambda n: {"at_least": n, "of": cs})))


conditions = st.recursive(leaves, _extend, max_leaves=12)
fact_values = st.one_of(st.none(), st.integers(-3, 3))
fact_rows = st.fixed_dictionaries({f: fact_values for f in FIELDS})


@settings(max_examples=150, deadline=None)
@given(st.lists(conditions, min_size=1, max_size=5), fact_rows)
def test_at_least_agrees_with_any_and_all(children, facts):
    results = [evaluate(parse(c), facts) for c in children]
    one = evaluate(parse({"at_least": 1, "of": children}), facts)
    every = evaluate(parse({"at_least": len(children), "of": children}), facts)
    assert one is evaluate(parse({"any": children}), facts)
    assert every is evaluate(parse({"all": children}), facts)
    assert evaluate(parse({"at_least": 0, "of": children}), facts) is T
    # counting definition
    n_true = sum(r is T for r in results)
    n_unknown = sum(r is U for r in results)
    for n in range(len(children) + 1):
        got = evaluate(parse({"at_least": n, "of": children}), facts)
        assert got is (T if n_true >= n else F if n_true + n_unknown < n else U)


@settings(max_examples=150, deadline=None)
@given(conditions, st.lists(fact_rows, min_size=1, max_size=8))
def test_evaluate_frame_agrees_with_evaluate(data, rows):
    cond = parse(data)
    frame = pl.DataFrame(rows, schema={f: pl.Int64 for f in FIELDS})
    expected = [evaluate(cond, row).to_bool() for row in rows]
    assert evaluate_frame(cond, frame).to_list() == expected


value_leaves = st.builds(
    lambda f, op, v: {"compare": {"field": f, "op": op, "value": v}},
    st.sampled_from(FIELDS), st.sampled_from([">", ">=", "<", "<=", "==", "!="]), st.integers(-2, 2),
) | st.builds(lambda f, vs: {"in": {"field": f, "values": vs}}, st.sampled_from(FIELDS),
              st.lists(st.integers(-2, 2), min_size=1, max_size=3))
value_conditions = st.recursive(value_leaves, _extend, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(value_conditions, fact_rows, st.fixed_dictionaries({f: st.integers(-3, 3) for f in FIELDS}))
def test_a_decided_result_never_changes_when_unknown_facts_become_known(data, facts, fill):
    """Kleene monotonicity: UNKNOWN only stands for 'could be either', so a missing fact cannot
    make a condition pass or fail that its value would decide otherwise. (`known` is left out:
    its truth is about presence itself.)"""
    cond = parse(data)
    partial = evaluate(cond, facts)
    complete = evaluate(cond, {f: (fill[f] if v is None else v) for f, v in facts.items()})
    assert complete is not U
    if partial is not U:
        assert complete is partial


def test_parsed_nodes_are_typed():
    cond = parse({"compare": {"field": "x", "op": ">", "value": 2, "times": 1.5}})
    assert isinstance(cond, Compare) and cond.times == 1.5 and not math.isnan(cond.value)
