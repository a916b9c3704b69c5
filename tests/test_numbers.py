"""`boligmix.numbers`: the one number formatter, against hand-computed cases (Danish first)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from boligmix.numbers import fmt_number, fmt_percent, fmt_spec

SRC = Path(__file__).resolve().parents[1] / "src" / "boligmix"

# (value, digits, Danish, English), each worked out by hand
NUMBERS = [
    (0, 0, "0", "0"),
    (7, 0, "7", "7"),
    (999, 0, "999", "999"),
    (1437, 0, "1.437", "1,437"),
    (-1437, 0, "-1.437", "-1,437"),
    (1437.5, 1, "1.437,5", "1,437.5"),
    (1234567.891, 2, "1.234.567,89", "1,234,567.89"),
    (-1234567.891, 2, "-1.234.567,89", "-1,234,567.89"),
    (5_900_000_000, 0, "5.900.000.000", "5,900,000,000"),
    (12_345_678_901_234.5, 1, "12.345.678.901.234,5", "12,345,678,901,234.5"),
    (0.5, 1, "0,5", "0.5"),
    (33, 1, "33,0", "33.0"),
    # rounding: half away from zero on the number as written, not on its binary approximation
    (2.5, 0, "3", "3"),
    (-2.5, 0, "-3", "-3"),
    (0.125, 2, "0,13", "0.13"),
    (1.005, 2, "1,01", "1.01"),
    (81.25, 1, "81,3", "81.3"),
    (999.96, 1, "1.000,0", "1,000.0"),
    (1436.6, 0, "1.437", "1,437"),
    # a value that rounds to zero has no sign
    (-0.04, 1, "0,0", "0.0"),
    (-0.0, 2, "0,00", "0.00"),
    # digits=None: as many decimals as the number has
    (2.7, None, "2,7", "2.7"),
    (1000.0, None, "1.000", "1,000"),
    (0.0275, None, "0,0275", "0.0275"),
]


@pytest.mark.parametrize(("value", "digits", "da", "en"), NUMBERS)
def test_numbers(value, digits, da, en):
    assert fmt_number(value, digits, "da") == da
    assert fmt_number(value, digits, "en") == en


@pytest.mark.parametrize("value", [None, math.nan, np.nan, np.float64("nan")])
def test_missing_values_show_the_marker(value):
    assert fmt_number(value, 1, "da") == ""
    assert fmt_number(value, 1, "da", missing="·") == "·"
    assert fmt_percent(value, 1, "da", missing="–") == "–"
    assert fmt_spec(value, ",.1f", "en", missing="–") == "–"


def test_numpy_and_infinite_values():
    assert fmt_number(np.int64(1_234_567), 0, "da") == "1.234.567"
    assert fmt_number(np.float64(1234.25), 1, "da") == "1.234,3"
    assert fmt_number(np.float32(0.5), 1, "en") == "0.5"
    assert fmt_number(math.inf, 1, "da") == "∞" and fmt_number(-math.inf, 0, "en") == "-∞"


def test_without_thousands_and_signed():
    assert fmt_number(1234.5, 1, "da", thousands=False) == "1234,5"
    assert fmt_number(3, 2, "da", signed=True) == "+3,00"
    assert fmt_number(-3, 2, "da", signed=True) == "-3,00"
    assert fmt_number(-0.001, 2, "da", signed=True) == "+0,00"
    assert fmt_number(1400, 2, "da", signed=True) == "+1.400,00"


PERCENTS = [  # (value, digits, ratio, Danish, English)
    (33, 1, False, "33,0 %", "33.0%"),
    (33.04, 1, False, "33,0 %", "33.0%"),
    (0.33, 1, True, "33,0 %", "33.0%"),
    (0.145, 0, True, "15 %", "15%"),  # 14,5 -> 15 (the float 0.145 * 100 is 14.499999999999998)
    (0.8125, 1, True, "81,3 %", "81.3%"),
    (0.03125, 1, True, "3,1 %", "3.1%"),
    (-0.0125, 1, True, "-1,3 %", "-1.3%"),
    (12.5, 0, True, "1.250 %", "1,250%"),
    (0, 1, True, "0,0 %", "0.0%"),
]


@pytest.mark.parametrize(("value", "digits", "ratio", "da", "en"), PERCENTS)
def test_percent(value, digits, ratio, da, en):
    assert fmt_percent(value, digits, "da", ratio=ratio) == da
    assert fmt_percent(value, digits, "en", ratio=ratio) == en


SPECS = [  # (value, spec, Danish, English): the table format specs of the reports
    (1437.25, ",.1f", "1.437,3", "1,437.3"),
    (1437.25, ".1f", "1437,3", "1437.3"),
    (0.3333, ".1%", "33,3 %", "33.3%"),
    (1437, "d", "1437", "1437"),
    (2024, None, "2024", "2024"),  # an integer without a spec (years) has no separator
    (1437, ",d", "1.437", "1,437"),
    (1234.56789, None, "1.234,568", "1,234.568"),
    (-0.012345, "+.4f", "-0,0123", "-0.0123"),
    (0.012345, "+.4f", "+0,0123", "+0.0123"),
    (5.0, ",.0f", "5", "5"),
]


@pytest.mark.parametrize(("value", "spec", "da", "en"), SPECS)
def test_table_specs(value, spec, da, en):
    assert fmt_spec(value, spec, "da") == da
    assert fmt_spec(value, spec, "en") == en


def test_an_unknown_spec_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        fmt_spec(1.0, "e", "da")


def test_no_other_module_swaps_separators_itself():
    """The one formatter: no module outside boligmix.numbers turns '.' into ',' (or back) in its
    output. Reading Danish input (what a user wrote, polars `.str.replace`) is parsing, not formatting;
    the dashboard's CSV downloads write plain numbers (six significant digits, no thousands separator)."""
    parsers = {"evaluate/registry.py", "web/dashboard/downloads.py"}
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "numbers.py" or rel in parsers:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
                    and not (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "str")
                    and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in (".", ",")):
                into = {n.value for n in ast.walk(node.args[1]) if isinstance(n, ast.Constant)}
                if into & ({".", ",", "\0"} - {node.args[0].value}):
                    offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
