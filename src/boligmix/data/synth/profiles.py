"""Area deprivation profiles: what each synthetic boligområde should look like, year by year.

Every area has a latent deprivation index D(Y) = base + shift(Y) * max(base - PIVOT, 0)
+ low_shift(Y) * middle_band(base) + trend * (Y - 2004) and a non-Western share W(Y). The criterion values of the official lists are fixed functions of D
plus an area-specific deviation per criterion, so areas differ in *which* criteria they meet.
`shift(Y)` is common to all areas and solved per list year so that the profile-level count of
the year's main list (ghetto before 2018, udsat from 2018) is as close as possible to the
published count in `targets.yaml`; from 2021 `low_shift(Y)`, which moves the whole middle band
of areas, is solved with it so that the forebyggelse count is matched as well.

The simulation then realises these profiles in person-level data (see `outcomes.py`): the
outside-work, conviction and income criteria exactly (area offsets), the non-Western share and the
basic-education share only approximately (they emerge from who moves where). `measured_values`
is an emulator of what the official indicators will show for a profile: the averaging windows of
the rules, and the realisation of the non-Western and education shares measured on a national run
(`REALISATION`, with the area-level noise as persistent standard-normal draws). The shift is solved
against the emulator's expected counts over `NOISE_REPLICATES` noise draws. The profile-level
classification (`classify`, `memberships`) reads categories, criteria and thresholds from the rule
files (`boligmix.rules.area_lists`) and evaluates them with the rules' array evaluator
(`boligmix.rules.arrays`): a changed rule file changes the design; no threshold is copied here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from boligmix.data.synth.targets import Targets
from boligmix.rules.area_lists import RuleSet, category_condition, load_ruleset
from boligmix.rules.arrays import holds

NATIONAL_CONVICTED_RATE = 0.0075
"""Design value of the national share of persons 18+ convicted in a year (rules-spec 1.4 implies ~0.725 %)."""

BASE_YEAR = 2004
PIVOT = 0.6
POLICY_YEAR = 2018
"""Areas less deprived than this do not share the common yearly shift (the lists shrank from the top)."""
SHIFT_GRID = np.round(np.linspace(-2.0, 1.0, 601), 4)
LOW_SHIFT_GRID = np.round(np.linspace(-1.0, 0.5, 301), 4)
NOISE_REPLICATES = 24
"""Draws of the realisation noise the expected profile-level counts average over."""


@dataclass(frozen=True)
class Realisation:
    """How the person-level simulation realises a profile, measured on a national run.

    Fitted by least squares over areas x list years on the national dataset of seed 1 written
    with the design of the previous iteration (official
    indicators from `boligmix.indicators`; `benchmarks/refit_realisation.py`, see docs/synthetic-data.md
    "Calibration method").
    `nw`: measured non-Western share = nw[0] + nw[1] * designed share + nw[2] * base
    + nw[3] * (Y - 2004) + nw[4] * the designed post-2018 decline (`Design.nw_policy`; the fitted
    part of it is realised: 30 % on synthetic-v2, none on synthetic-v3), plus a persistent area deviation of sd
    nw_sd[0] + nw_sd[1] * (Y - 2004). `edu_*`: measured basic-
    education share (the 2013-2017 measure counting uoplyst, and the 2018+ Danish-registered-only
    measure) = c . (1, base, trend * (Y - 2004), shift part of D, designed NW, measured NW) plus a
    persistent area deviation of sd edu_sd. `convicted_rate`: the measured national share of
    persons 18+ convicted in a year in the list years of the 2013 rules (the fixed 2.7 % threshold
    of the 2010 and 2013 rules is compared with multiple x this rate), `convicted_rate_2010` the
    same in the list years of the 2010 rules (4-year windows reaching back to 2006, when the
    national share was higher); see `rate_for`.
    """

    nw: tuple[float, ...] = (-0.0047, 1.0857, -0.0306, 0.0053, -0.0489)
    nw_sd: tuple[float, float] = (0.0654, -0.0009)
    edu_2013: tuple[float, ...] = (0.1892, 0.3756, 0.1520, 0.1095, -0.7205, 0.6833)
    edu_2013_sd: float = 0.0502
    edu_2018: tuple[float, ...] = (0.2716, 0.1639, 0.0742, 0.1162, -0.4928, 0.8531)
    edu_2018_sd: float = 0.0306
    convicted_rate: float = 0.0094
    convicted_rate_2010: float = 0.0098
    crime_sd: float = 0.155
    """Sampling noise of the conviction multiple: sd = crime_sd * sqrt(multiple), new each list year."""
    outside_sd: float = 0.006
    """Sampling noise of the outside-work share, new each list year."""

    def rate_for(self, rules: str) -> float:
        """The national conviction share the fixed threshold of rule version `rules` is compared with."""
        return self.convicted_rate_2010 if rules == "2010" else self.convicted_rate


REALISATION = Realisation()


@dataclass(frozen=True)
class Design:
    """Global parameters of the area design (`design_profiles`), chosen with `tune_design`-style
    searches against the emulator's expected counts (docs/synthetic-data.md)."""

    base_min: float = 0.05
    base_scale: float = 1.2
    base_power: float = 1.2
    """base = base_min + base_scale * u ** base_power, u uniform: the spread of areas in deprivation."""
    nw_intercept: float = 0.30
    nw_slope: float = 0.15
    nw_sd: float = 0.10
    """Designed non-Western share in 2004: nw_intercept + nw_slope * base + N(0, nw_sd)."""
    trend_sd: float = 0.012
    nw_policy: float = 0.045
    """From list year POLICY_YEAR + 1 on, the designed non-Western share of an area falls by
    nw_policy * max(base - PIVOT, 0) a year (udviklingsplaner: rehousing, sales, new private
    dwellings in the most deprived areas after the 2018 parallelsamfund package)."""


