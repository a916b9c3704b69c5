"""Rule-set files: the built-in files load, and a bad file is rejected naming file, rule and field."""

from __future__ import annotations

import pytest
import yaml

from boligmix.errors import ConfigurationError
from boligmix.lists.ruleset import BUILTIN_VERSIONS, load_ruleset, parse_ruleset
from boligmix.rules import evaluator


@pytest.mark.parametrize("version", BUILTIN_VERSIONS)
def test_builtin_rule_sets_load_and_document_every_switch(version):
    rs = load_ruleset(version)
    assert rs.version == version and len(rs.sha256) == 64
    assert rs.spec.sources and all(s.startswith("http") for s in rs.spec.sources)
    for c in rs.spec.criteria:
        assert c.label_da and c.label_en and c.unit and c.op in (">", ">=", "<")
    for name, switch in {**rs.spec.switches, **rs.spec.data_choices}.items():
        assert switch.description.strip(), name
        assert switch.status in ("confirmed", "UNCONFIRMED")


def test_years_are_contiguous_from_2010():
    spans = [load_ruleset(v).spec.list_years for v in BUILTIN_VERSIONS]
    assert spans[0].first == 2010 and spans[-1].last is None
    for a, b in zip(spans, spans[1:]):
        assert a.last + 1 == b.first


def test_operators_are_the_laws():
    """overstiger is >, udgør mindst is >=, udgør mindre end is <."""
    for version in BUILTIN_VERSIONS:
        for c in load_ruleset(version).spec.criteria:
            if "overstiger" in c.label_da:
                assert c.op == ">", (version, c.id)
            if "mindst" in c.label_da and c.id != "residents":
                assert c.op == ">=", (version, c.id)
            if "mindre end" in c.label_da:
                assert c.op == "<", (version, c.id)
    assert load_ruleset("2010").criterion("residents").op == ">="


def test_criteria_are_evaluator_conditions():
    cond = load_ruleset("2021").conditions["convicted"]
    assert isinstance(cond, evaluator.Compare) and cond.op == ">=" and cond.value == 3


def _base():
    from importlib import resources
    return yaml.safe_load(resources.files("boligmix.rules.lists").joinpath("2021.yaml").read_text("utf-8"))


def _mutations():
    def crit(i, **kw):
        def apply(d):
            d["criteria"][i].update(kw)
        return apply

    def cat(i, **kw):
        def apply(d):
            d["categories"][i].update(kw)
        return apply

    def drop(*path):
        def apply(d):
            node = d
            for p in path[:-1]:
                node = node[p]
            del node[path[-1]]
        return apply

    def add(key, value):
        def apply(d):
            d[key] = value
        return apply

    return [
        ("unknown operator", crit(1, op="=>"), "outside_work_edu", "op"),
        ("unknown indicator field", crit(2, field="crime_rate"), "convicted", "crime_rate"),
        ("unknown key in criterion", crit(3, weight=2), "basic_education", "weight"),
        ("threshold not a number", crit(4, threshold="55 pct"), "low_income", "threshold"),
        ("missing label", drop("criteria", 0, "label_en"), "residents", "label_en"),
        ("unknown criterion in category", cat(0, of=["outside_work_edu", "crime"]), "udsat", "of"),
        ("unknown parent", cat(1, parent="ghetto"), "parallelsamfund", "parent"),
        ("at_least too high", cat(0, at_least=5), "udsat", "at_least"),
        ("of without at_least", drop("categories", 0, "at_least"), "udsat", "at_least"),
        ("unknown list output", cat(3, output="watchlist"), "forebyggelsesomraade", "output"),
        ("unknown switch", cat(3, unless={"output": "udsat", "switch": "nope"}), "forebyggelsesomraade",
         "unless.switch"),
        ("history and years both missing", cat(2, history={"output": "parallelsamfund"}),
         "omdannelsesomraade", "history"),
        ("unknown top-level key", add("thresholds", {}), "2021", "thresholds"),
        ("bad switch default", lambda d: d["switches"]["forebyggelse_excludes_udsat"].update(default=2),
         "switches.forebyggelse_excludes_udsat", "default"),
        ("duplicate criterion id", crit(2, id="outside_work_edu"), "outside_work_edu", "id"),
    ]


@pytest.mark.parametrize("label, mutate, rule, field", _mutations(), ids=[m[0] for m in _mutations()])
def test_bad_rule_files_are_rejected_naming_file_rule_and_field(label, mutate, rule, field):
    data = _base()
    mutate(data)
    with pytest.raises(ConfigurationError) as info:
        parse_ruleset(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    assert info.value.source == "bad.yaml", label
    assert info.value.rule == rule, (label, str(info.value))
    assert field and field in (info.value.field or ""), (label, str(info.value))


def test_not_yaml_is_rejected():
    with pytest.raises(ConfigurationError) as info:
        parse_ruleset("version: [", "broken.yaml")
    assert info.value.source == "broken.yaml"


@pytest.mark.parametrize("version, list_year", [("2010", 2011), ("2013", 2015), ("2018", 2019), ("2021", 2024)])
def test_rule_files_agree_with_the_indicator_settings(version, list_year):
    """The averaging periods and education choices stated in the rule files are the ones the
    indicator computation (boligmix.indicators, rules/indicators/official.yaml) applies."""
    from boligmix.indicators import settings_for_list_year

    rs = load_ruleset(version)
    settings = settings_for_list_year(list_year)
    assert settings.rules_basis == version
    for c in rs.spec.criteria:
        expected = settings.window_years if c.field in ("pct_outside_work_edu", "pct_convicted",
                                                        "conviction_ratio") else 1
        assert c.average_years == expected, c.id
    choices = rs.spec.data_choices
    assert choices["averaging_years"].default == settings.window_years
    if "education_unknown_counts_as_basic" in choices:
        assert (settings.education_rule == "uoplyst_is_basic") is choices["education_unknown_counts_as_basic"].default
    if "education_without_dk_record" in choices:
        assert settings.education_rule == "dk_registered_only"
        assert settings.unregistered_education == choices["education_without_dk_record"].default
    assert settings.min_residents == rs.criterion("residents").threshold
