"""The register outcomes' leaner kernels (less memory at national scale) equal the code they
replaced, on random inputs: the education states coded by small integers per column against the
left join on the two string columns (nulls equal, values of no state, repeated states)."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.register_outcomes import education_state_codes

LEVELS = [None, "grundskole", "gymnasial", "erhvervsfaglig", "videregående", "ukendt"]
SOURCES = [None, "register", "imputeret", "x"]


def _joined(person_years: pl.DataFrame, states: pl.DataFrame) -> np.ndarray:
    """The code `education_state_codes` replaced."""
    return (person_years.select("highest_education", "education_source")
            .join(states, on=["highest_education", "education_source"], how="left", nulls_equal=True,
                  maintain_order="left")["state"].fill_null(-1).to_numpy())


pair = st.tuples(st.sampled_from(LEVELS), st.sampled_from(SOURCES))


@settings(max_examples=200, deadline=None)
@given(st.lists(pair, max_size=12), st.lists(pair, max_size=60), st.booleans())
def test_education_state_codes_equal_the_join_on_the_string_columns(state_pairs, rows, unique):
    if unique:
        state_pairs = list(dict.fromkeys(state_pairs))
    states = pl.DataFrame({"highest_education": [s[0] for s in state_pairs],
                           "education_source": [s[1] for s in state_pairs],
                           "state": np.arange(len(state_pairs), dtype=np.int64)},
                          schema={"highest_education": pl.String, "education_source": pl.String, "state": pl.Int64})
    person_years = pl.DataFrame({"person_id": np.arange(len(rows), dtype=np.int64),
                                 "highest_education": [r[0] for r in rows], "education_source": [r[1] for r in rows]},
                                schema={"person_id": pl.Int64, "highest_education": pl.String,
                                        "education_source": pl.String})
    got = education_state_codes(person_years, states)
    assert got.dtype == np.int64     # repeated states: the same join (its rows then are not one per person)
    assert np.array_equal(got, _joined(person_years, states))


def test_education_state_codes_by_hand():
    states = pl.DataFrame({"highest_education": ["a", "a", None, "b"], "education_source": ["r", None, "r", "r"],
                           "state": [0, 1, 2, 3]})
    person_years = pl.DataFrame({"highest_education": ["a", "a", None, "b", "b", "c", None, "a"],
                                 "education_source": ["r", None, "r", "r", None, "r", None, "q"]})
    assert education_state_codes(person_years, states).tolist() == [0, 1, 2, 3, -1, -1, -1, -1]
