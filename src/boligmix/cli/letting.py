"""`boligmix letting ...`: explain letting decisions and check letting policy files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, check_lang
from boligmix.errors import ConfigurationError

letting_app = typer.Typer(help="Letting: explain decisions, check letting policies, simulate a scenario.",
                          no_args_is_help=True)


@letting_app.command("explain")
def explain_command(
    applicant: Annotated[int, typer.Option("--applicant", help="Applicant id.")],
    dwelling: Annotated[int, typer.Option("--dwelling", help="Dwelling id.")],
    decisions: Annotated[Path | None, typer.Option("--decisions", help="Decision log (.jsonl or .parquet).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Or the letting store's database (URL or SQLite file): "
                                                       "its audit trail.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the answer: da (default) or en.")] = "da",
    policies: Annotated[list[Path] | None, typer.Option(
        "--policies", help="Local policy files/directories whose rules' Danish texts the answer quotes "
                           "(the packaged policies are always read).")] = None,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Why did applicant X (not) get dwelling Y? Read from a decision log or the letting store."""
    from boligmix.letting.decision_log import read_decision_log
    from boligmix.letting.explain import explain_decisions

    out = Output(quiet=quiet, json=json_)
    check_lang(lang)
    texts = None
    if policies:
        from boligmix.letting.policy import POLICY_DIR, load_policies, policy_files

        packaged = policy_files([POLICY_DIR / "statutory", POLICY_DIR / "local"])
        known = {p.resolve() for p in packaged}
        texts = load_policies([*packaged, *(p for p in policy_files(policies) if p.resolve() not in known)])
    if (decisions is None) == (db is None):
        raise ConfigurationError("give exactly one of --decisions (a decision log) or --db (the letting store)",
                                 field="--decisions/--db")
    if db is not None:
        from boligmix.cli.letting_admin import current_store
        from boligmix.letting.store.explain import explain_from_store

        with current_store(db) as store, out.progress("reading decisions"):
            explanation = explain_from_store(store, applicant, dwelling, texts)
    else:
        assert decisions is not None
        with out.progress("reading decisions"):
            log = read_decision_log(decisions)
        explanation = explain_decisions(log, applicant, dwelling, texts)
    out.result(explanation.to_dict(), "\n".join(explanation.lines(lang)))


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
    context = list(with_) if with_ else [POLICY_DIR / "statutory"]
    checked = {p.resolve() for p in policy_files(files)}
    context_files = [p for p in policy_files(context) if p.resolve() not in checked]
    policy_set = check_policy_files(sorted(checked), context_files)
    rows = [
        {"file": p.source, "id": p.id, "version": p.version, "tool": p.spec.tool, "slot": p.spec.slot_name,
         "enabled": p.spec.enabled, "effective_from": p.spec.effective_from.isoformat(),
         "effective_to": p.spec.effective_to.isoformat() if p.spec.effective_to else None,
         "scope": p.spec.scope.model_dump(exclude_none=True), "switches": dict(p.switches),
         "rules_without_danish_text": [r.rule_id for rules in p.rules.values() for r in rules
                                       if not r.spec.description_da.strip()]}
        for p in policy_set.policies if Path(p.source).resolve() in checked
    ]
    human = "\n".join(f"ok  {r['id']}@{r['version']}  {r['tool']}  from {r['effective_from']}  {r['file']}"
                      + (f"\n    no Danish reason text (description_da): {', '.join(r['rules_without_danish_text'])}"
                         if r["rules_without_danish_text"] else "")
                      for r in rows)
    out.result({"valid": True, "policies": rows}, human)