DESIGN = Design()


@dataclass
class AreaProfiles:
    """Profile parameters of n areas, the solved yearly shift and the realisation noise draws."""

    base: np.ndarray
    trend: np.ndarray
    dev_outside: np.ndarray
    dev_crime: np.ndarray
    dev_income: np.ndarray
    nw_base: np.ndarray
    nw_trend: np.ndarray
    shift: dict[int, float]
    low_shift: dict[int, float] = field(default_factory=dict)
    """Per list year (2021 on) the shift of the middle band solved against the forebyggelse count."""
    noise_nw: np.ndarray | None = None
    """(replicates, n) standard-normal draws of the non-Western realisation deviation."""
    noise_edu: np.ndarray | None = None
    nw_policy: float = 0.0
    """See `Design.nw_policy`."""
    noise_year: dict[int, np.ndarray] | None = None
    """Per list year (2, replicates, n) draws of the conviction and outside-work sampling noise."""

    @property
    def n(self) -> int:
        return len(self.base)

    def subset(self, index: np.ndarray) -> "AreaProfiles":
        """Profiles of the selected areas (the shift stays the national one)."""
        fields = ("base", "trend", "dev_outside", "dev_crime", "dev_income", "nw_base", "nw_trend")
        noise = {k: (None if getattr(self, k) is None else getattr(self, k)[:, index])
                 for k in ("noise_nw", "noise_edu")}
        noise_year = None if self.noise_year is None else {y: v[:, :, index] for y, v in self.noise_year.items()}
        return AreaProfiles(**{f: getattr(self, f)[index] for f in fields}, shift=dict(self.shift),
                            low_shift=dict(self.low_shift), nw_policy=self.nw_policy, noise_year=noise_year, **noise)

    def noise(self, year: int) -> dict[str, np.ndarray | float]:
        """The realisation noise draws of list year `year` for `measured_values` (zero if none)."""
        if self.noise_nw is None or self.noise_year is None or self.noise_edu is None:
            return {}
        crime, outside = self.noise_year[year]
        return {"noise_nw": self.noise_nw, "noise_edu": self.noise_edu, "noise_crime": crime,
                "noise_outside": outside}

    def shift_for(self, year: int) -> float:
        years = sorted(self.shift)
        if not years:
            return 0.0
        return self.shift[min(max(year, years[0]), years[-1])]

    def low_shift_for(self, year: int) -> float:
        """The middle-band shift of `year`: 0 before the first solved year, the last one after."""
        years = sorted(self.low_shift)
        if not years or year < years[0]:
            return 0.0
        return self.low_shift[min(year, years[-1])]

    def deprivation(self, year: int) -> np.ndarray:
        return criterion_values(self, year, self.shift_for(year), self.low_shift_for(year))["deprivation"]

    def values(self, year: int) -> dict[str, np.ndarray]:
        """Criterion values the areas should show for list year `year`."""
        return criterion_values(self, year, self.shift_for(year), self.low_shift_for(year))


