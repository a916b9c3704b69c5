"""The one parser of `--years` (`boligmix.years`) that synth, demo, run, lists, mix and evaluate share."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import ConfigurationError
from boligmix.years import year_list, year_span


def test_span_and_list_by_hand():
    assert year_span("2004-2024") == (2004, 2024) and year_span(" 2010 - 2012 ") == (2010, 2012)
    assert year_list("2020,2018-2019") == [2018, 2019, 2020] and year_list("2010") == [2010]
    for bad in ("2012-2010", "2010", "10-12", "2010-20x2", "2010,2012"):
        with pytest.raises(ConfigurationError):
            year_span(bad)
    for bad in ("2021-2018", "20x0", "", "2010-abc"):
        with pytest.raises(ConfigurationError):
            year_list(bad)


@given(st.lists(st.tuples(st.integers(1990, 2040), st.integers(0, 5)), min_size=1, max_size=4))
def test_list_is_the_union_of_its_parts(parts):
    text = ",".join(f"{a}-{a + n}" if n else str(a) for a, n in parts)
    assert year_list(text) == sorted({y for a, n in parts for y in range(a, a + n + 1)})


@pytest.mark.parametrize("command", [["demo", "--out", "x"], ["run", "--data", "d", "--out", "x"],
                                     ["synth", "--out", "x"]])
def test_commands_refuse_a_reversed_span_with_exit_2(tmp_path, command):
    args = [str(tmp_path / a) if a in ("x", "d") else a for a in command]
    result = CliRunner().invoke(app, [*args, "--years", "2024-2004"])
    assert result.exit_code == 2 and "first year is after the last" in " ".join(result.output.split())
    assert not (tmp_path / "x").exists()
