"""Shared CLI output: `--quiet` and `--json` options, progress bars, results and errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (for scripts).")]


def check_lang(lang: str) -> None:
    """`--lang` is da or en."""
    if lang not in ("da", "en"):
        from boligmix.errors import ConfigurationError

        raise ConfigurationError(f"--lang must be da or en, got '{lang}'", field="lang")


def require_internal_name(out: os.PathLike[str] | str) -> None:
    """An internal (unprotected) output file must say so in its name (it contains 'intern')."""
    from pathlib import Path

    from boligmix.errors import ConfigurationError

    out = Path(out)
    if "intern" not in out.name.lower():
        raise ConfigurationError(f"--internal writes unprotected person counts: name the file so that it says so "
                                 f"(e.g. {out.stem}-internal{out.suffix})", field="--out")



@lru_cache(maxsize=1)
def _stderr() -> "Console":
    """The stderr console, created on first use (rich is imported only when something is printed)."""
    from rich.console import Console

    return Console(stderr=True)


@dataclass
class Output:
    """How a command reports: progress on stderr for people, a result on stdout."""

    quiet: bool = False
    json: bool = False

    @property
    def show_progress(self) -> bool:
        return not (self.quiet or self.json) and _stderr().is_terminal

    def result(self, payload: dict[str, Any], human: str | None = None) -> None:
        """Print the command's result: JSON with --json, the human text otherwise, nothing with --quiet."""
        if self.json:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str, indent=2) + "\n")
        elif not self.quiet:
            typer.echo(human if human is not None else "\n".join(f"{k}: {v}" for k, v in payload.items()))

    def info(self, message: str) -> None:
        if not (self.quiet or self.json):
            _stderr().print(message)

    @contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator["ProgressHandle"]:
        """A Rich progress bar (on stderr, only when it is a terminal and not --quiet/--json)."""
        if not self.show_progress:
            yield ProgressHandle(None, None)
            return
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
            console=_stderr(), transient=False,
        )
        with bar:
            task = bar.add_task(description, total=total)
            yield ProgressHandle(bar, task)


class ProgressHandle:
    """Advance or relabel a progress bar; a no-op when progress is hidden."""

    def __init__(self, bar: Progress | None, task: Any) -> None:
        self._bar, self._task = bar, task

    def advance(self, amount: float = 1.0) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def update(self, description: str | None = None, completed: float | None = None,
               total: float | None = None) -> None:
        if self._bar is not None:
            kwargs = {k: v for k, v in (("description", description), ("completed", completed),
                                        ("total", total)) if v is not None}
            self._bar.update(self._task, **kwargs)

    def __call__(self, step: str, fraction: float) -> None:
        """Callback form for library code: `on_progress(step_name, fraction_done)`."""
        self.update(description=step, completed=fraction * 100, total=100)


def print_error(exc: BaseException) -> None:
    from rich.markup import escape

    _stderr().print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
