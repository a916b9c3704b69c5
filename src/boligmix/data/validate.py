"""Validate register tables read from files against their `TableSpec` (vectorised polars).

`validate_table` and `validate_tables` take frames as read from a file (CSV: every column a
string; Parquet: typed) and return frames cast to the schema dtypes, or raise one
`DataValidationErrors` listing up to `max_errors` problems. Each problem names the file, the
1-based data row (the header is not counted: row 1 is the first line under the header, which a
spreadsheet shows as row 2), the column, the bad value and what was expected.

Checks: empty file, missing and unexpected columns, values that cannot be read as the column's
dtype, nulls in non-nullable columns, values outside `allowed`, `minimum` or `maximum`,
duplicate primary keys (naming every row with the key) and foreign keys (`Column.references`)
into other tables of the same import.

Every check is one polars expression over whole columns; a first pass counts the failures of
every check at once, and only failing checks are filtered for their first rows. Plain polars
rather than pandera: the hard part is parsing text to the schema dtypes while keeping the raw
value and the file row for the message, which pandera's polars backend (it validates frames
that already have their dtypes) does not do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import polars as pl

from boligmix.data.schema import TABLES, Column, DType, TableSpec
from boligmix.errors import DataValidationError

ROW = "__boligmix_row__"
"""Name of the 1-based data-row column carried through validation."""

DEFAULT_MAX_ERRORS = 20

POLARS_DTYPES: dict[str, pl.DataType] = {
    "int64": pl.Int64(),
    "float64": pl.Float64(),
    "string": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
}

BOOL_TRUE = ("1", "true")
BOOL_FALSE = ("0", "false")
"""Accepted spellings of booleans in text files (case-insensitive)."""

DATE_FORMAT = "%Y-%m-%d"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

EXPECTED_TEXT: dict[str, str] = {
    "int64": "a whole number (int64)",
    "float64": "a finite number with '.' as decimal point (float64)",
    "bool": "one of 0, 1, true, false (bool)",
    "date": "a date written YYYY-MM-DD (date)",
    "string": "text",
    "id": "an identifier (text or whole number)",
}
"""What each dtype expects, as error messages and the data dictionary say it."""


class DataValidationErrors(DataValidationError):
    """One or more data problems found together.

    `.errors` lists every problem found (up to the limit); `.path`, `.row` and `.column` are those
    of the first. The message lists them all, one per line.
    """

    def __init__(self, errors: list[DataValidationError], *, truncated: bool = False) -> None:
        first = errors[0]
        super().__init__(first.reason, path=first.path, row=first.row, column=first.column)
        self.errors = list(errors)
        self.truncated = truncated
        if len(errors) == 1 and not truncated:
            return
        head = (f"{len(errors)} or more data problems; the first {len(errors)}:" if truncated
                else f"{len(errors)} data problems:")
        self.args = ("\n".join([head, *(f"  - {e}" for e in errors)]),)


@dataclass
class ErrorCollector:
    """Collects data problems up to `limit`, then stops accepting them."""

    limit: int = DEFAULT_MAX_ERRORS
    errors: list[DataValidationError] = field(default_factory=list)
    truncated: bool = False

    @property
    def room(self) -> int:
        return max(self.limit - len(self.errors), 0)

    @property
    def full(self) -> bool:
        return self.room == 0

    def add(self, message: str, *, path: str | None, row: int | None = None,
            column: str | None = None) -> None:
        if self.full:
            self.truncated = True
            return
        self.errors.append(DataValidationError(message, path=path, row=row, column=column))

    def raise_if_any(self) -> None:
        if self.errors:
            raise DataValidationErrors(self.errors, truncated=self.truncated)


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _parse_text(text: pl.Expr, dtype: DType) -> pl.Expr:
    """Parse stripped text (null when blank) to `dtype`; an unreadable value becomes null."""
    if dtype == "string":
        return text
    if dtype == "int64":
        return text.cast(pl.Int64, strict=False)
    if dtype == "float64":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number)
    if dtype == "bool":
        lower = text.str.to_lowercase()
        return (pl.when(lower.is_in(list(BOOL_TRUE))).then(True)
                .when(lower.is_in(list(BOOL_FALSE))).then(False)
                .otherwise(None))
    if dtype == "date":
        iso = text.str.contains(DATE_PATTERN)
        return pl.when(iso).then(text.str.strptime(pl.Date, DATE_FORMAT, strict=False))
    raise ValueError(f"unknown dtype {dtype}")  # pragma: no cover - schema dtypes are fixed


def _clean_text(expr: pl.Expr) -> pl.Expr:
    """Strip surrounding spaces; a blank value is a missing value (null)."""
    stripped = expr.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def _parse_column(name: str, raw_dtype: pl.DataType, target: DType | str) -> pl.Expr:
    """Column `name` of the raw frame parsed to `target`; null where missing or unreadable.

    `target` is a schema dtype, or "id" for a source identifier (text or a whole number, kept
    as text for pseudonymisation). A value is unreadable exactly when it is present (not
    null, not blank) and its parsed value is null.
    """
    raw = pl.col(name)
    if isinstance(raw_dtype, (pl.Categorical, pl.Enum)):
        raw, raw_dtype = raw.cast(pl.String), pl.String()
    if target == "id":
        if raw_dtype == pl.String or raw_dtype.is_integer() or raw_dtype == pl.Null:
            return _clean_text(raw.cast(pl.String))
        return _parse_column(name, raw_dtype, "int64").cast(pl.String)
    if raw_dtype == pl.String:
        return _parse_text(_clean_text(raw), target)  # type: ignore[arg-type]
    wanted = POLARS_DTYPES[target]
    if raw_dtype == pl.Null:
        return raw.cast(wanted)
    if target == "string":
        return _clean_text(raw.cast(pl.String))
    if raw_dtype == wanted:
        return pl.when(raw.is_finite()).then(raw) if target == "float64" else raw
    # A typed file (Parquet) with another dtype: accept a value only if it converts without loss.
    parsed = raw.cast(wanted, strict=False)
    lossless = parsed.cast(raw_dtype, strict=False).eq_missing(raw)
    return pl.when(lossless).then(parsed)


def source_id_columns(spec: TableSpec, id_columns: Collection[str]) -> tuple[str, ...]:
    """The columns of `spec` that hold source identifiers (pseudonymised after validation)."""
    return tuple(c.name for c in spec.columns if c.name in id_columns)


def _check_header(raw: pl.DataFrame, spec: TableSpec, path: str, errors: ErrorCollector) -> list[Column]:
    """Report empty files and missing/unexpected columns; return the columns present."""
    if raw.width == 0:
        errors.add("the file is empty (no header line); expected the columns "
                   + ", ".join(spec.column_names), path=path)
        return []
    expected = set(spec.column_names)
    for name in spec.column_names:
        if name not in raw.columns:
            errors.add(f"required column is missing; expected the columns {', '.join(spec.column_names)}",
                       path=path, column=name)
    for name in raw.columns:
        if name not in expected:
            errors.add(f"unexpected column; table {spec.name} has only the columns "
                       f"{', '.join(spec.column_names)}", path=path, column=name)
    if raw.height == 0:
        errors.add("the file has no data rows", path=path)
    return [c for c in spec.columns if c.name in raw.columns]


def _value_checks(column: Column, typed: pl.Expr) -> list[tuple[pl.Expr, str]]:
    """(failure mask, message template) for the allowed/minimum/maximum rules of a column."""
    checks: list[tuple[pl.Expr, str]] = []
    if column.allowed is not None:
        checks.append((typed.is_not_null() & ~typed.is_in(list(column.allowed)),
                       "value {value} is not allowed; expected one of: " + ", ".join(column.allowed)))
    if column.minimum is not None:
        checks.append((typed < column.minimum, f"value {{value}} is below the minimum {column.minimum:g}"))
    if column.maximum is not None:
        checks.append((typed > column.maximum, f"value {{value}} is above the maximum {column.maximum:g}"))
    return checks


def parse_table(
    raw: pl.DataFrame,
    spec: TableSpec,
    *,
    path: str,
    errors: ErrorCollector,
    id_columns: Collection[str] = (),
) -> pl.DataFrame | None:
    """Cast `raw` to the schema dtypes and record every per-table problem in `errors`.

    Returns the typed frame with the 1-based row column `ROW` (None when the header is unusable).
    Columns named in `id_columns` are source identifiers: kept as stripped text.
    """
    present = _check_header(raw, spec, path, errors)
    if not present:
        return None
    frame = raw.with_row_index(ROW, offset=1)
    ids = set(source_id_columns(spec, id_columns))
    # One frame with, per column: the typed value (under its name), the raw value as text for
    # messages ("raw:") and whether the value is missing, i.e. null or blank ("missing:").
    exprs, checks = [], []
    for column in present:
        target = "id" if column.name in ids else column.dtype
        as_text = pl.col(column.name).cast(pl.String)
        exprs += [_parse_column(column.name, raw.schema[column.name], target).alias(column.name),
                  as_text.alias(f"raw:{column.name}"),
                  (as_text.is_null() | (as_text.str.strip_chars() == "")).alias(f"missing:{column.name}")]
    both = frame.select(ROW, *exprs)
    typed = both.select(ROW, *[c.name for c in present])
    for column in present:
        value, missing = pl.col(column.name), pl.col(f"missing:{column.name}")
        target = "id" if column.name in ids else column.dtype
        checks.append((column.name, ~missing & value.is_null(),
                       f"value {{value}} cannot be read; expected {EXPECTED_TEXT[target]}"))
        if not column.nullable:
            checks.append((column.name, missing, "missing value; this column may not be empty"))
        if column.name not in ids:
            checks.extend((column.name, mask, text) for mask, text in _value_checks(column, value))
    _report(both, checks, path, errors)
    _check_primary_key(typed, spec, path, errors)
    return typed


def _report(frame: pl.DataFrame, checks: list[tuple[str, pl.Expr, str]], path: str,
            errors: ErrorCollector) -> None:
    """Count every check's failures in one pass, then list the first failing rows of each."""
    if not checks:
        return
    counts = frame.select([mask.fill_null(False).sum().alias(str(i))
                           for i, (_, mask, _) in enumerate(checks)]).row(0)
    for (name, mask, template), count in zip(checks, counts):
        if not count:
            continue
        if errors.full:
            errors.truncated = True
            return
        bad = frame.filter(mask.fill_null(False)).select(ROW, f"raw:{name}").head(errors.room)
        for row, value in bad.iter_rows():
            errors.add(template.format(value=_show(value)), path=path, row=row, column=name)


