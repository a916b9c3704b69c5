"""The examples of docs/letting.md ("A complete example for each statutory tool") run through
`boligmix letting assess` and give exactly the output the page shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.letting.policy import POLICY_DIR

DOC = Path(__file__).resolve().parent.parent / "docs" / "letting.md"


def test_documented_examples_give_the_documented_output(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### A complete example for each statutory tool", 1)[1].split("\n## ", 1)[0]
    cases = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", section, re.S)]
    assert len(cases) >= 10
    expected = re.findall(r"```csv\n(.*?)\n```", section, re.S)[0]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    res = CliRunner().invoke(app, ["letting", "assess", "--cases", str(path), "--out", str(tmp_path / "o.csv"),
                                   "--policies", str(POLICY_DIR / "statutory"), "--policies",
                                   str(POLICY_DIR / "local"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").strip() == expected.strip()
