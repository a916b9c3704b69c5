"""`boligmix letting ...`: explain letting decisions and check letting policy files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, print_error
from boligmix.errors import BoligmixError

letting_app = typer.Typer(help="Letting: explain decisions, check letting policies.", no_args_is_help=True)


@letting_app.command("explain")
def explain_command(
    decisions: Annotated[Path, typer.Option("--decisions", help="Decision log (.jsonl or .parquet).")],
    applicant: Annotated[int, typer.Option("--applicant", help="Applicant id.")],
    dwelling: Annotated[int, typer.Option("--dwelling", help="Dwelling id.")],
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Why did applicant X (not) get dwelling Y? Read from a decision log."""
    from boligmix.letting.decision_log import read_decision_log
    from boligmix.letting.explain import explain_decisions

    out = Output(quiet=quiet, json=json_)
    try:
        with out.progress("reading decisions"):
            log = read_decision_log(decisions)
        explanation = explain_decisions(log, applicant, dwelling)
    except BoligmixError as exc:
        print_error(exc)
        raise typer.Exit(2) from None
    out.result(explanation.to_dict(), "\n".join(explanation.lines()))


@letting_app.command("check-policy")
def check_policy_command(
    files: Annotated[list[Path], typer.Argument(help="Policy YAML files or directories to validate.")],
    with_: Annotated[list[Path] | None, typer.Option(
        "--with", help="Other policy files/directories the checked files may use as 'base' "
                       "(default: the packaged statutory policies).")] = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Validate letting policy files: schema, switches, conditions, bases and overlapping scopes."""
    from boligmix.letting.policy import POLICY_DIR, check_policy_files, policy_files

    out = Output(quiet=quiet, json=json_)
    try:
        context = list(with_) if with_ else [POLICY_DIR / "statutory"]
        checked = {p.resolve() for p in policy_files(files)}
        context_files = [p for p in policy_files(context) if p.resolve() not in checked]
        policy_set = check_policy_files(sorted(checked), context_files)
    except BoligmixError as exc:
        print_error(exc)
        raise typer.Exit(2) from None
    rows = [
        {"file": p.source, "id": p.id, "version": p.version, "tool": p.spec.tool, "slot": p.spec.slot_name,
         "enabled": p.spec.enabled, "effective_from": p.spec.effective_from.isoformat(),
         "effective_to": p.spec.effective_to.isoformat() if p.spec.effective_to else None,
         "scope": p.spec.scope.model_dump(exclude_none=True), "switches": dict(p.switches)}
        for p in policy_set.policies if Path(p.source).resolve() in checked
    ]
    human = "\n".join(f"ok  {r['id']}@{r['version']}  {r['tool']}  from {r['effective_from']}  {r['file']}"
                      for r in rows)
    out.result({"valid": True, "policies": rows}, human)


def register(app: typer.Typer) -> None:
    app.add_typer(letting_app, name="letting")