def middle_band(base: np.ndarray) -> np.ndarray:
    """Weight of the middle-band shift: a tent rising to PIVOT at base = PIVOT and back to 0 at
    2 * PIVOT, so the forebyggelse band moves while the most deprived (udsat) areas barely do."""
    return np.clip(np.minimum(base, 2 * PIVOT - base), 0.0, None)


def criterion_values(p: AreaProfiles, year: int, shift: float | np.ndarray,
                     low_shift: float | np.ndarray = 0.0) -> dict[str, np.ndarray]:
    """Designed criterion values for shifts (scalars, or arrays broadcasting against the areas)."""
    shift_part = shift * np.maximum(p.base - PIVOT, 0.0) + low_shift * middle_band(p.base)
    d = p.base + shift_part + p.trend * (year - BASE_YEAR)
    policy = nw_decline(p, year)
    nw = np.clip(p.nw_base + p.nw_trend * (year - BASE_YEAR) - policy, 0.01, 0.92) + np.zeros_like(d)
    return {
        "deprivation": d,
        "shift_part": shift_part + np.zeros_like(d),
        "nonwestern": nw,
        "outside": np.clip(0.12 + 0.27 * d + p.dev_outside, 0.03, 0.80),
        "crime_mult": np.clip(0.90 + 2.00 * d + p.dev_crime, 0.20, 12.0),
        "income_ratio": np.clip(0.95 - 0.35 * d + p.dev_income, 0.25, 1.5),
    }


def nw_decline(p: AreaProfiles, year: int) -> np.ndarray:
    """The designed fall of the non-Western share after POLICY_YEAR (see `Design.nw_policy`)."""
    return p.nw_policy * np.maximum(p.base - PIVOT, 0.0) * max(year - POLICY_YEAR, 0)


def window_years(year: int, rules: str) -> range:
    """Designed list years whose profiles feed the averaged criteria of list year `year`.

    Register year t realises the profile of list year t + 1; the 2010 rules average 4 register
    years, later rules 2 (rules-spec 2-5)."""
    width = 4 if rules == "2010" else 2
    return range(year - width + 1, year + 1)


def measured_values(p: AreaProfiles, year: int, rules: str, shift: float | np.ndarray | None = None,
                    low_shift: float | np.ndarray | None = None,
                    noise_nw: np.ndarray | float = 0.0, noise_edu: np.ndarray | float = 0.0,
                    noise_crime: np.ndarray | float = 0.0, noise_outside: np.ndarray | float = 0.0,
                    realisation: Realisation = REALISATION) -> dict[str, np.ndarray]:
    """What the official indicators are expected to show for list year `year` (emulator).

    `shift` and `low_shift` are this year's shifts (default: the solved ones); earlier window years
    use their solved shifts, or this year's where none is solved yet. Noise arrays broadcast against the areas (e.g.
    (replicates, n) draws, with `shift` of shape (grid, 1, 1))."""
    here = p.shift_for(year) if shift is None else shift
    low = p.low_shift_for(year) if low_shift is None else low_shift

    def solved(t: int) -> bool:  # earlier years as the simulation will see them (clamped to the first)
        return t != year and bool(p.shift) and (t in p.shift or t < min(p.shift))

    parts = [criterion_values(p, t, p.shift_for(t) if solved(t) else here,
                              low if t == year else p.low_shift_for(t))
             for t in window_years(year, rules)]
    now = parts[-1]
    r = realisation
    nw_sd = r.nw_sd[0] + r.nw_sd[1] * (year - BASE_YEAR)
    nw = np.clip(r.nw[0] + r.nw[1] * now["nonwestern"] + r.nw[2] * p.base + r.nw[3] * (year - BASE_YEAR)
                 + r.nw[4] * nw_decline(p, year) + nw_sd * noise_nw, 0.0, 1.0)
    coef, sd = (r.edu_2013, r.edu_2013_sd) if rules in ("2010", "2013") else (r.edu_2018, r.edu_2018_sd)
    edu = (coef[0] + coef[1] * p.base + coef[2] * p.trend * (year - BASE_YEAR) + coef[3] * now["shift_part"]
           + coef[4] * now["nonwestern"] + coef[5] * nw + sd * noise_edu)
    crime = sum(v["crime_mult"] for v in parts) / len(parts)
    return {
        "nonwestern": nw,
        "outside": sum(v["outside"] for v in parts) / len(parts) + r.outside_sd * noise_outside,
        "crime_mult": crime + r.crime_sd * np.sqrt(crime) * noise_crime,
        "low_edu": np.clip(edu, 0.0, 1.0),
        "income_ratio": now["income_ratio"],
    }


