"""docs/data-dictionary.md is generated from the schema and committed up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from boligmix.data.dictionary import render_data_dictionary
from boligmix.data.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
DICTIONARY = ROOT / "docs" / "data-dictionary.md"


def test_committed_dictionary_equals_the_generated_one():
    assert DICTIONARY.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is stale: run python scripts/gen_data_dictionary.py")


def test_dictionary_names_every_table_column_and_allowed_value():
    text = render_data_dictionary()
    for spec in TABLES.values():
        assert f"## `{spec.name}`" in text
        for column in spec.columns:
            assert f"| `{column.name}` | {column.dtype}" in text
            for value in column.allowed or ():
                assert f"`{value}`" in text
            if column.references:
                assert f"`{column.references}`" in text
    assert "row 1 is the first line below the header" in text


def test_generator_script_check_mode_passes():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_data_dictionary.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
