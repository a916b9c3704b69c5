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
