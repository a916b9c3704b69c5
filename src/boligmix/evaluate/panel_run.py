"""`evaluate panel` end to end: checks, panel, stayer panel, atomic writes with a provenance sidecar.

The panel is INTERNAL (an analysis input: exact `comp_*`/`mix_*` shares and resident counts per
unit-year, unprotected): its file name must contain "intern", its first column (and the stayer
panel's) is `INTERNAL_not_for_publication` and the sidecar's first key says so, as for
`indicators compute --internal` (`indicators.publish.internal_frame`). What is published from it
(`evaluate twins`, `synthcontrol`, `did`) passes `report.disclosure`.
"""

from __future__ import annotations

import json
from pathlib import Path

from boligmix.data.io import check_out_dir, read_table
from boligmix.errors import ConfigurationError
from boligmix.evaluate.panel import PanelResult, build_panel
from boligmix.indicators.publish import INTERNAL_COLUMN, internal_frame
from boligmix.report._files import write_text_atomic, write_with
from boligmix.years import year_span


INTERNAL_PANEL_NOTE = ("INTERNT: evalueringspanel med ubeskyttede tal, ikke til offentliggørelse; offentliggør "
                       "resultaterne af evaluate twins/synthcontrol/did / INTERNAL: evaluation panel with unprotected "
                       "figures, not for publication; publish the results of evaluate twins/synthcontrol/did")


def parse_years(text: str) -> list[int]:
    """'2010-2024' -> every year from 2010 to 2024 (`boligmix.years.year_span`)."""
    first, last = year_span(text)
    return list(range(first, last + 1))


def run_panel(*, data: Path, years: str, out: Path, level: str = "area", registry: Path | None = None,
              activities: Path | None = None, policies: list[Path] = (), stayers: bool = True,
              stayer_base_year: int | None = None) -> tuple[dict[str, str], PanelResult]:
    year_list = parse_years(years)
    check_out_dir(data, out, source="dataset")
    for src in [p for p in (registry, activities, *policies) if p is not None]:
        check_out_dir(src, out, source="input file")
    if out.suffix.lower() != ".parquet":
        raise ConfigurationError(f"--out {out} must end in .parquet", field="out")
    if "intern" not in out.name.lower():
        raise ConfigurationError(f"--out {out}: the panel holds unprotected person-based figures (internal); name "
                                 f"the file so that it says so (e.g. {out.stem}-internal.parquet)", field="out")
    reg = None
    if registry is not None:
        from boligmix.evaluate.registry import read_registry

        deps = set(read_table(data, "departments", ["department_id"])["department_id"].to_list())
        reg = read_registry(registry, activities=activities, departments=deps)
    result = build_panel(data, year_list, level=level, registry=reg, policies=policies)
    stayer_frame = None
    if stayers:
        from boligmix.evaluate.stayers import stayer_panel

        from boligmix.evaluate.stayers import stayer_shares

        stayer_frame = stayer_panel(data, year_list, level=level, base_year=stayer_base_year)
        uid = "area_id" if level == "area" else "department_id"
        result.panel = result.panel.join(stayer_shares(stayer_frame, level), on=[uid, "year"], how="left")
    files = {"panel": str(write_with(out, lambda tmp: internal_frame(result.panel).write_parquet(tmp)))}
    if stayer_frame is not None:
        path = out.with_name(out.stem + ".stayers.parquet")
        files["stayers"] = str(write_with(path, lambda tmp: internal_frame(stayer_frame).write_parquet(tmp)))
    prov = {INTERNAL_COLUMN: INTERNAL_PANEL_NOTE, "data_vintage": result.vintage, "seed": result.seed, "dataset": str(data), "level": level,
            "years": [year_list[0], year_list[-1]], "registry": str(registry) if registry else None,
            "registry_rules": reg.rules.version if reg else None, "policies": [str(p) for p in policies],
            "stayer_base_year": stayer_base_year or year_list[0] if stayers else None, "notes": result.notes,
            "command": "boligmix evaluate panel"}
    side = out.with_suffix(".provenance.json")
    files["provenance"] = str(write_text_atomic(side, json.dumps(prov, indent=2, default=str)))
    return files, result
