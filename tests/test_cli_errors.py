"""One error wrapper for the whole CLI: a `BoligmixError` raised inside ANY registered command (or a
command group's own callback) ends as its message on stderr and exit code 2, with no traceback.

The commands are found by walking the app's command tree (`typer.main.get_command(app)`), so a
command added later is checked too. Each command's callback is replaced by one that raises, and the
command is invoked through its real parser with placeholder values for its required parameters.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from boligmix.cli.main import COMMAND_MODULES, app
from boligmix.errors import BoligmixError, DataValidationError

CLI_DIR = Path(__file__).resolve().parents[1] / "src" / "boligmix" / "cli"


def _tree(command, path=()):
    """(path, click command) of every leaf command and of every group that runs its own callback."""
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        here = (*path, name)
        if hasattr(sub, "commands"):
            if sub.invoke_without_command and sub.callback is not None:
                yield here, sub
            yield from _tree(sub, here)
        else:
            yield here, sub


def _find(root, path):
    command = root
    for name in path:
        command = command.commands[name]
    return command


def _placeholder(param) -> str:
    annotation = param.type_descriptor.annotation
    if annotation in (int, float) or getattr(annotation, "__args__", (None,))[0] in (int, float):
        return str(max(1, param.min or 1))
    return "placeholder"


def _args(command) -> list[str]:
    """Values for the required parameters (the command never runs: its callback raises first)."""
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        if param.param_type_name == "argument":
            args.append(_placeholder(param))
        else:
            args += [param.opts[0], _placeholder(param)]
    return args


PATHS = [path for path, _ in _tree(typer.main.get_command(app))]


def _typer_callbacks(typer_app):
    """Every command and group callback registered on a Typer app, recursively."""
    for info in typer_app.registered_commands:
        yield info.callback
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub.registered_callback is not None:
            yield sub.registered_callback.callback
        yield from _typer_callbacks(sub)


def test_the_tree_holds_every_command_module():
    """The walk reaches the commands of every module in COMMAND_MODULES, nested groups included."""
    modules = {f.__module__.rsplit(".", 1)[-1] for f in _typer_callbacks(app)}
    assert modules == set(COMMAND_MODULES)
    assert len(PATHS) == sum(1 for _ in _typer_callbacks(app))
    for path in (("lists",), ("simulate",), ("simulate", "compare"), ("letting", "assess"), ("letting", "explain"),
                 ("letting", "init-db"), ("evaluate", "did"), ("plan", "optimise"), ("rehouse",),
                 ("rehouse", "caps"), ("indicators", "compute"), ("report", "lists"), ("serve",), ("synth",)):
        assert path in PATHS


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_a_boligmix_error_in_any_command_is_exit_2_with_the_message(path, monkeypatch):
    root = typer.main.get_command(app)
    command = _find(root, path)
    message = f"bad row in input.csv for {' '.join(path)}"

    def fail(*_args, **_kwargs):
        raise DataValidationError(message, path="input.csv", row=3, column="year")

    monkeypatch.setattr(command, "callback", fail)
    monkeypatch.setattr("typer.testing._get_command", lambda _app: root)
    result = CliRunner().invoke(app, [*path, *_args(command)])
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert message in " ".join(result.stderr.split())
    assert "input.csv" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_an_error_in_a_group_callback_of_a_subcommand_is_caught(monkeypatch):
    """`simulate compare` runs the `simulate` group's callback first: an error there is exit 2 too."""
    root = typer.main.get_command(app)
    group = root.commands["simulate"]

    def fail(*_args, **_kwargs):
        raise BoligmixError("the group failed")

    monkeypatch.setattr(group, "callback", fail)
    monkeypatch.setattr("typer.testing._get_command", lambda _app: root)
    result = CliRunner().invoke(app, ["simulate", "compare", "a", "b", "--out", "c.html"])
    assert (result.exit_code, "Traceback" in result.output) == (2, False)
    assert "the group failed" in result.stderr


def test_other_exceptions_are_not_swallowed(monkeypatch):
    """A bug (not a BoligmixError) is not dressed up as bad input: CliRunner sees the exception."""
    root = typer.main.get_command(app)
    command = root.commands["synth"]
    monkeypatch.setattr(command, "callback", lambda **_: 1 / 0)
    monkeypatch.setattr("typer.testing._get_command", lambda _app: root)
    result = CliRunner().invoke(app, ["synth", "--out", "x"])
    assert isinstance(result.exception, ZeroDivisionError) and result.exit_code == 1


def test_the_console_entry_point_exits_2_without_traceback(tmp_path):
    """`python -m boligmix.cli.main` (what the `boligmix` script runs) goes through the same wrapper."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run([sys.executable, "-m", "boligmix.cli.main", "lists", "--data", str(tmp_path / "none"),
                           "--out", str(tmp_path / "out"), "--year", "2020"],
                          capture_output=True, text=True, env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "manifest.json" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_no_command_module_catches_boligmix_errors_itself():
    """The per-command copies of the wrapper are gone: only main.py handles BoligmixError."""
    offenders = []
    for path in sorted(CLI_DIR.glob("*.py")):
        if path.name == "main.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                if names & {"BoligmixError", "Exception", "BaseException"}:
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