def _check_primary_key(typed: pl.DataFrame, spec: TableSpec, path: str, errors: ErrorCollector) -> None:
    keys = list(spec.primary_key)
    if not all(k in typed.columns for k in keys):
        return
    complete = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
    key_expr = pl.struct(keys) if len(keys) > 1 else pl.col(keys[0])
    distinct, total = typed.select(key_expr.filter(complete).n_unique().alias("distinct"),
                                   complete.sum().alias("total")).row(0)
    if distinct == total:  # the cheap test; find the rows only when there are duplicates
        return
    duplicated = complete & key_expr.is_duplicated()
    groups = (typed.filter(duplicated)
              .group_by(keys, maintain_order=True)
              .agg(pl.col(ROW).sort().alias("rows"))
              .sort(pl.col("rows").list.first()))
    for group in groups.head(max(errors.room, 1)).iter_rows(named=True):
        rows = group["rows"]
        key_text = ", ".join(f"{k}={_show(group[k])}" for k in keys)
        listed = ", ".join(str(r) for r in rows[:-1]) + f" and {rows[-1]}"
        errors.add(f"duplicate primary key ({key_text}): rows {listed} have the same key",
                   path=path, row=rows[1], column=", ".join(keys))


def check_references(
    tables: Mapping[str, pl.DataFrame],
    paths: Mapping[str, str],
    errors: ErrorCollector,
) -> None:
    """Report values of `Column.references` columns with no match in the referenced table.

    Only references to tables in `tables` are checked; null values are not references.
    Frames carry the `ROW` column from `parse_table`.
    """
    for name, frame in tables.items():
        for column in TABLES[name].columns:
            if not column.references or column.name not in frame.columns:
                continue
            ref_table, ref_column = column.references.split(".")
            target = tables.get(ref_table)
            if target is None or ref_column not in target.columns:
                continue
            if errors.full:
                errors.truncated = True
                return
            known = target.get_column(ref_column).drop_nulls().unique()
            value = pl.col(column.name)
            dangling = value.is_not_null() & ~value.is_in(known.implode())
            bad = frame.filter(dangling).select(ROW, column.name).head(errors.room + 1)
            for row, found in bad.iter_rows():
                errors.add(f"value {_show(found)} has no match in {ref_table}.{ref_column} "
                           f"({paths.get(ref_table, ref_table)})",
                           path=paths.get(name, name), row=row, column=column.name)


