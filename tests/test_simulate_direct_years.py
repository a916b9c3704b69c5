"""Whole replications with the screened winners decided from the pools' columns (or the referral
and rehousing lists: `WindowScreen.referrals`) and let directly and with the engine letting the
winners the screen finds on the window's applicants
(`Market(direct=False)`, the oracle) give the same `areas` and `lettings` tables, over several
years, seeds and scenarios (kombineret udlejning, fleksibel udlejning; the baseline's size rule
lapses without a taker)."""

import functools

import pytest
from polars.testing import assert_frame_equal

from simulate_support import START, shared

from boligmix.simulate import replication
from boligmix.simulate.market import Market
from boligmix.simulate.scenario import load_scenario


class _Counted(Market):
    """The market, counting the rounds its screen decided from the pools' columns and on the row path."""

    counts: dict = {}

    def run(self, seekers):
        result = super().run(seekers)
        columns = self.almen.columns
        if columns is not None:
            for name, value in (("columns", columns.screened), ("row path", columns.row_path),
                                ("referred", self.almen.screen.referred), ("direct", self.almen.direct_lettings)):
                _Counted.counts[name] = _Counted.counts.get(name, 0) + value
        return result


def _both(monkeypatch, sh, scenario: str, rep: int) -> tuple[dict, dict]:
    runs = {}
    _Counted.counts = {}
    for direct in (True, False):
        monkeypatch.setattr(replication, "Market", functools.partial(_Counted, direct=direct))
        runs[direct] = replication.run_replication(sh, rep, load_scenario(scenario), check_rules=True)
    return runs[True], runs[False]


@pytest.mark.parametrize("scenario,years,rep", [("baseline", 2, 0), ("kombineret_udsat", 1, 1),
                                                ("fleksibel_half", 1, 2)])
def test_direct_lettings_leave_the_replication_unchanged(monkeypatch, scenario, years, rep):
    sh = shared(START, years, 3)
    fast, slow = _both(monkeypatch, sh, scenario, rep)
    counts = _Counted.counts    # the direct run decided its screened rounds from the columns (or the referral lists)
    assert counts["columns"] + counts["referred"] >= counts["direct"] > fast["lettings"].height // 2, counts
    assert counts["columns"] > counts["referred"] > 0, counts
    assert fast["lettings"].height > 50 and fast["checked_lettings"] == fast["lettings"].height
    assert_frame_equal(fast["lettings"], slow["lettings"])
    assert_frame_equal(fast["areas"], slow["areas"])
    assert fast["events"] == slow["events"]
