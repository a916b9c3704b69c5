"""`boligmix simulate`: policy microsimulation with Monte Carlo replications (in process or on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    sim = typer.Typer(help="Microsimulation of areas under letting policies and plans (boligmix.simulate).",
                      invoke_without_command=True, no_args_is_help=False)

    @sim.callback(invoke_without_command=True)
    def simulate(
        ctx: typer.Context,
        data: Optional[Path] = typer.Option(None, "--data", help="Dataset directory (the start state and history)."),
        scenario: str = typer.Option("baseline", "--scenario", help="Scenario YAML file or packaged name "
                                     "(baseline, kombineret_udsat, fleksibel_half, demolish_omdannelse)."),
        start: Optional[int] = typer.Option(None, "--start", help="First simulated year (default: the year after "
                                            "the data's last register year)."),
        years: int = typer.Option(10, "--years", help="Years to simulate."),
        replications: int = typer.Option(1, "--replications", help="Monte Carlo replications."),
        seed: int = typer.Option(1, "--seed", help="Seed of the keyed random streams."),
        workers: int = typer.Option(1, "--workers", help="Dask LocalCluster workers (1: in process)."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
        out: Optional[Path] = typer.Option(None, "--out", help="Run directory to write."),
        force: bool = typer.Option(False, "--force", help="Replace an existing run directory."),
    ) -> None:
        """Simulate START .. START+YEARS-1 and write areas.parquet, lettings.parquet, summary.csv, rates/, manifest.json."""
        if ctx.invoked_subcommand is not None:
            return
        from boligmix.errors import ConfigurationError

        if data is None or out is None:
            raise ConfigurationError("simulate needs --data DIR and --out DIR")
        from rich.progress import Progress

        from boligmix.simulate.run import run_simulation

        with Progress(transient=True) as progress:
            task = progress.add_task("replications", total=replications)
            path = run_simulation(data, scenario, out, start=start, years=years, replications=replications, seed=seed,
                                  workers=workers, scheduler=scheduler, overwrite=force,
                                  on_progress=lambda done, total: progress.update(task, completed=done))
        typer.echo(f"wrote {path}")

    @sim.command("compare")
    def compare(
        run_a: Path = typer.Argument(..., help="Run directory A (e.g. the baseline)."),
        run_b: Path = typer.Argument(..., help="Run directory B (the policy)."),
        out: Path = typer.Option(..., "--out", help="HTML report to write."),
        lang: str = typer.Option("da", "--lang", help="da or en."),
    ) -> None:
        """Differences B - A per area and year with intervals over replications (HTML, disclosure-controlled)."""
        from boligmix.simulate.compare import write_compare_report

        path = write_compare_report(run_a, run_b, out, lang=lang)
        typer.echo(f"wrote {path}")

    app.add_typer(sim, name="simulate")
