"""`evaluate did` end to end: read and check the panel, estimate, optionally bootstrap, write.

Nothing is written before the panel has passed its checks and the estimation has succeeded.
"""

from __future__ import annotations

from pathlib import Path

from boligmix.data.io import check_out_dir
from boligmix.evaluate.comparison_publish import POPULATION, population_table, treated_population
from boligmix.evaluate.did import DidOptions, DidResult, estimate, parse_window
from boligmix.evaluate.panel_input import PanelColumns, check_panel, read_panel
from boligmix.report import Provenance
from boligmix.report.disclosure import DisclosurePolicy


def run_did(*, panel: Path, unit: str, time: str, outcome: str, treated_from: str, out: Path,
            estimator: str = "twfe", cluster: str | None = None, window: str | None = None,
            controls: str | None = None, bootstrap: int = 0, seed: int = 1,
            population: str = POPULATION) -> tuple[dict[str, str], DidResult]:
    options = DidOptions(estimator=estimator, window=parse_window(window), controls=controls)
    check_out_dir(panel, out, source="panel file")
    raw = read_panel(panel)
    pop = population_table(raw, unit, time, population, str(panel))
    frame = check_panel(raw, PanelColumns(unit, time, outcome, treated_from, cluster), source=str(panel))
    result = estimate(frame, options)
    settings = {"estimator": estimator, "unit": unit, "time": time, "outcome": outcome,
                "treated_from": treated_from, "cluster": cluster or unit, "window": window or "",
                "controls": controls or "", "fixef_tol": "1e-12", "population": population}
    if bootstrap:
        from boligmix.evaluate.bootstrap import wild_bootstrap_att

        boot = wild_bootstrap_att(frame, reps=bootstrap, seed=seed)
        result.notes.append(f"wild cluster bootstrap (Rademacher, {bootstrap} draws, seed {seed}, null imposed): "
                            f"p = {boot['p_value']:.4f} for ATT = 0 (twfe)")
        settings["bootstrap"] = bootstrap
    prov = Provenance(data_vintage=_vintage(panel), seed=seed if bootstrap else None, dataset=str(panel),
                      command=f"boligmix evaluate did --estimator {estimator}",
                      rule_versions={"disclosure_policy": DisclosurePolicy.load().version}, settings=settings)
    from boligmix.evaluate.did_output import write_did_outputs

    files = write_did_outputs(result, out, provenance=prov, estimator=estimator, outcome=outcome,
                              treated_persons=treated_population(frame, pop))
    return files, result


def _vintage(panel: Path) -> str:
    """The panel's data vintage from its sidecar provenance (written by `evaluate panel`), else 'unknown'."""
    import json

    side = panel.with_suffix(".provenance.json")
    if side.is_file():
        try:
            return str(json.loads(side.read_text(encoding="utf-8")).get("data_vintage", "unknown"))
        except (OSError, ValueError):
            return "unknown"
    return "unknown"
