"""`boligmix monitor`: status, trend, warnings and a forecast of next year's lists with a backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from boligmix.cli._output import JsonOption, Output, QuietOption, check_lang


def register(app: typer.Typer) -> None:
    app.command("monitor")(monitor_command)


def monitor_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset directory (Parquet tables + manifest.json).")],
    year: Annotated[int, typer.Option("--year", help="List year Y: status of Y, forecast of the lists of Y+1.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory: status.csv, forecast.csv, warnings.csv, "
                                                    "backtest.csv, report.html, provenance.json.")],
    set_: Annotated[str, typer.Option("--set", help="Indicator set: legal, legal-no-ethnicity, aarhus, or a set "
                                                    ".yaml file.")] = "legal",
    level: Annotated[str, typer.Option("--level", help="area, department, organisation or municipality.")] = "area",
    extra: Annotated[Optional[Path], typer.Option(
        "--extra", help="Area-level indicators not in the registers: CSV unit_id,year,indicator,value.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report and messages: da (default) or en.")]
    = "da",
    margin: Annotated[float, typer.Option("--margin", help="Warn within this fraction of a threshold (0.1 = 10 %).")]
    = 0.1,
    status_years: Annotated[int, typer.Option("--status-years", help="List years of status and trend.")] = 5,
    window_years: Annotated[int, typer.Option("--arrival-years", help="Years of arrivals the receiving-area watch "
                                                                      "looks back over.")] = 3,
    draws: Annotated[int, typer.Option("--draws", help="Simulated draws per area in the forecast.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the forecast's random draws.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Replace output files that exist in --out.")] = False,
    quiet: QuietOption = False,
    json_: JsonOption = False,
) -> None:
    """Monitor every unit against an indicator set, warn early and forecast next year's lists."""
    from boligmix.data.io import check_out_dir
    from boligmix.errors import ConfigurationError, DatasetError
    from boligmix.monitor.pipeline import MonitorSettings, run_monitor
    from boligmix.monitor.publish import FILES, write_monitor

    output = Output(quiet=quiet, json=json_)
    check_lang(lang)
    if not 0 <= margin < 1:
        raise ConfigurationError(f"--margin must be in [0, 1), got {margin}", field="margin")
    for name, value in (("--status-years", status_years), ("--arrival-years", window_years), ("--draws", draws)):
        if value < 1:
            raise ConfigurationError(f"{name} must be at least 1, got {value}", field=name.lstrip("-"))
    check_out_dir(data, out, source="dataset directory")
    for path, what in ((extra, "--extra file"), (Path(set_) if set_.endswith((".yaml", ".yml")) else None,
                                                   "--set file")):
        if path is not None:
            check_out_dir(path, out, source=what)
    existing = [f for f in FILES if (out / f).exists()]
    if existing and not force:
        raise DatasetError(f"{out} already holds {', '.join(existing)}; pass --force to replace them")
    settings = MonitorSettings(set=set_, level=level, extra=str(extra) if extra else None,
                               status_years=status_years, margin=margin, window_years=window_years, draws=draws,
                               seed=seed)
    with output.progress("monitor", total=100) as bar:
        result = run_monitor(data, year, settings, on_progress=bar)
        bar.update(description="writing report")
        files = write_monitor(result, out, lang=lang, dataset=str(data),
                              command=f"boligmix monitor --year {year} --set {set_} --level {level}")
    from boligmix.monitor.backtest import summary

    pooled = summary(result.forecast.backtest).filter(summary(result.forecast.backtest)["list"] == "all").row(
        0, named=True)
    kinds = result.warnings.group_by("kind").len().rows() if result.warnings.height else []
    payload = {"year": year, "forecast_year": year + 1, "set": result.iset.id, "level": level, "out": str(out),
               "files": files, "units": result.status.categories.filter(
                   result.status.categories["year"] == year).height,
               "warnings": dict(kinds), "backtest": pooled}
    reduction = pooled["reduction"]

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    human = (f"monitor {year} ({result.iset.id}, {level}) -> {out}: {payload['units']} units, "
             f"{result.warnings.height} warnings; forecast of {year + 1}, backtest Brier "
             f"{fmt(pooled['brier_forecast'])} vs persistence {fmt(pooled['brier_persistence'])}"
             + (f" ({reduction:.0%} lower)" if reduction is not None else ""))
    output.result(payload, human)
