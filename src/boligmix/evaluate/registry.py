"""The programme registry: boligsociale helhedsplaner and other interventions, read from CSV or Excel.

Programmes: `programme_id,name,kind,start,end,budget_dkk,lbf_dkk,local_dkk,departments`
(`departments` is a `;`-separated list of department ids; `start`/`end` a year or an ISO date).
Activities: `programme_id,activity` (e.g. fritidsjob, bydelsmødre, lektiehjælp): a second CSV file or
a sheet named `activities` beside a sheet `programmes` in the workbook.

Checks, from the versioned `registry_rules.yaml` (no threshold in code): local co-financing at least
`min_local_share` of the budget, LBF + local = budget (within `sum_tolerance_dkk`), the departments
exist in the dataset, start <= end, unique programme ids. Errors name file, row (1-based, header
excluded) and column. Amounts may be written the Danish way (`1.200.000,50`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.files import read_yaml

PROGRAMME_COLUMNS = ("programme_id", "name", "kind", "start", "end", "budget_dkk", "lbf_dkk", "local_dkk",
                     "departments")
ACTIVITY_COLUMNS = ("programme_id", "activity")
AMOUNT_COLUMNS = ("budget_dkk", "lbf_dkk", "local_dkk")


class RegistryRules(BaseModel):
    """Versioned checks of the registry (`registry_rules.yaml`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    source: str = ""
    min_local_share: float = Field(ge=0, le=1)
    sum_tolerance_dkk: float = Field(ge=0)
    kinds: tuple[str, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "RegistryRules":
        raw, source = read_yaml(path, package="boligmix.rules.evaluate", filename="registry_rules.yaml",
                                what="registry rules")
        try:
            return cls.model_validate(raw)
        except Exception as exc:
            raise ConfigurationError(str(exc), source=source) from exc


@dataclass(frozen=True)
class Registry:
    programmes: pl.DataFrame
    """PROGRAMME_COLUMNS with start/end as dates, amounts as floats, departments as list[str]."""
    activities: pl.DataFrame
    """programme_id, activity (lower case)."""
    source: str
    rules: RegistryRules

    def department_programmes(self) -> pl.DataFrame:
        """One row per programme and department: programme_id, department_id, start_year, end_year, kind."""
        return (self.programmes.select("programme_id", "kind", "departments",
                                       pl.col("start").dt.year().alias("start_year"),
                                       pl.col("end").dt.year().alias("end_year"))
                .explode("departments").rename({"departments": "department_id"}))


def read_registry(path: str | Path, *, activities: str | Path | None = None,
                  departments: set[str] | None = None, rules: RegistryRules | None = None) -> Registry:
    """Read and check a registry. `departments`: the dataset's department ids (None: not checked)."""
    rules = rules or RegistryRules.load()
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("registry file not found", path=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = _read_workbook(path)
        if "programmes" not in sheets:
            raise DataValidationError(f"the workbook needs a sheet named 'programmes' (it has {', '.join(sheets)})",
                                      path=str(path))
        prog_raw, prog_src = sheets["programmes"], f"{path}[programmes]"
        act_raw = sheets.get("activities")
        act_src = f"{path}[activities]"
    elif path.suffix.lower() == ".csv":
        prog_raw, prog_src = _read_csv(path), str(path)
        act_raw, act_src = (_read_csv(Path(activities)), str(activities)) if activities else (None, "")
    else:
        raise DataValidationError("registry must be .csv or .xlsx", path=str(path))
    if activities and path.suffix.lower() != ".csv":
        act_raw, act_src = _read_csv(Path(activities)), str(activities)
    programmes = _check_programmes(prog_raw, prog_src, rules, departments)
    acts = _check_activities(act_raw, act_src, set(programmes["programme_id"])) if act_raw is not None else \
        pl.DataFrame(schema={"programme_id": pl.String, "activity": pl.String})
    return Registry(programmes, acts, prog_src, rules)


# --- reading -----------------------------------------------------------------------------------


def _read_csv(path: Path) -> pl.DataFrame:
    from boligmix.data.ingest import read_table_file

    if not path.is_file():
        raise DataValidationError("file not found", path=str(path))
    frame = read_table_file(path)
    return frame.rename({c: c.strip().lower() for c in frame.columns})


def _read_workbook(path: Path) -> dict[str, pl.DataFrame]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a broken file
        raise DataValidationError(f"not a readable Excel workbook ({exc})", path=str(path)) from exc
    out = {}
    for ws in wb.worksheets:
        rows = [["" if v is None else (v.isoformat()[:10] if isinstance(v, date) else str(v)) for v in r]
                for r in ws.iter_rows(values_only=True)]
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        header = [h.strip().lower() for h in rows[0]]
        out[ws.title.strip().lower()] = pl.DataFrame(
            {h: [r[i] if i < len(r) else "" for r in rows[1:]] for i, h in enumerate(header) if h},
            schema={h: pl.String for h in header if h})
    wb.close()
    return out


# --- checks ------------------------------------------------------------------------------------


def _require(frame: pl.DataFrame, columns: tuple[str, ...], source: str) -> None:
    for c in columns:
        if c not in frame.columns:
            raise DataValidationError(f"column is missing (expected {', '.join(columns)})", path=source, column=c)


def _text(frame: pl.DataFrame, column: str) -> list[str]:
    return ["" if v is None else str(v).strip() for v in frame[column].to_list()]


def _amount(value: str, source: str, row: int, column: str) -> float:
    v = value.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?|-?\d+,\d+", v):
        v = v.replace(".", "").replace(",", ".")
    try:
        out = float(v)
    except ValueError:
        raise DataValidationError(f"{value!r} is not an amount in DKK", path=source, row=row, column=column) from None
    if out < 0:
        raise DataValidationError(f"amount {value} is negative", path=source, row=row, column=column)
    return out


def _date(value: str, source: str, row: int, column: str, *, end: bool) -> date:
    try:
        if re.fullmatch(r"\d{4}", value):
            return date(int(value), 12, 31) if end else date(int(value), 1, 1)
        return date.fromisoformat(value[:10])
    except ValueError:
        raise DataValidationError(f"{value!r} is not a year or a date (YYYY or YYYY-MM-DD)", path=source, row=row,
                                  column=column) from None


def _check_programmes(raw: pl.DataFrame, source: str, rules: RegistryRules,
                      departments: set[str] | None) -> pl.DataFrame:
    _require(raw, PROGRAMME_COLUMNS, source)
    text = {c: _text(raw, c) for c in PROGRAMME_COLUMNS}
    records, seen = [], set()
    for i in range(raw.height):
        row = i + 1
        for c in ("programme_id", "name", "kind", "start", "end", "budget_dkk", "lbf_dkk", "local_dkk", "departments"):
            if not text[c][i]:
                raise DataValidationError("value is empty", path=source, row=row, column=c)
        pid = text["programme_id"][i]
        if pid in seen:
            raise DataValidationError(f"programme_id {pid} appears twice", path=source, row=row, column="programme_id")
        seen.add(pid)
        kind = text["kind"][i].lower()
        if kind not in rules.kinds:
            raise DataValidationError(f"unknown kind {kind!r}; known: {', '.join(rules.kinds)}", path=source,
                                      row=row, column="kind")
        start = _date(text["start"][i], source, row, "start", end=False)
        end = _date(text["end"][i], source, row, "end", end=True)
        if start > end:
            raise DataValidationError(f"start {text['start'][i]} is after end {text['end'][i]}", path=source,
                                      row=row, column="end")
        budget, lbf, local = (_amount(text[c][i], source, row, c) for c in AMOUNT_COLUMNS)
        if abs(lbf + local - budget) > rules.sum_tolerance_dkk:
            raise DataValidationError(
                f"lbf_dkk + local_dkk = {lbf + local:,.0f} but budget_dkk = {budget:,.0f}", path=source, row=row,
                column="budget_dkk")
        if budget > 0 and local < rules.min_local_share * budget - 1e-9:
            raise DataValidationError(
                f"local co-financing is {local / budget:.1%} of the budget; at least {rules.min_local_share:.0%} "
                f"is required (registry rules {rules.version})", path=source, row=row, column="local_dkk")
        deps = [d.strip() for d in text["departments"][i].split(";") if d.strip()]
        if departments is not None:
            unknown = [d for d in deps if d not in departments]
            if unknown:
                raise DataValidationError(f"unknown department(s) {', '.join(unknown)} (not in the dataset)",
                                          path=source, row=row, column="departments")
        records.append({"programme_id": pid, "name": text["name"][i], "kind": kind, "start": start, "end": end,
                        "budget_dkk": budget, "lbf_dkk": lbf, "local_dkk": local, "departments": deps})
    if not records:
        raise DataValidationError("the registry has no programmes", path=source)
    return pl.DataFrame(records, schema={"programme_id": pl.String, "name": pl.String, "kind": pl.String,
                                         "start": pl.Date, "end": pl.Date, "budget_dkk": pl.Float64,
                                         "lbf_dkk": pl.Float64, "local_dkk": pl.Float64,
                                         "departments": pl.List(pl.String)})


def _check_activities(raw: pl.DataFrame, source: str, programmes: set[str]) -> pl.DataFrame:
    _require(raw, ACTIVITY_COLUMNS, source)
    pids, acts = _text(raw, "programme_id"), _text(raw, "activity")
    for i, (pid, act) in enumerate(zip(pids, acts)):
        if pid not in programmes:
            raise DataValidationError(f"programme {pid!r} is not in the programme registry", path=source,
                                      row=i + 1, column="programme_id")
        if not act:
            raise DataValidationError("value is empty", path=source, row=i + 1, column="activity")
    return pl.DataFrame({"programme_id": pids, "activity": [a.lower() for a in acts]},
                        schema={"programme_id": pl.String, "activity": pl.String}).unique(maintain_order=True)