TARGET_KEYS = {"parallelsamfund": "ghetto", "omdannelse": "haardt"}
"""Rule-file outputs under their names in targets.yaml (ghetto: ghettoområde, from 2021 parallelsamfund;
haardt: hårdt ghettoområde, from 2021 omdannelsesområde)."""
RuleSets = Mapping[str, RuleSet]
"""Rule sets by version (targets.yaml `rules`); a version not given is the packaged file."""


def ruleset_for(version: str, rulesets: RuleSets | None = None) -> RuleSet:
    return (rulesets or {}).get(version) or load_ruleset(version)


def criterion_facts(values: dict[str, np.ndarray], convicted_rate: float = REALISATION.convicted_rate
                    ) -> dict[str, np.ndarray | float]:
    """Emulated indicators under the field names of the rule files (percentages as the rules state them).

    `low_edu` is the education measure of the rule version (2013: uoplyst counted as basic); the
    2010/2013 conviction share is the multiple times the national rate. `residents` is optional:
    every designed area is sized to have enough residents (geography), so without it the rules'
    residents criterion does not restrict."""
    return {
        "residents": values.get("residents", np.inf),
        "pct_non_western": 100.0 * values["nonwestern"],
        "pct_outside_work_edu": 100.0 * values["outside"],
        "conviction_ratio": values["crime_mult"],
        "pct_convicted": 100.0 * values["crime_mult"] * convicted_rate,
        "pct_basic_education": 100.0 * values["low_edu"],
        "income_pct_of_region": 100.0 * values["income_ratio"],
    }


def classify(values: dict[str, np.ndarray], rules: str | RuleSet,
             convicted_rate: float | None = None) -> dict[str, np.ndarray]:
    """Profile-level list membership (boolean per area) under one rule set, by its current-year
    categories (those with a history requirement are `memberships`' job).

    The categories, criteria, thresholds and switches (defaults) are those of the rule file
    (`boligmix.rules.area_lists`), evaluated by the rules' array evaluator."""
    ruleset = load_ruleset(rules) if isinstance(rules, str) else rules
    rate = REALISATION.rate_for(ruleset.version) if convicted_rate is None else convicted_rate
    facts = criterion_facts(values, rate)
    switches = ruleset.switch_values()
    return {TARGET_KEYS.get(c.output, c.output): holds(category_condition(ruleset, c, switches), facts)
            for c in ruleset.spec.categories if c.history is None}


def memberships(p: AreaProfiles, targets: Targets, noise: bool = False,
                rulesets: RuleSets | None = None) -> dict[int, dict[str, np.ndarray]]:
    """Profile-level list membership per list year, incl. hårde/omdannelse, from `measured_values`.

    Without `noise` one boolean per area (realisation deviations at zero); with it one row per
    noise replicate, shape (replicates, n). A category with a history requirement (hårde 2018-2020,
    omdannelse from 2021) holds where its current-year test holds and the area was on the history
    list in each of the rule's latest N list years; it is left out where those years are not all
    designed.
    """
    history: dict[str, dict[int, np.ndarray]] = {}
    result: dict[int, dict[str, np.ndarray]] = {}
    for year, target in sorted(targets.lists.items()):
        ruleset = ruleset_for(target.rules, rulesets)
        values = measured_values(p, year, target.rules, **(p.noise(year) if noise else {}))
        member = classify(values, ruleset)
        for key, flags in member.items():
            history.setdefault(key, {})[year] = flags
        switches = ruleset.switch_values()
        facts = criterion_facts(values, REALISATION.rate_for(ruleset.version))
        for category in ruleset.spec.categories:
            if category.history is None:
                continue
            on_list = history.get(TARGET_KEYS.get(category.history.output, category.history.output), {})
            past = [on_list.get(y) for y in range(year - ruleset.history_years(category, switches) + 1, year + 1)]
            if all(h is not None for h in past):
                now = holds(category_condition(ruleset, category, switches), facts)
                member[TARGET_KEYS.get(category.output, category.output)] = np.logical_and.reduce([now, *past])
        result[year] = member
    return result


