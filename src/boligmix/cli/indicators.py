"""`boligmix indicators ...`: official-list indicators from a dataset, and the settings in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, require_internal_name
from boligmix.errors import ConfigurationError

indicators_app = typer.Typer(help="Area, department and municipality indicators from register data.",
                             no_args_is_help=True)



def _check_output_file(out: Path, force: bool, internal: bool = False) -> None:
    """The output must be .csv or .parquet and may replace an existing file only with --force; an
    internal (unprotected) file must say so in its name."""
    if out.suffix not in (".csv", ".parquet"):
        raise ConfigurationError("the output file must end in .csv or .parquet", field="--out")
    if out.exists() and not force:
        raise ConfigurationError(f"{out} exists; pass --force to replace it", field="--out")
    if internal:
        require_internal_name(out)


DatasetArgument = Annotated[Path, typer.Argument(help="Dataset directory (Parquet tables + manifest.json).")]
OutFileOption = Annotated[Path, typer.Option("--out", "-o", help="Output file: .csv or .parquet.")]
LevelOption = Annotated[str, typer.Option(help="area, department or municipality.")]
ForceFileOption = Annotated[bool, typer.Option("--force", help="Replace an existing output file.")]
InternalOption = Annotated[bool, typer.Option(
    "--internal", help="Write exact counts without disclosure control (internal use only: the file name must "
                       "contain 'intern' and its first column says so). Default: small counts and the values "
                       "built on them are suppressed, as for publication.")]

def register(app: typer.Typer) -> None:
    app.add_typer(indicators_app, name="indicators")


def _compute_and_write(output: Output, what: str, compute, protect, out: Path, force: bool, internal: bool,
                       inputs: dict) -> Any:
    """Check the output file, compute the frame (with a progress bar) and write it as published
    (`protect(frame).frame`) or, with --internal, marked internal; a BoligmixError is exit 2."""
    from boligmix.data.io import check_out_paths
    from boligmix.indicators.publish import internal_frame

    _check_output_file(out, force, internal)
    check_out_paths(out, inputs)
    with output.progress(what, total=100) as bar:
        frame = compute(bar)
    _write_atomic(internal_frame(frame) if internal else protect(frame).frame, out)
    return frame


def _write_atomic(frame, out: Path) -> None:
    """`frame` as Parquet or CSV (by the suffix of `out`), written atomically."""
    from boligmix.report._files import write_with

    write_with(out, frame.write_parquet if out.suffix == ".parquet" else frame.write_csv)


@indicators_app.command("compute")
def compute(
    dataset: DatasetArgument,
    year: Annotated[list[int], typer.Option("--year", "-y", help="List year (repeatable).")],
    out: OutFileOption,
    level: LevelOption = "area",
    settings_file: Annotated[Path | None, typer.Option(
        help="YAML file of indicator settings per rule version (default: the shipped one).")] = None,
    force: ForceFileOption = False,
    internal: InternalOption = False,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    """Compute the official-list indicators per unit and list year and write them to a file."""
    from boligmix.indicators import compute_area_indicators, settings_for_list_year
    from boligmix.indicators.publish import protect_indicators

    output = Output(quiet=quiet, json=json)

    def compute(bar):
        settings = ({y: settings_for_list_year(y, settings_file) for y in year} if settings_file else None)
        return compute_area_indicators(dataset, year, settings, level=level, on_progress=bar)  # type: ignore[arg-type]

    frame = _compute_and_write(output, "indicators", compute, protect_indicators, out, force, internal,
                               {"dataset directory": dataset, "--settings-file": settings_file})
    payload = {"out": str(out), "rows": frame.height, "level": level, "years": sorted(set(year)),
               "columns": frame.columns, "vintage": frame.get_column("vintage")[0] if frame.height else None,
               "rules_basis": sorted(set(frame.get_column("rules_basis").to_list()))}
    output.result(payload, human=f"wrote {frame.height} rows ({level}, years {', '.join(map(str, sorted(set(year))))}) "
                              f"to {out}")


@indicators_app.command("settings")
def show_settings(
    year: Annotated[int, typer.Option("--year", "-y", help="List year.")],
    settings_file: Annotated[Path | None, typer.Option(help="YAML settings file (default: the shipped one).")] = None,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    """Show the indicator settings in force for a list year and the register years they read."""
    from boligmix.indicators import settings_for_list_year

    output = Output(quiet=quiet, json=json)
    settings = settings_for_list_year(year, settings_file)
    payload = {**settings.model_dump(mode="json"), "register_years": settings.register_years_text(year)}
    output.result(payload)


@indicators_app.command("composition")
def composition(
    dataset: DatasetArgument,
    year: Annotated[list[int], typer.Option("--year", "-y", help="Year (repeatable): residents on 1 January.")],
    out: OutFileOption,
    indicator: Annotated[list[str] | None, typer.Option(
        "--indicator", "-i", help="Indicator name (repeatable; default: all, see --list).")] = None,
    level: LevelOption = "area",
    force: ForceFileOption = False,
    internal: InternalOption = False,
    quiet: QuietOption = False,
    json: JsonOption = False,
) -> None:
    """Compute general composition indicators (tidy: one row per unit, year and indicator)."""
    from boligmix.indicators.composition import compute_composition
    from boligmix.indicators.publish import protect_composition

    output = Output(quiet=quiet, json=json)
    def compute(bar):
        return compute_composition(dataset, year, indicator or None, level=level, on_progress=bar)  # type: ignore[arg-type]

    frame = _compute_and_write(output, "composition", compute, protect_composition, out, force, internal,
                               {"dataset directory": dataset})
    payload = {"out": str(out), "rows": frame.height, "level": level, "years": sorted(set(year)),
               "indicators": sorted(set(frame.get_column("indicator").to_list()))}
    output.result(payload, human=f"wrote {frame.height} rows ({len(payload['indicators'])} indicators, {level}) to {out}")


@indicators_app.command("list")
def list_indicators(quiet: QuietOption = False, json: JsonOption = False) -> None:
    """List the registered composition indicators."""
    from boligmix.indicators.composition import INDICATORS

    payload = {name: {"description": i.description, "population": i.population, "kind": i.kind}
               for name, i in INDICATORS.items()}
    Output(quiet=quiet, json=json).result(
        payload, human="\n".join(f"{n:24} {i.description} (of {i.population})" for n, i in INDICATORS.items()))
