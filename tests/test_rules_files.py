"""Packaged-or-user YAML data files: bad files are errors that name the file."""

import pytest

from boligmix.errors import ConfigurationError
from boligmix.mix.settings import MixSettings
from boligmix.report import DisclosurePolicy
from boligmix.rules.files import read_yaml


def test_packaged_default_is_read_with_its_source_name():
    raw, source = read_yaml(None, package="boligmix.report", filename="disclosure_policy.yaml",
                            what="disclosure policy")
    assert isinstance(raw, dict) and source == "boligmix/report/disclosure_policy.yaml"


@pytest.mark.parametrize("loader", [MixSettings.load, DisclosurePolicy.load])
def test_invalid_yaml_and_missing_file_name_the_file(tmp_path, loader):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="bad.yaml.*not valid YAML"):
        loader(bad)
    with pytest.raises(ConfigurationError, match="missing.yaml.*cannot read"):
        loader(tmp_path / "missing.yaml")


# One loader for every versioned rule file (`boligmix.rules.files.parse_model`): the list rule sets,
# the monitoring sets, the plan and rehousing rules and the simulation scenarios.

def _loaders():
    from boligmix.indicators.settings import load_settings_file
    from boligmix.letting.imposition import load_imposition_rules
    from boligmix.lists.ruleset import load_ruleset_file
    from boligmix.monitor.sets import load_set
    from boligmix.plan.rules import load_share_rules
    from boligmix.simulate.scenario import load_scenario

    return {"ruleset": (load_ruleset_file, "rule set"), "monitor": (load_set, "indicator set"),
            "indicator_settings": (load_settings_file, "indicator settings"),
            "plan": (lambda p: load_share_rules(str(p)), "rule file"),
            "scenario": (load_scenario, "scenario file"),
            "imposition": (load_imposition_rules, "the § 60 b rule file")}


KINDS = ["ruleset", "monitor", "indicator_settings", "plan", "scenario", "imposition"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_rule_file_loader_names_the_file(tmp_path, kind):
    load, what = _loaders()[kind]
    for name, text, message in (("broken.yaml", "a: [1, 2\n", "not valid YAML"),
                                ("list.yaml", "- 1\n- 2\n", f"{what} must be a YAML mapping"),
                                ("latin.yaml", None, "not UTF-8")):
        path = tmp_path / name
        if text is None:
            path.write_bytes("version: 'æøå'\n".encode("latin-1"))
        else:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigurationError) as info:
            load(path)
        assert info.value.source == str(path) and message in str(info.value), (kind, name, str(info.value))


@pytest.mark.parametrize("kind", KINDS)
def test_every_rule_file_loader_names_the_key_of_an_unknown_field(tmp_path, kind):
    from importlib import resources

    load, _ = _loaders()[kind]
    package, name = {"ruleset": ("boligmix.rules.lists", "2021.yaml"), "monitor": ("boligmix.rules.monitor", "aarhus.yaml"),
                     "indicator_settings": ("boligmix.rules.indicators", "official.yaml"),
                     "plan": ("boligmix.rules.plan", "share_2018.yaml"),
                     "scenario": ("boligmix.simulate.scenarios", "baseline.yaml"),
                     "imposition": ("boligmix.rules.letting.imposition", "60b.yaml")}[kind]
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_text(text + "\nunexpected_key: 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load(path)
    assert info.value.source == str(path) and "unexpected_key" in str(info.value)
