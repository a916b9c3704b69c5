"""Where almen seekers apply (`rates.AreaChoice`) and who the municipality refers: hand-computed
shrunk shares on a hand-made history, and the referral of immigrant households by their donor's
arrival-year attachment."""

import numpy as np
import polars as pl
import pytest

from boligmix.simulate.applicants import ApplicantFactory, Seekers
from boligmix.simulate.destination import estimate_area_choice
from boligmix.simulate.rates import PRIOR_WEIGHT


def _shrunk(counts, parent):
    counts = np.asarray(counts, float)
    return (counts + PRIOR_WEIGHT * np.asarray(parent, float)) / (counts.sum() + PRIOR_WEIGHT)


def test_area_choice_is_the_history_shrunk_towards_origin_all_movers_and_the_stock():
    # municipality 101: 2 almen dwellings outside any area, 6 in A, 2 in B; municipality 202: only C
    stock = pl.DataFrame({"municipality": [101] * 10 + [202],
                          "area_id": [None, None, *["A"] * 6, "B", "B", "C"]}, schema={"municipality": pl.Int64,
                                                                                      "area_id": pl.String})
    moves = pl.DataFrame({"nonwestern": [1] * 10 + [0] * 5 + [1] * 3, "basic": [1] * 10 + [0] * 5 + [1] * 3,
                          "municipality": [101] * 15 + [999] * 3,       # moves into an unknown municipality: ignored
                          "area_id": ["A"] * 10 + ["B"] * 5 + ["A"] * 3})
    choice = estimate_area_choice(moves, stock, PRIOR_WEIGHT)
    prior = np.array([2, 6, 2]) / 10                                    # None, A, B
    pooled = _shrunk([0, 10, 5], prior)
    western, nonwestern = _shrunk([0, 0, 5], pooled), _shrunk([0, 10, 0], pooled)
    expected = {(1, 1): _shrunk([0, 10, 0], nonwestern), (1, 0): nonwestern,
                (0, 0): _shrunk([0, 0, 5], western), (0, 1): western}
    for (g, b), p in expected.items():
        areas, cum = choice.choices[(g, b, 101)]
        assert areas == [None, "A", "B"]
        assert np.allclose(np.diff(cum, prepend=0.0), p / p.sum())
    assert choice.choices[(1, 1, 202)][0] == ["C"]
    # draws by inverse CDF; a municipality without almen stock has no area
    areas, cum = choice.choices[(1, 1, 101)]
    for u in np.linspace(0.001, 0.999, 37):
        assert choice.draw(1, 1, 101, float(u)) == areas[int(np.searchsorted(cum, u, side="right"))]
    assert choice.draw(1, 1, 999, 0.5) is None
    frame = choice.frame()
    assert frame.group_by("nonwestern", "basic", "municipality").agg(pl.col("probability").sum())[
        "probability"].to_list() == pytest.approx([1.0] * 8)


@pytest.mark.parametrize("outside_fte, referred", [([0.0, 0.4], False), ([0.0, 0.5], True), ([1.0], True)])
def test_an_immigrant_household_is_referred_when_its_donor_arrived_on_an_outside_attachment(outside_fte, referred):
    factory = ApplicantFactory.__new__(ApplicantFactory)
    factory._urgent = {}
    seekers = Seekers()
    members = np.arange(len(outside_fte), dtype=np.int64) + 1
    seekers.add(7, "immigrant", 3, True, 101, None, members, {"outside_fte": np.array(outside_fte)})
    assert factory.urgent(7, seekers) is referred