def count_lists(p: AreaProfiles, targets: Targets, rulesets: RuleSets | None = None) -> dict[int, dict[str, float]]:
    """Profile-level expected counts per list year (mean over the noise replicates)."""
    members = memberships(p, targets, noise=True, rulesets=rulesets)
    return {y: {k: float(np.mean(np.sum(v, axis=-1))) for k, v in m.items()} for y, m in members.items()}


def design_profiles(rng: np.random.Generator, n: int, targets: Targets, design: Design = DESIGN,
                    rulesets: RuleSets | None = None) -> AreaProfiles:
    """Draw n area profiles and solve the yearly shift against the published main-list counts
    (classified by the rule files, or by `rulesets` where given)."""
    u = rng.random(n)
    base = design.base_min + design.base_scale * u**design.base_power
    trend = rng.normal(0.0, design.trend_sd, n)
    nw_base = np.clip(design.nw_intercept + design.nw_slope * base + rng.normal(0.0, design.nw_sd, n), 0.01, 0.85)
    nw_trend = np.clip(0.005 + rng.normal(0.0, 0.003, n), -0.004, 0.02)
    profiles = AreaProfiles(
        base=base, trend=trend,
        dev_outside=rng.normal(0.0, 0.03, n), dev_crime=rng.normal(0.0, 0.3, n),
        dev_income=rng.normal(0.0, 0.03, n),
        nw_base=nw_base, nw_trend=nw_trend, shift={}, nw_policy=design.nw_policy,
        noise_nw=rng.standard_normal((NOISE_REPLICATES, n)), noise_edu=rng.standard_normal((NOISE_REPLICATES, n)),
        noise_year={y: rng.standard_normal((2, NOISE_REPLICATES, n)) for y in sorted(targets.lists)},
    )
    solve_shift(profiles, targets, scale_factor=n / targets.value("population", "areas_1000_plus"), rulesets=rulesets)
    return profiles


def _best(p: AreaProfiles, year: int, ruleset: RuleSet, key: str, goal: float, grid: np.ndarray, previous: float,
          **fixed: float) -> float:
    """The grid value (of the shift not in `fixed`) whose expected `key` count is closest to `goal`."""
    free = "low_shift" if "shift" in fixed else "shift"
    values = measured_values(p, year, ruleset.version, **fixed, **{free: grid[:, None, None]}, **p.noise(year))
    counts = np.atleast_2d(classify(values, ruleset)[key].sum(axis=-1)).mean(axis=-1)
    err = np.abs(counts - goal) + 0.05 * np.abs(grid - previous)
    return float(grid[int(np.argmin(err))])


def solve_shift(p: AreaProfiles, targets: Targets, scale_factor: float = 1.0, rulesets: RuleSets | None = None) -> None:
    """Per list year, the shift whose expected main-list count is closest to the (scaled) target;
    where a forebyggelse count is published, the middle-band shift is solved with it (alternately,
    three rounds)."""
    previous, previous_low = 0.0, 0.0
    for year, target in sorted(targets.lists.items()):
        goal = target.get(target.main_key) * scale_factor
        ruleset = ruleset_for(target.rules, rulesets)
        low = 0.0
        shift = _best(p, year, ruleset, target.main_key, goal, SHIFT_GRID, previous, low_shift=low)
        if target.forebyggelse is not None:
            for _ in range(3):
                low = _best(p, year, ruleset, "forebyggelse", target.forebyggelse * scale_factor,
                            LOW_SHIFT_GRID, previous_low, shift=shift)
                shift = _best(p, year, ruleset, target.main_key, goal, SHIFT_GRID, previous, low_shift=low)
            p.low_shift[year] = previous_low = low
        p.shift[year] = previous = shift
