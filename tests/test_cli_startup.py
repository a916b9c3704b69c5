"""`boligmix --help` / `--version` start fast: registering the commands of every module in
`COMMAND_MODULES` imports no heavy dependency (they are imported when a command runs)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("polars", "numpy", "pandas", "pyarrow", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn",
         "plotly", "pydantic", "yaml", "xlsxwriter", "jinja2", "scipy", "statsmodels", "rich")

PROBE = """
import json, sys
sys.argv = ["boligmix", "--version"]
import boligmix.cli.main as main
top = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"modules": top, "commands": list(main.COMMAND_MODULES),
                  "boligmix": sorted(n for n in sys.modules if n.startswith("boligmix."))}))
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_registering_every_command_imports_nothing_heavy():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=_env(), check=True)
    seen = json.loads(done.stdout)
    assert seen["commands"] and all(f"boligmix.cli.{m}" in seen["boligmix"] for m in seen["commands"])
    assert sorted(set(HEAVY) & set(seen["modules"])) == []
    # errors and years hold only the standard library: the commands may import them at start
    light = {"boligmix.errors", "boligmix.years"}
    domain = [n for n in seen["boligmix"] if not n.startswith("boligmix.cli") and n not in light]
    assert domain == []


@pytest.mark.parametrize("arg", ["--version", "--help"])
def test_start_up_cpu_time(arg):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "boligmix.cli.main", arg], capture_output=True, env=_env(), check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the guard is against eager imports (1.2 s on session 4's machine); session 12's slower machine
    # takes 0.35-0.56 s for the same start-up with nothing heavy imported (the test above), so the
    # bound leaves room for the machine and its load and still fails an eager import
    assert cpu < 0.8, f"boligmix {arg} took {cpu:.2f} s of CPU (target 0.3 s; was 1.2 s with eager imports)"


def test_help_texts_spell_the_library_constants():
    from boligmix.cli.ingest import KEY_ENV_NAME
    from boligmix.cli.letting_admin import DEFAULT_DB_TEXT, ROLE_NAMES
    from boligmix.data.pseudonymise import KEY_ENV
    from boligmix.letting.store.db import DEFAULT_DB_URL
    from boligmix.letting.store.models import ROLES

    assert (KEY_ENV_NAME, DEFAULT_DB_TEXT, ROLE_NAMES) == (KEY_ENV, DEFAULT_DB_URL, ROLES)
