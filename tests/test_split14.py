"""Session 14's module splits and shared helpers (branch split14).

* `boligmix.errors.FirstRowError` (one helper for `lists.csvio` and `plan.csvread`, which each
  kept the first bad row themselves) against a brute-force oracle: the smallest row, ties to the
  problem kept first.
* The public names of the split modules (`letting.engine`, `web.app`) still import from there.
"""

from __future__ import annotations

import os

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.errors import DataValidationError, FirstRowError
from boligmix.lists.csvio import _FirstError
from boligmix.plan.csvread import TextTable

PROBLEMS = st.lists(st.tuples(st.integers(min_value=-3, max_value=2**62), st.sampled_from(["a", "b", "year"]),
                              st.text(max_size=8)), max_size=30)


def _oracle(problems: list[tuple[int, str, str]]) -> tuple[int, str, str] | None:
    """The problem at the smallest row; among equal rows the first one given."""
    if not problems:
        return None
    smallest = min(row for row, _, _ in problems)
    return next(p for p in problems if p[0] == smallest)


def _raised(errors: FirstRowError | TextTable) -> tuple[int | None, str | None, str] | None:
    try:
        errors.raise_if_any()
    except DataValidationError as exc:
        assert exc.path == "f.csv"
        return exc.row, exc.column, exc.reason
    return None


@settings(max_examples=300, deadline=None)
@given(PROBLEMS)
def test_first_row_error_keeps_the_smallest_row_and_the_first_of_ties(problems):
    errors = FirstRowError("f.csv")
    for row, column, message in problems:
        errors.keep(row, column, message)
    assert _raised(errors) == _oracle(problems)


@settings(max_examples=200, deadline=None)
@given(PROBLEMS.map(lambda ps: [(abs(r) % 50, c, m) for r, c, m in ps]))
def test_text_table_reports_the_first_bad_row_one_based(problems):
    table = TextTable("f.csv", {"a": []}, 0)
    for row, column, message in problems:
        table.fail(row, column, message)  # 0-based, as the readers call it
    expected = _oracle([(r + 1, c, m) for r, c, m in problems])
    assert _raised(table) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.booleans()), min_size=0, max_size=12), max_size=6))
def test_csvio_masks_report_each_checks_first_true_row(masks):
    errors = _FirstError("f.csv")
    problems = []
    for k, mask in enumerate(masks):
        errors.add(pl.Series(mask, dtype=pl.Boolean), f"c{k}", f"check {k}")
        first = next((i for i, v in enumerate(mask) if v), None)
        if first is not None:
            problems.append((first + 1, f"c{k}", f"check {k}"))
    assert _raised(errors) == _oracle(problems)


def test_edge_cases():
    assert _raised(FirstRowError("f.csv")) is None                 # nothing kept: no error
    one = FirstRowError("f.csv")
    one.keep(7, "a", "bad")
    with pytest.raises(DataValidationError, match=r"f.csv, row 7, column 'a': bad"):
        one.raise_if_any()


def test_split_modules_keep_their_public_names():
    from boligmix.letting import candidate_selection, engine
    from boligmix.web import app

    for name in ("LettingEngine", "LettingContext", "unused_referral_release", "plan_offers", "policy_facts",
                 "LIST_TYPES_BY_CHANNEL", "ENTITLEMENT_RIGHT", "referral_order_key", "Assessment"):
        assert hasattr(engine, name), name
    assert engine.LettingContext is candidate_selection.LettingContext
    assert issubclass(engine.LettingEngine, candidate_selection.CandidateSelector)
    for name in ("DB_ENV", "FAST_PATH_ENV", "POLICIES_ENV", "RULES_ENV", "THREADS_ENV", "create_app",
                 "create_app_from_env", "make_rules"):
        assert hasattr(app, name), name


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_decision_log_is_written_atomically_with_the_usual_permissions(tmp_path, monkeypatch, suffix):
    """`write_decision_log` through `report._files.atomic_path` (it did the same steps itself): the
    file appears whole with mode 0666 less the umask, the temporary sibling ends in the log's
    suffix, and a failed write leaves the old file and no temporary one."""
    from boligmix.letting import decision_log
    from boligmix.letting.decision_log import write_decision_log

    target = tmp_path / "sub" / f"log{suffix}"
    assert write_decision_log(target, []) == target
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    before = target.read_bytes()
    made = []

    def failing_json(*args, **kwargs):  # the write fails part-way, after the temporary file exists
        made.extend(p.name for p in target.parent.iterdir() if p != target)
        raise OSError("disk full")
    monkeypatch.setattr(decision_log, "decision_to_record", lambda d: d)
    monkeypatch.setattr(decision_log.json, "dumps", failing_json)
    with pytest.raises(OSError, match="disk full"):
        write_decision_log(target, [{"facts": {}}])
    assert len(made) == 1 and made[0].startswith(f".{target.name}.") and made[0].endswith(suffix)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
