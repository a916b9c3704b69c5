"""Render the data dictionary (`docs/data-dictionary.md`) from `boligmix.data.schema`.

`scripts/gen_data_dictionary.py` writes it; a test checks that the committed file is current.
"""

from __future__ import annotations

from boligmix.data.ingest import CSV_SEPARATORS, SUFFIXES
from boligmix.data.pseudonymise import ID_COLUMNS, KEY_ENV, MIN_KEY_BYTES
from boligmix.data.schema import SCHEMA_VERSION, TABLES, Column, TableSpec
from boligmix.data.validate import BOOL_FALSE, BOOL_TRUE, DEFAULT_MAX_ERRORS, EXPECTED_TEXT

HEADER = """# Data dictionary

<!-- Generated from src/boligmix/data/schema.py by scripts/gen_data_dictionary.py; do not edit. -->

Schema version {version}. A dataset is a directory with `<table>.parquet` for every table below
(optional tables may be absent) and `manifest.json`. Real register extracts are imported with
`boligmix ingest` (see [ingest.md](ingest.md) and the last section); the synthetic generator writes
the same tables.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _range(column: Column) -> str:
    low = _number(column.minimum) if column.minimum is not None else ""
    high = _number(column.maximum) if column.maximum is not None else ""
    if not (low or high):
        return ""
    if low and high:
        return f"{low} .. {high}"
    return f"≥ {low}" if low else f"≤ {high}"


def _type(column: Column) -> str:
    return f"{column.dtype} (pseudonymised id)" if column.name in ID_COLUMNS else column.dtype


def _referenced_by(table: str) -> list[str]:
    return [f"`{spec.name}.{c.name}`" for spec in TABLES.values() for c in spec.columns
            if c.references and c.references.split(".")[0] == table]


def _table_section(spec: TableSpec) -> list[str]:
    lines = [f"## `{spec.name}`", "", spec.description, "",
             f"- Required: {'no (optional table)' if spec.optional else 'yes'}",
             f"- Primary key: {', '.join(f'`{k}`' for k in spec.primary_key)}"]
    referenced = _referenced_by(spec.name)
    if referenced:
        lines.append(f"- Referenced by: {', '.join(referenced)}")
    lines += ["", "| Column | Type | Nullable | Allowed values | Range | References | Description |",
              "|---|---|---|---|---|---|---|"]
    for c in spec.columns:
        allowed = ", ".join(f"`{v}`" for v in c.allowed) if c.allowed else ""
        ref = f"`{c.references}`" if c.references else ""
        lines.append(f"| `{c.name}` | {_type(c)} | {'yes' if c.nullable else 'no'} | {allowed} | "
                     f"{_range(c)} | {ref} | {_cell(c.description)} |")
    return [*lines, ""]


def _formats_section() -> list[str]:
    suffixes = " or ".join(f"`<table>{s}`" for s in SUFFIXES)
    id_list = ", ".join(f"`{c}`" for c in ID_COLUMNS)
    types = "\n".join(f"  - {dtype}: {EXPECTED_TEXT[dtype]}" for dtype in ("int64", "float64", "bool", "date",
                                                                            "string"))
    return [
        "## Files accepted by `boligmix ingest`", "",
        f"- One file per table, named {suffixes}, all in one directory. Every required table must be "
        "there, optional tables may be, and any other file (or a table given twice) is an error that "
        "lists the expected names.",
        "- Columns are matched by name (order does not matter); a missing or an extra column is an error.",
        f"- CSV: UTF-8 text with a header line; fields separated by `{CSV_SEPARATORS[0]}` (or "
        f"`{CSV_SEPARATORS[1]}` when the header line contains `{CSV_SEPARATORS[1]}` and no "
        f"`{CSV_SEPARATORS[0]}`); fields may be quoted with `\"`. Every value is read as text and then "
        "parsed to the column type:",
        types,
        f"  - booleans: {' or '.join(f'`{v}`' for v in BOOL_TRUE)} mean true, "
        f"{' or '.join(f'`{v}`' for v in BOOL_FALSE)} false (any letter case).",
        "  - Spaces around a value are removed; an empty (or all-space) field is a missing value (null).",
        "- Parquet: columns of the schema type are taken as they are; other types are converted only "
        "when no information is lost (e.g. integers 0/1 to bool, 2021.0 to int 2021, a datetime at "
        "midnight to a date); 2021.5 in an int column or 12:30 in a date column is an error.",
        f"- Identifier columns {id_list} hold the source ids, as text (e.g. a CPR-like `010190-1234`) or "
        "whole numbers; an integer and its decimal text are the same id (`17` = \"17\"), `017` is "
        "another. They are replaced by keyed pseudonyms (HMAC-SHA256, positive int64); the same source "
        "id gets the same pseudonym in every table. The key comes from `--key-file` or "
        f"`${KEY_ENV}` (at least {MIN_KEY_BYTES} bytes); ingest refuses to run without it.",
        "- Foreign keys (the References column) are checked against the other tables of the same import.",
        "",
        "### Row numbers in error messages", "",
        "Errors name the file, the row and the column. Rows are 1-based data rows: the header line is not "
        "counted, so row 1 is the first line below the header, which a spreadsheet shows as row 2. (In a "
        "CSV file with line breaks inside quoted fields the data row and the text line differ.) "
        "For Parquet files row 1 is the first row. Problems with the whole file or a whole column "
        f"(empty file, missing column) have no row. Up to {DEFAULT_MAX_ERRORS} problems are reported "
        "together.",
        "",
    ]


def render_data_dictionary() -> str:
    """The data dictionary as Markdown."""
    lines = [HEADER.format(version=SCHEMA_VERSION), "## Tables", "",
             "| Table | Required | Primary key | Description |", "|---|---|---|---|"]
    for spec in TABLES.values():
        lines.append(f"| [`{spec.name}`](#{spec.name}) | "
                     f"{'no' if spec.optional else 'yes'} | {', '.join(spec.primary_key)} | "
                     f"{_cell(spec.description)} |")
    lines.append("")
    for spec in TABLES.values():
        lines += _table_section(spec)
    lines += _formats_section()
    return "\n".join(lines).rstrip("\n") + "\n"
