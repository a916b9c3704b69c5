"""Regenerate the PySAL reference values used by tests/test_segregation_reference.py.

Writes seeded synthetic unit-count datasets to tests/data/segregation/<name>.csv and the
values PySAL `segregation` computes on them to tests/data/segregation/reference.json
(with the package versions). PySAL is NOT a boligmix dependency; install it only to run this:

    /work/venv/bin/pip install segregation
    PYTHONPATH=src /work/venv/bin/python scripts/make_segregation_reference.py
"""

from __future__ import annotations

import json
import math
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20241201
OUT_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "segregation"

TWO_GROUP = [  # (boligmix name, PySAL class name, extra kwargs)
    ("dissimilarity", "Dissim"), ("gini", "Gini"), ("entropy", "Entropy"), ("isolation", "Isolation"),
    ("interaction", "Interaction"), ("atkinson", "Atkinson"), ("correlation_ratio", "CorrelationR"),
]
MULTIGROUP = [
    ("multi_dissimilarity", "MultiDissim"), ("multi_gini", "MultiGini"),
    ("multi_information_theory", "MultiInfoTheory"), ("multi_normalized_exposure", "MultiNormExposure"),
]


def _frame(counts: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(counts.astype(np.int64), columns=[f"g{k + 1}" for k in range(counts.shape[1])])
    frame.insert(0, "unit", [f"u{i:05d}" for i in range(len(frame))])
    frame["total"] = counts.sum(axis=1).astype(np.int64)
    return frame


def make_datasets(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The datasets: random ones of several sizes (with zero cells and empty units) and skewed ones."""
    data: dict[str, pd.DataFrame] = {}
    data["random_10"] = _frame(rng.integers(0, 21, size=(10, 3)))

    rates = rng.gamma(2.0, 10.0, size=(200, 4))
    counts = rng.poisson(rates)
    counts[rng.choice(200, 10, replace=False)] = 0  # units with total 0
    counts[rng.random((200, 4)) < 0.15] = 0  # zero cells
    data["random_200"] = _frame(counts)

    data["random_2000"] = _frame(rng.poisson(rng.gamma(1.5, 20.0, size=(2000, 3))))

    sparse = rng.poisson(0.3, size=(300, 3))  # mostly zeros, many empty units
    data["sparse_300"] = _frame(sparse)

    sizes = np.ceil(rng.lognormal(3.0, 1.2, size=500)).astype(np.int64)
    share = np.where(rng.random(500) < 0.05, rng.uniform(0.6, 0.95, 500), rng.uniform(0.0, 0.08, 500))
    minority = rng.binomial(sizes, share)
    rest = sizes - minority
    middle = rng.binomial(rest, 0.3)
    data["skewed_500"] = _frame(np.column_stack([minority, middle, rest - middle]))

    with_empty_group = rng.poisson(8.0, size=(100, 3))
    with_empty_group[:, 2] = 0  # a group absent everywhere
    data["zero_group_100"] = _frame(with_empty_group)
    return data


def _number(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def pysal_values(frame: pd.DataFrame, groups: list[str]) -> dict[str, object]:
    import segregation.multigroup as mg
    import segregation.singlegroup as sg

    two_group: dict[str, dict[str, float | None]] = {}
    for group in groups:
        two_group[group] = {}
        for name, cls in TWO_GROUP:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                two_group[group][name] = _number(getattr(sg, cls)(frame, group, "total").statistic)
    multi: dict[str, float | None] = {}
    for name, cls in MULTIGROUP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            multi[name] = _number(getattr(mg, cls)(frame, groups).statistic)
    return {"two_group": two_group, "multigroup": multi}


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    reference: dict[str, object] = {
        "generator": "scripts/make_segregation_reference.py",
        "seed": SEED,
        "versions": {
            "segregation": version("segregation"), "numpy": version("numpy"), "pandas": version("pandas"),
            "python": platform.python_version(),
        },
        "definitions": {name: cls for name, cls in TWO_GROUP + MULTIGROUP} | {"atkinson": "Atkinson(b=0.5)"},
        "datasets": {},
    }
    for name, frame in make_datasets(rng).items():
        frame.to_csv(OUT_DIR / f"{name}.csv", index=False)
        groups = [column for column in frame.columns if column.startswith("g")]
        entry: dict[str, object] = {"file": f"{name}.csv", "groups": groups, "total": "total",
                                    **pysal_values(frame, groups)}
        if name == "zero_group_100":  # PySAL's MultiInfoTheory is NaN here; keep the values without g3
            present = [g for g in groups if frame[g].sum() > 0]
            entry["multigroup_present_groups"] = present
            entry["multigroup_without_absent"] = pysal_values(frame, present)["multigroup"]
        reference["datasets"][name] = entry  # type: ignore[index]
    (OUT_DIR / "reference.json").write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT_DIR / 'reference.json'} (segregation {version('segregation')})")


if __name__ == "__main__":
    main()