def validate_table(
    raw: pl.DataFrame,
    spec: TableSpec,
    *,
    path: str,
    max_errors: int = DEFAULT_MAX_ERRORS,
    id_columns: Collection[str] = (),
) -> pl.DataFrame:
    """Validate one table read from `path`; return it cast to the schema dtypes.

    Raises `DataValidationErrors` (a `DataValidationError`) listing up to `max_errors` problems.
    """
    errors = ErrorCollector(max_errors)
    typed = parse_table(raw, spec, path=path, errors=errors, id_columns=id_columns)
    errors.raise_if_any()
    assert typed is not None
    return typed.drop(ROW)


def validate_tables(
    raws: Mapping[str, pl.DataFrame],
    paths: Mapping[str, str],
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
    id_columns: Collection[str] = (),
) -> dict[str, pl.DataFrame]:
    """Validate the tables of one import, including foreign keys between them.

    `raws` maps table names to frames as read; `paths` maps them to the file names used in
    messages. Returns the typed frames; raises `DataValidationErrors` with up to `max_errors`
    problems from all tables.
    """
    errors = ErrorCollector(max_errors)
    typed: dict[str, pl.DataFrame] = {}
    for name, raw in raws.items():
        frame = parse_table(raw, TABLES[name], path=paths.get(name, name), errors=errors,
                            id_columns=id_columns)
        if frame is not None:
            typed[name] = frame
    check_references(typed, paths, errors)
    errors.raise_if_any()
    return {name: frame.drop(ROW) for name, frame in typed.items()}
