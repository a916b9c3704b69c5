"""Area deprivation profiles: what each synthetic boligområde should look like, year by year.

Every area has a latent deprivation index D(Y) = base + shift(Y) * max(base - PIVOT, 0) + trend * (Y - 2004) and a
non-Western share W(Y). The criterion values of the official lists are fixed functions of D
plus an area-specific deviation per criterion, so areas differ in *which* criteria they meet.
`shift(Y)` is common to all areas and solved per list year so that the profile-level count of
the year's main list (ghetto before 2018, udsat from 2018) is as close as possible to the
published count in `targets.yaml`.

The simulation then realises these profiles in person-level data (see `outcomes.py`); the
classification here is a compact profile-level check used only for design and calibration, not
the official rules implementation (`boligmix.lists`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boligmix.data.synth.targets import Targets

NATIONAL_CONVICTED_RATE = 0.0075
"""Design value of the national share of persons 18+ convicted in a year (rules-spec 1.4 implies ~0.725 %)."""

BASE_YEAR = 2004
PIVOT = 0.6
"""Areas less deprived than this do not share the common yearly shift (the lists shrank from the top)."""
SHIFT_GRID = np.round(np.linspace(-2.0, 1.0, 601), 4)


@dataclass
class AreaProfiles:
    """Profile parameters of n areas and the solved yearly shift."""

    base: np.ndarray
    trend: np.ndarray
    dev_outside: np.ndarray
    dev_crime: np.ndarray
    dev_edu: np.ndarray
    dev_income: np.ndarray
    nw_base: np.ndarray
    nw_trend: np.ndarray
    shift: dict[int, float]

    @property
    def n(self) -> int:
        return len(self.base)

    def subset(self, index: np.ndarray) -> "AreaProfiles":
        """Profiles of the selected areas (the shift stays the national one)."""
        fields = ("base", "trend", "dev_outside", "dev_crime", "dev_edu", "dev_income", "nw_base", "nw_trend")
        return AreaProfiles(**{f: getattr(self, f)[index] for f in fields}, shift=dict(self.shift))

    def shift_for(self, year: int) -> float:
        years = sorted(self.shift)
        if not years:
            return 0.0
        return self.shift[min(max(year, years[0]), years[-1])]

    def deprivation(self, year: int) -> np.ndarray:
        return self.base + self.shift_for(year) * np.maximum(self.base - PIVOT, 0.0) + self.trend * (year - BASE_YEAR)

    def values(self, year: int) -> dict[str, np.ndarray]:
        """Criterion values the areas should show for list year `year`."""
        return criterion_values(self, year, self.shift_for(year))


def criterion_values(p: AreaProfiles, year: int, shift: float | np.ndarray) -> dict[str, np.ndarray]:
    """Criterion values for a shift (a scalar, or a column of shifts giving one row per shift)."""
    d = p.base + shift * np.maximum(p.base - PIVOT, 0.0) + p.trend * (year - BASE_YEAR)
    nw = np.clip(p.nw_base + p.nw_trend * (year - BASE_YEAR), 0.01, 0.92) + np.zeros_like(d)
    return {
        "deprivation": d,
        "nonwestern": nw,
        "outside": np.clip(0.12 + 0.27 * d + p.dev_outside, 0.03, 0.80),
        "crime_mult": np.clip(0.90 + 2.00 * d + p.dev_crime, 0.20, 12.0),
        "low_edu": np.clip(0.22 + 0.30 * d + 0.30 * nw + p.dev_edu, 0.05, 0.95),
        "income_ratio": np.clip(0.95 - 0.35 * d + p.dev_income, 0.25, 1.5),
    }


def classify(values: dict[str, np.ndarray], rules: str) -> dict[str, np.ndarray]:
    """Profile-level list membership (boolean per area) under one rule version."""
    nw, out, crime = values["nonwestern"], values["outside"], values["crime_mult"]
    edu, inc = values["low_edu"], values["income_ratio"]
    if rules == "2010":
        met = (nw > 0.5).astype(int) + (out > 0.4) + (crime * NATIONAL_CONVICTED_RATE > 0.027)
        return {"ghetto": met >= 2}
    if rules == "2013":
        met = ((nw > 0.5).astype(int) + (out > 0.4) + (crime * NATIONAL_CONVICTED_RATE > 0.027)
               + (edu - 0.02 > 0.5) + (inc < 0.55))
        return {"ghetto": met >= 3}
    udsat = ((out > 0.4).astype(int) + (crime >= 3) + (edu > 0.6) + (inc < 0.55)) >= 2
    result = {"udsat": udsat, "ghetto": udsat & (nw > 0.5)}
    if rules == "2021":
        low = ((out > 0.3).astype(int) + (crime >= 2) + (edu > 0.6) + (inc < 0.65)) >= 2
        result["forebyggelse"] = (nw > 0.3) & low & ~udsat
    return result


def memberships(p: AreaProfiles, targets: Targets) -> dict[int, dict[str, np.ndarray]]:
    """Profile-level list membership per list year (boolean per area), incl. hårde/omdannelse.

    Hårde (2018-2020, transitional 5 years) and omdannelse (2021 on, 5 years) require ghetto /
    parallelsamfund status in each of the latest 5 list years.
    """
    history: dict[int, np.ndarray] = {}
    result: dict[int, dict[str, np.ndarray]] = {}
    for year, target in sorted(targets.lists.items()):
        member = classify(p.values(year), target.rules)
        history[year] = member["ghetto"]
        if year >= 2018:
            past = [history.get(y) for y in range(year - 4, year + 1)]
            if all(h is not None for h in past):
                member["haardt"] = np.logical_and.reduce(past)
        result[year] = member
    return result


def count_lists(p: AreaProfiles, targets: Targets) -> dict[int, dict[str, int]]:
    """Profile-level counts per list year."""
    return {y: {k: int(v.sum()) for k, v in m.items()} for y, m in memberships(p, targets).items()}


def design_profiles(rng: np.random.Generator, n: int, targets: Targets) -> AreaProfiles:
    """Draw n area profiles and solve the yearly shift against the published main-list counts."""
    u = rng.random(n)
    base = 0.05 + 1.2 * u**0.9
    trend = rng.normal(0.0, 0.012, n)
    nw_base = np.clip(0.25 + 0.2 * base + rng.normal(0.0, 0.12, n), 0.01, 0.85)
    nw_trend = np.clip(0.005 + rng.normal(0.0, 0.003, n), -0.004, 0.02)
    profiles = AreaProfiles(
        base=base, trend=trend,
        dev_outside=rng.normal(0.0, 0.03, n), dev_crime=rng.normal(0.0, 0.3, n),
        dev_edu=rng.normal(0.0, 0.03, n), dev_income=rng.normal(0.0, 0.03, n),
        nw_base=nw_base, nw_trend=nw_trend, shift={},
    )
    solve_shift(profiles, targets, scale_factor=n / targets.value("population", "areas_1000_plus"))
    return profiles


def solve_shift(p: AreaProfiles, targets: Targets, scale_factor: float = 1.0) -> None:
    """Per list year, the shift whose main-list count is closest to the (scaled) target."""
    previous = 0.0
    grid = SHIFT_GRID[:, None]
    for year, target in sorted(targets.lists.items()):
        goal = target.get(target.main_key) * scale_factor
        counts = classify(criterion_values(p, year, grid), target.rules)[target.main_key].sum(axis=1)
        err = np.abs(counts - goal) + 0.05 * np.abs(SHIFT_GRID - previous)
        previous = float(SHIFT_GRID[int(np.argmin(err))])
        p.shift[year] = previous
