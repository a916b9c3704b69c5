"""Demographic and mobility rates of the synthetic population (annual, vectorised).

The values are rounded, plausible orders of magnitude for Denmark 2004-2024 (DST statistics
on births, deaths, migration and moves); they are design choices, calibrated so that the
national population follows `targets.yaml`, not estimates.
"""

from __future__ import annotations

import numpy as np

from boligmix.data.synth.geography import ALMEN, ANDEL, EJER, OTHER, PRIVAT

DANSK, INDVANDRER, EFTERKOMMER = 0, 1, 2

IMMIGRANT_PERSONS = {  # yearly immigration (persons, national scale), DST VAN1AAR order of magnitude
    2004: 49_000, 2005: 52_000, 2006: 57_000, 2007: 64_000, 2008: 72_000, 2009: 64_000, 2010: 67_000,
    2011: 68_000, 2012: 70_000, 2013: 78_000, 2014: 87_000, 2015: 98_000, 2016: 94_000, 2017: 87_000,
    2018: 82_000, 2019: 76_000, 2020: 64_000, 2021: 74_000, 2022: 121_000, 2023: 95_000, 2024: 90_000,
}
DANISH_RETURN_SHARE = 0.22
"""Share of immigrants who are persons of Danish origin moving back."""

TENURE_CHOICE = np.array([
    # almen privat andel ejer other   (destination), rows = origin tenure
    [0.45, 0.23, 0.06, 0.20, 0.06],   # almen (0.64 almen before moving households were served first)
    [0.25, 0.40, 0.09, 0.21, 0.05],   # privat_udlejning
    [0.12, 0.20, 0.28, 0.35, 0.05],   # andel
    [0.08, 0.14, 0.07, 0.66, 0.05],   # ejer
    [0.25, 0.30, 0.10, 0.25, 0.10],   # other
])
LEAVER_TENURE = np.array([0.36, 0.42, 0.07, 0.09, 0.06])
IMMIGRANT_TENURE = np.array([0.25, 0.55, 0.03, 0.12, 0.05])
REFUGEE_TENURE = np.array([0.62, 0.30, 0.01, 0.04, 0.03])
TENURE_Z_TILT = np.array([-0.45, -0.1, 0.35, 0.7, 0.0])
"""Log-odds change per unit of socio-economic position z (better-off movers buy)."""

BASE_MOVE_RATE = np.array([0.27, 0.34, 0.16, 0.10, 0.22])
"""Yearly probability that a household decides to move, by tenure (before age and area effects).

Calibrated (1.8 x the rates of calibration synthetic-v2) so that the realised person moves reach
the `yearly_move_rate` target of about 12 % a year: about a third of the decided moves find no
dwelling in the chosen municipality and tenure and are given up (docs/synthetic-data.md)."""


def mortality(age: np.ndarray, female: np.ndarray, year: int) -> np.ndarray:
    """Annual probability of death (Gompertz, slow improvement over time)."""
    q = np.exp(-9.65 + 0.0885 * age) * np.where(female, 0.82, 1.22) * 0.99 ** (year - 2004)
    q = np.where(age < 1, 0.004, q)
    return np.minimum(q, 0.6)


FERTILITY_LEVEL = 0.148
"""Peak yearly birth probability (age 31). Calibrated to the `births_per_year` target: a total
fertility of about 1.47, below Denmark's 1.7-1.8; 0.185 (1.84) gave 77,000 births a year against
about 62,000, for a reason left open (not the 2004 age structure; docs/synthetic-data.md)."""


def fertility(age: np.ndarray, nonwestern_immigrant: np.ndarray) -> np.ndarray:
    """Annual probability that a woman gives birth (`FERTILITY_LEVEL`; non-Western immigrants x 1.3)."""
    f = FERTILITY_LEVEL * np.exp(-(((age - 31.0) / 5.6) ** 2))
    return f * np.where(nonwestern_immigrant, 1.3, 1.0)


def emigration(origin: np.ndarray, western: np.ndarray, years_in_dk: np.ndarray) -> np.ndarray:
    """Annual probability that a household emigrates, by its head."""
    recent = years_in_dk < 5
    immigrant = np.where(western, np.where(recent, 0.11, 0.025), np.where(recent, 0.03, 0.008))
    return np.where(origin == INDVANDRER, immigrant, 0.0045)


def move_rate(tenure: np.ndarray, head_age: np.ndarray, z: np.ndarray,
              deprivation: np.ndarray, nonwestern_in_area: np.ndarray) -> np.ndarray:
    """Annual probability that a household moves.

    `deprivation` is the area's deprivation index (0 outside areas): better-off households leave
    deprived areas more often, which makes out-movers more often employed than stayers.
    Non-Western households in areas move less (they stay in the almen sector and the area).
    """
    age_factor = np.select([head_age < 30, head_age < 45, head_age < 65], [2.2, 1.1, 0.7], 0.5)
    rate = (BASE_MOVE_RATE[tenure] * age_factor * np.exp(0.45 * z * np.maximum(deprivation, 0.0))
            * np.where(nonwestern_in_area, 0.7, 1.0))
    return np.minimum(rate, 0.8)


def leave_home_rate(age: np.ndarray) -> np.ndarray:
    return np.select([age < 18, age < 20, age < 31], [0.0, 0.14, 0.30], 0.0)


NONWESTERN_ALMEN_TILT = 1.6
"""Extra log-odds of choosing almen housing for non-Western movers (they concentrate there)."""


def choose_tenure(rng: np.random.Generator, base: np.ndarray, z: np.ndarray,
                  nonwestern: np.ndarray | None = None) -> np.ndarray:
    """Destination tenure for each mover: base probabilities (n x 5) tilted by z (and origin)."""
    logits = np.log(np.maximum(base, 1e-9)) + z[:, None] * TENURE_Z_TILT[None, :]
    if nonwestern is not None:
        logits[:, ALMEN] += NONWESTERN_ALMEN_TILT * nonwestern
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(z))[:, None] > cum).sum(axis=1).astype(np.int8)


__all__ = ["ALMEN", "ANDEL", "DANSK", "EFTERKOMMER", "EJER", "INDVANDRER", "OTHER", "PRIVAT"]
