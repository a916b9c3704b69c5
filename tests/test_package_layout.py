"""The dependency direction of docs/design: `data/` imports only `data/`, `rules/`, `errors` and `atomic` (the
atomic writes), and `rules/` imports only itself and `errors` (so `data/` reaches neither `lists/` nor `indicators/`
through it)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "boligmix"


def offenders(folder: str, allowed: tuple[str, ...], root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("boligmix") and not name.startswith(allowed) and name != "boligmix":
                    found.append(f"{folder}/{path.relative_to(root / folder)}: {name}")
    return found


def test_data_imports_only_data_rules_errors_and_atomic_writes():
    assert offenders("data", ("boligmix.data", "boligmix.rules", "boligmix.errors", "boligmix.atomic")) == []


def test_rules_imports_only_rules_and_errors():
    assert offenders("rules", ("boligmix.rules", "boligmix.errors")) == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.py").write_text("from boligmix.lists.classify import classify\nimport boligmix.indicators\n")
    assert offenders("data", ("boligmix.data", "boligmix.rules", "boligmix.errors"), tmp_path) == [
        "data/x.py: boligmix.lists.classify", "data/x.py: boligmix.indicators"]
