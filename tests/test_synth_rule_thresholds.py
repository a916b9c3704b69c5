"""The synthetic generator classifies its area design by the rule files, through the one evaluator.

* the array backend (`rules.arrays`) agrees with the scalar evaluator (the oracle) on every
  category condition of the four rule sets, with missing facts (NaN = UNKNOWN) included;
* a rule file with another threshold changes the generator's classification and its design (the
  solved shift follows the changed rule, so the expected count under it meets the target again);
* no list threshold is written as a literal in a comparison anywhere in `data/`.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from boligmix.data.synth import profiles
from boligmix.data.synth.targets import load_targets
from boligmix.rules.area_lists import BUILTIN_VERSIONS, category_condition, load_ruleset, parse_ruleset
from boligmix.rules.arrays import evaluate_arrays, holds
from boligmix.rules.evaluator import evaluate

DATA = Path(__file__).resolve().parents[1] / "src" / "boligmix" / "data"
RULE_FILE = Path(__file__).resolve().parents[1] / "src" / "boligmix" / "rules" / "lists" / "2021.yaml"


def random_facts(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    facts = {
        "residents": rng.choice([500.0, 999.0, 1000.0, 4000.0], n),
        "pct_non_western": rng.choice([20.0, 30.0, 45.0, 50.0, 70.0], n),
        "pct_outside_work_edu": rng.uniform(10, 60, n),
        "pct_convicted": rng.choice([1.0, 2.7, 4.0], n),
        "conviction_ratio": rng.choice([1.0, 2.0, 2.5, 3.0, 4.0], n),
        "pct_basic_education": rng.uniform(30, 80, n),
        "income_pct_of_region": rng.choice([50.0, 55.0, 60.0, 65.0, 80.0], n),
    }
    for values in facts.values():
        values[rng.random(n) < 0.15] = np.nan
    return facts


@pytest.mark.parametrize("version", BUILTIN_VERSIONS)
def test_the_array_evaluator_agrees_with_the_scalar_evaluator(version):
    ruleset = load_ruleset(version)
    switches = ruleset.switch_values()
    facts = random_facts(np.random.default_rng(int(version)), 400)
    for category in ruleset.spec.categories:
        cond = category_condition(ruleset, category, switches)
        codes = evaluate_arrays(cond, facts)
        for i in range(400):
            row = {k: (None if np.isnan(v[i]) else float(v[i])) for k, v in facts.items()}
            assert codes[i] == evaluate(cond, row).value, (version, category.id, row)
        assert np.array_equal(holds(cond, facts), codes == 2)


def design_values(n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {"nonwestern": rng.uniform(0.1, 0.8, n), "outside": rng.uniform(0.15, 0.55, n),
            "crime_mult": rng.uniform(0.5, 5.0, n), "low_edu": rng.uniform(0.3, 0.8, n),
            "income_ratio": rng.uniform(0.4, 0.9, n)}


def changed_2021(outside_threshold: int):
    """The packaged 2021 rule file with the udsat outside-work threshold (40) replaced."""
    text = RULE_FILE.read_text(encoding="utf-8")
    old = "    field: pct_outside_work_edu\n    average_years: 2\n    op: \">\"\n    threshold: 40\n"
    assert text.count(old) == 1
    return parse_ruleset(text.replace(old, old.replace("threshold: 40", f"threshold: {outside_threshold}")),
                         "changed-2021.yaml")


def test_the_profile_classification_reads_the_thresholds_of_the_rule_file():
    values = design_values()
    packaged, lower = profiles.classify(values, "2021"), profiles.classify(values, changed_2021(25))
    facts = {"out": values["outside"], "crime": values["crime_mult"], "edu": values["low_edu"],
             "inc": values["income_ratio"]}

    def udsat(outside_limit: float) -> np.ndarray:  # hand-written oracle of the 2021 udsat rule
        met = ((facts["out"] * 100 > outside_limit).astype(int) + (facts["crime"] >= 3)
               + (facts["edu"] * 100 > 60) + (facts["inc"] * 100 < 55))
        return met >= 2

    assert np.array_equal(packaged["udsat"], udsat(40))
    assert np.array_equal(lower["udsat"], udsat(25))
    assert lower["udsat"].sum() > packaged["udsat"].sum() + 20
    # forebyggelse excludes udsat (switch default): areas moved onto udsat leave forebyggelse
    assert not (lower["forebyggelse"] & lower["udsat"]).any()


def test_a_changed_threshold_changes_the_generator_design():
    targets = load_targets()
    few = dataclasses.replace(targets, lists={y: targets.lists[y] for y in (2020, 2021, 2022)})
    changed = {"2021": changed_2021(36)}
    packaged = profiles.design_profiles(np.random.default_rng(3), 200, few)
    other = profiles.design_profiles(np.random.default_rng(3), 200, few, rulesets=changed)
    assert other.shift[2020] == packaged.shift[2020]  # 2018 rules unchanged
    # a lower threshold puts more areas on udsat: the solved shift moves the areas down to compensate
    assert other.shift[2021] < packaged.shift[2021] - 0.05
    scale = 200 / targets.value("population", "areas_1000_plus")
    for design, rulesets in ((packaged, None), (other, changed)):
        counts = profiles.count_lists(design, few, rulesets)
        assert abs(counts[2021]["udsat"] - 20 * scale) <= 2, counts[2021]
    assert profiles.count_lists(other, few)[2021]["udsat"] < 20 * scale - 3  # judged by the packaged rule


# ---------------------------------------------------------------------------------------------
# no copy of a list threshold in data/

MEASURE = re.compile(r"nonwestern|\bnw\b|outside|\bout\b|crime|convict|edu|\binc\b|income|residents",
                     re.IGNORECASE)


def list_thresholds() -> set[float]:
    """Every criterion threshold of the rule files, as written and (percentages) as a fraction."""
    values: set[float] = set()
    for version in BUILTIN_VERSIONS:
        for criterion in load_ruleset(version).spec.criteria:
            values.add(float(criterion.threshold))
            if criterion.unit.startswith("pct"):
                values.add(round(criterion.threshold / 100, 6))
    return values


def threshold_comparisons(source: str, name: str, thresholds: set[float]) -> list[str]:
    """Comparisons of a list measure with a literal list threshold (e.g. `nw > 0.5`, `crime >= 3`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        literals = [o for o in operands if isinstance(o, ast.Constant) and isinstance(o.value, (int, float))
                    and not isinstance(o.value, bool) and round(float(o.value), 6) in thresholds]
        others = " ".join(ast.get_source_segment(source, o) or "" for o in operands if o not in literals)
        if literals and MEASURE.search(others):
            found.append(f"{name}:{node.lineno}: {ast.get_source_segment(source, node)}")
    return found


def test_the_detector_finds_the_copy_the_generator_had():
    old = ("met = (nw > 0.5).astype(int) + (out > 0.4) + (crime * convicted_rate > 0.027)\n"
           "udsat = ((out > 0.4).astype(int) + (crime >= 3) + (edu > 0.6) + (inc < 0.55)) >= 2\n"
           "big = profile.filter(pl.col('residents') >= 1000)\n")
    assert len(threshold_comparisons(old, "old", list_thresholds())) == 9  # incl. the count of criteria met (at_least 2)
    assert threshold_comparisons("x = age >= 18\nshare = rng.random(n) < 0.5\n", "ok", list_thresholds()) == []


def test_no_list_threshold_literal_in_data():
    thresholds = list_thresholds()
    found = [hit for path in sorted(DATA.rglob("*.py"))
             for hit in threshold_comparisons(path.read_text(encoding="utf-8"), str(path.relative_to(DATA)),
                                              thresholds)]
    assert found == []
