"""The dependency direction of docs/design: `data/` imports nothing else from boligmix."""

from __future__ import annotations

import ast
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "boligmix" / "data"


def test_data_imports_only_data_and_errors():
    offenders = []
    for path in sorted(DATA.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("boligmix") and not name.startswith(("boligmix.data", "boligmix.errors")) \
                        and name != "boligmix":
                    offenders.append(f"{path.relative_to(DATA)}: {name}")
    assert offenders == []