@letting_app.command("simulate")
def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Decision log to write (.jsonl or .parquet).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (answers, applicants, vacancies).")] = 1,
    applicants: Annotated[int, typer.Option("--applicants", min=1, help="Applicants on the lists.")] = 200,
    vacancies: Annotated[int, typer.Option("--vacancies", min=1, help="Vacancies to let.")] = 40,
    municipality: Annotated[int, typer.Option("--municipality", help="Municipality code of the dwellings "
                                                                     "(101 uses the example agreements).")] = 101,
    policies: Annotated[list[Path] | None, typer.Option(
        "--policies", help="Policy files/directories (default: packaged statutory + local examples).")] = None,
    dataset: Annotated[Path | None, typer.Option(
        "--dataset", help="Dataset directory: take the waiting list from its registers (applicants table, "
                          "else --applicants sampled households).")] = None,
    on: Annotated[str | None, typer.Option("--on", help="Reference date for --dataset (YYYY-MM-DD); the "
                                                        "scenario starts then.")] = None,
    current_year: Annotated[str, typer.Option(
        "--current-year", help="Benefit months of the reference year: 'unknown' (default) or "
                               "'continue_december' (December's benefits continue; UNCONFIRMED).")] = "unknown",
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Run a small synthetic letting scenario through the engine and write its decision log."""
    import json
    from datetime import date

    import numpy as np

    from boligmix.letting.decision_log import write_decision_log
    from boligmix.letting.policy import load_default_policies, load_policies
    from boligmix.letting.scenario import ScenarioSettings, run_scenario
    from boligmix.report._files import write_text_atomic

    output = Output(quiet=quiet, json=json_)
    register_meta: dict = {}
    from boligmix.data.io import check_out_paths

    check_out_paths(out, {"--dataset directory": dataset,
                          **{f"--policies {p}": p for p in (policies or [])}})
    policy_set = load_policies(policies) if policies else load_default_policies(include_local_examples=True)
    settings = ScenarioSettings(applicants=applicants, vacancies=vacancies, municipality_code=municipality)
    waiting = None
    if dataset is not None:
        from dataclasses import asdict, replace

        from boligmix.data.io import read_manifest
        from boligmix.letting.register import RegisterOptions, scenario_waiting_list

        try:
            reference = date.fromisoformat(on) if on else settings.start
        except ValueError:
            raise typer.BadParameter(f"--on must be a date YYYY-MM-DD, got {on!r}") from None
        if current_year not in ("unknown", "continue_december"):
            raise typer.BadParameter(f"--current-year must be unknown or continue_december, got {current_year!r}")
        register_options = RegisterOptions(current_year=current_year)  # type: ignore[arg-type]
        manifest = read_manifest(dataset)
        waiting, org = scenario_waiting_list(dataset, reference, sample=applicants,
                                             rng=np.random.default_rng([seed, 1]), options=register_options)
        settings = replace(settings, org_id=org, start=reference)
        register_meta = {"dataset": str(dataset), "dataset_vintage": manifest.vintage,
                         "dataset_seed": manifest.seed, "reference_date": reference.isoformat(),
                         "register_options": asdict(register_options), "waiting_list": len(waiting),
                         "org_id": org}
    elif on is not None:
        raise typer.BadParameter("--on needs --dataset")
    with output.progress("letting", total=100) as bar:
        result = run_scenario(policy_set, seed, settings, on_progress=bar, applicants=waiting)
    path = write_decision_log(out, result.engine.decisions)
    meta = {"decision_log": str(path), "vintage": "synthetic letting scenario (boligmix.letting.scenario)",
            "seed": seed, "applicants": applicants, "vacancies": vacancies, **register_meta,
            "municipality_code": municipality,
            "policies": [{"id": p.id, "version": p.version, "file": p.source} for p in policy_set.policies],
            **result.summary}
    meta_path = path.with_name(path.name + ".meta.json")
    write_text_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=2))
    human = "\n".join([f"wrote {path} ({result.summary['decisions']} decisions, seed {seed})",
                        f"lettings: {result.summary['lettings']} {result.summary['lettings_by_channel']}",
                        f"rejections: {result.summary['rejections_by_rule']}",
                        f"held for unknown facts: {result.summary['held_for_unknown_facts']}"])
    output.result(meta, human)


def register(app: typer.Typer) -> None:
    """Add the commands to the `letting` group, sharing it with other modules (the letting store
    adds its admin commands to the same group, whichever module registers first)."""
    for group in app.registered_groups:
        if group.name == "letting" and group.typer_instance is not None:
            group.typer_instance.registered_commands.extend(letting_app.registered_commands)
            return
    app.add_typer(letting_app, name="letting")
