"""Statistical disclosure control: every published table passes through `protect`.

The policy (`disclosure_policy.yaml`, versioned) says:

* **primary suppression**: a count from 1 to `min_count` - 1 is suppressed;
* **zeros** (`zero_counts`): a zero count is published (`protect_groups`, the default), except
  where it tells that every member of a group falls in one category — a group disclosure: all
  the persons of a published total in one part of an equation (the other parts zero), or every
  person of a total having the published trait (a zero remainder). Then the one non-zero part is
  suppressed (reason `group`) and, for a breakdown, its zeros with it. `publish` publishes every
  zero; `suppress` treats zeros like the other small counts;
* **secondary suppression**: when counts add up to a published total (`Additive`, within a row,
  optionally with an unpublished remainder such as "everyone else"; or `GroupTotal`, across the
  rows of a one-way table with a total row), suppressed cells must not be recoverable from the
  total: every equation that holds a sensitive unknown keeps at least two unknowns, and when the
  total is published the unknown cells add up to at least `min_count` (so each lies in an interval
  at least that wide). More cells are suppressed, smallest first, until this holds; when no cell
  is left the total itself is suppressed. Equations are revisited until none changes, so cells in
  several equations are handled too;
* **shares, ratios and means** (`Share`) are suppressed when their denominator is below
  `min_denominator` or suppressed, or their numerator count is suppressed (otherwise
  share x denominator would give the numerator back).

`protect` returns a `ProtectedTable`; the report writers accept only those, so nothing reaches
a report without passing here. Suppressed values become null and the column `suppressed` lists
`column:reason` for each row (reasons: primary, group, secondary, total, denominator, numerator).
Tables in different files are protected one by one: linked tables (e.g. area rows and a
separate municipality table) are not protected against each other (see docs/disclosure.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.files import read_yaml, validation_error

SUPPRESSED_COLUMN = "suppressed"
"""Name of the marker column `protect` adds: `column:reason` entries, comma-separated."""

_POLICY_FILE = "disclosure_policy.yaml"


class DisclosurePolicy(BaseModel):
    """The versioned disclosure-control policy (see docs/disclosure.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    min_count: int = Field(5, ge=1, description="Counts below this are suppressed.")
    min_denominator: int = Field(5, ge=1, description="Shares with a smaller denominator are suppressed.")
    zero_counts: Literal["protect_groups", "publish", "suppress"] = Field(
        "protect_groups", description="protect_groups: publish zeros unless they reveal that every member of a "
                                      "group falls in one category; publish: every zero; suppress: no zero.")
    marker: str = Field("·", min_length=1, description="Shown instead of a suppressed value.")

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: object) -> "DisclosurePolicy":
        """Read the policy from `path` (default: the packaged policy), then apply `overrides`."""
        raw, source = read_yaml(path, package="boligmix.report", filename=_POLICY_FILE, what="disclosure policy")
        if not isinstance(raw, dict):
            raise ConfigurationError("expected a mapping of policy settings", source=source)
        raw.update({k: v for k, v in overrides.items() if v is not None})
        if "publish_zeros" in raw and "zero_counts" not in raw:  # a policy file of version 2026.1
            raw["zero_counts"] = "publish" if raw.pop("publish_zeros") is True else "suppress"
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise validation_error(exc, raw, source) from exc

    @property
    def publish_zeros(self) -> bool:
        """Zero counts are published (under `protect_groups`: unless they disclose a whole group)."""
        return self.zero_counts != "suppress"

    def is_sensitive(self, value: float) -> bool:
        """True when a count of `value` must not be published (on its own, whatever the table)."""
        return value < self.min_count and (value != 0 or self.zero_counts == "suppress")


@dataclass(frozen=True)
class Additive:
    """Within each row, the count columns `parts` add up to the count column `total`.

    With `remainder=True` the parts need not exhaust the total: the difference (e.g. the persons
    *without* the trait when only the count *with* it is published) is an unpublished cell that
    the total would reveal, and it is protected like a published one.

    With `where` (the name of a Boolean column) the relation holds only in the rows where that
    column is true (e.g. the percentage rows of a tidy table whose ratio rows relate other counts);
    the other rows are not checked or protected by it.
    """

    parts: tuple[str, ...]
    total: str
    remainder: bool = False
    where: str | None = None

    def __init__(self, parts: Sequence[str], total: str, remainder: bool = False, where: str | None = None) -> None:
        object.__setattr__(self, "parts", tuple(parts))
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "remainder", remainder)
        object.__setattr__(self, "where", where)


@dataclass(frozen=True)
class GroupTotal:
    """Across rows: within each group of `by`, the rows whose `label_column` is not `total_label`
    add up (in `count`) to the row whose `label_column` equals `total_label`."""

    count: str
    label_column: str
    total_label: object
    by: tuple[str, ...] = ()
    remainder: bool = False
    exclude: tuple[object, ...] = ()
    """Labels of rows that are not part of the sum (e.g. categories outside the total)."""

    def __init__(self, count: str, label_column: str, total_label: object, by: Sequence[str] = (),
                 remainder: bool = False, exclude: Sequence[object] = ()) -> None:
        object.__setattr__(self, "count", count)
        object.__setattr__(self, "label_column", label_column)
        object.__setattr__(self, "total_label", total_label)
        object.__setattr__(self, "by", tuple(by))
        object.__setattr__(self, "remainder", remainder)
        object.__setattr__(self, "exclude", tuple(exclude))


@dataclass(frozen=True)
class Share:
    """A share, ratio or mean in `column` computed over the count `denominator` (and from the count
    `numerator`, if any). Ratios to a reference (e.g. to the municipality) name the same counts."""

    column: str
    denominator: str | tuple[str, ...]
    """The count (or counts, e.g. both stocks of a change) the value is computed over."""
    numerator: str | None = None

    @property
    def denominators(self) -> tuple[str, ...]:
        return (self.denominator,) if isinstance(self.denominator, str) else tuple(self.denominator)


@dataclass(frozen=True)
class ValueSum:
    """Non-count columns `parts` (e.g. shift-share contributions) add up to the column `total`.

    When exactly one part is suppressed and the total is published, the part could be derived;
    likewise a suppressed total beside all parts published. Then the published part of smallest
    absolute value is suppressed too (reason `secondary`).
    """

    parts: tuple[str, ...]
    total: str

    def __init__(self, parts: Sequence[str], total: str) -> None:
        object.__setattr__(self, "parts", tuple(parts))
        object.__setattr__(self, "total", total)


@dataclass(frozen=True)
class ProtectedTable:
    """A table that has passed disclosure control; the only table type reports accept."""

    frame: pl.DataFrame
    """Published values: suppressed cells are null; column `suppressed` lists `column:reason`."""
    policy: DisclosurePolicy
    counts: tuple[str, ...]
    shares: tuple[Share, ...]
    reasons: dict[str, list[str | None]] = field(repr=False)
    """Per protected column, per row: the suppression reason or None."""

    def is_suppressed(self, column: str, row: int) -> bool:
        return column in self.reasons and self.reasons[column][row] is not None

    @property
    def n_suppressed(self) -> int:
        return sum(r is not None for col in self.reasons.values() for r in col)

    def summary(self) -> dict[str, int]:
        """Number of suppressed cells by reason."""
        out: dict[str, int] = {}
        for col in self.reasons.values():
            for r in col:
                if r is not None:
                    out[r] = out.get(r, 0) + 1
        return dict(sorted(out.items()))


def exempt(frame: pl.DataFrame, *, reason: str, policy: DisclosurePolicy | None = None) -> ProtectedTable:
    """Wrap a table that holds no person-based statistics (settings, definitions, provenance).

    `reason` says why it needs no suppression; it is required so exemptions are deliberate.
    """
    if not reason.strip():
        raise ConfigurationError("an exempt table needs a reason")
    return ProtectedTable(frame, policy or DisclosurePolicy.load(), (), (), {})


def protect(
    frame: pl.DataFrame,
    *,
    counts: Sequence[str],
    shares: Sequence[Share] = (),
    totals: Sequence[Additive | GroupTotal] = (),
    value_sums: Sequence[ValueSum] = (),
    policy: DisclosurePolicy | None = None,
    name: str = "table",
) -> ProtectedTable:
    """Apply primary, secondary and share suppression to `frame` under `policy`.

    `counts` are the columns of person/household counts; every column named in `shares` and
    `totals` must be one of them (or, for share columns, any numeric column). `name` is used in
    error messages. Raises `DataValidationError` on missing columns, negative or null counts and
    totals that do not add up.
    """
    policy = policy or DisclosurePolicy.load()
    counts = tuple(dict.fromkeys(counts))
    _check_columns(frame, counts, shares, totals, name)
    for vs in value_sums:
        for c in (*vs.parts, vs.total):
            if c not in frame.columns:
                raise DataValidationError("column is missing", path=name, column=c)
            if c in counts:
                raise DataValidationError("a ValueSum column must not be a count column (use Additive)",
                                          path=name, column=c)
    values = {c: _count_values(frame, c, name) for c in counts}
    reasons: dict[str, list[str | None]] = {c: [None] * frame.height for c in counts}

    for c in counts:
        for i, v in enumerate(values[c]):
            if policy.is_sensitive(v):
                reasons[c][i] = "primary"

    equations = _equations(frame, values, totals, name, policy)
    if policy.zero_counts == "protect_groups":
        for eq in equations:
            _protect_group(eq, values, reasons)
    changed = True
    while changed:
        changed = False
        for eq in equations:
            changed |= _enforce(eq, values, reasons, policy)

    for spec in shares:
        col: list[str | None] = [None] * frame.height
        for i in range(frame.height):
            if any(values[d][i] < policy.min_denominator or reasons[d][i] is not None
                   for d in spec.denominators):
                col[i] = "denominator"
            elif spec.numerator is not None and reasons[spec.numerator][i] is not None:
                col[i] = "numerator"
        reasons[spec.column] = col

    for vs in value_sums:
        _enforce_value_sum(vs, frame, reasons)

    published = frame.with_columns(
        pl.when(pl.Series([r is not None for r in rs])).then(None).otherwise(pl.col(c)).alias(c)
        for c, rs in reasons.items()
    )
    marker = [
        ",".join(f"{c}:{rs[i]}" for c, rs in reasons.items() if rs[i] is not None) or None
        for i in range(frame.height)
    ]
    published = published.with_columns(pl.Series(SUPPRESSED_COLUMN, marker, dtype=pl.String))
    return ProtectedTable(published, policy, counts, tuple(shares), reasons)


# --- internals -------------------------------------------------------------------------------

Cell = tuple[str, int]
"""(column, row index)"""


@dataclass(frozen=True)
class _Equation:
    parts: tuple[Cell, ...]
    total: Cell
    remainder: bool


def _check_columns(frame: pl.DataFrame, counts: tuple[str, ...], shares: Sequence[Share],
                   totals: Sequence[Additive | GroupTotal], name: str) -> None:
    if SUPPRESSED_COLUMN in frame.columns:
        raise DataValidationError(f"table already has a '{SUPPRESSED_COLUMN}' column (protected twice?)",
                                  path=name, column=SUPPRESSED_COLUMN)
    needed: list[str] = list(counts)
    for s in shares:
        needed += [s.column, *s.denominators] + ([s.numerator] if s.numerator else [])
        for c in (*s.denominators, s.numerator):
            if c is not None and c not in counts:
                raise DataValidationError(f"share '{s.column}' refers to '{c}', which is not a count column",
                                          path=name, column=c)
    for t in totals:
        cols = (*t.parts, t.total) if isinstance(t, Additive) else (t.count,)
        for c in cols:
            if c not in counts:
                raise DataValidationError("a total refers to a column that is not a count column",
                                          path=name, column=c)
        if isinstance(t, GroupTotal):
            needed += [t.label_column, *t.by]
        elif t.where is not None:
            if t.where not in frame.columns:
                raise DataValidationError("column is missing (the rows where a total holds)", path=name,
                                          column=t.where)
            if frame.schema[t.where] != pl.Boolean:
                raise DataValidationError(f"column has type {frame.schema[t.where]}, expected a Boolean (the rows "
                                          "where a total holds)", path=name, column=t.where)
    for c in needed:
        if c not in frame.columns:
            raise DataValidationError("column is missing", path=name, column=c)


def _count_values(frame: pl.DataFrame, column: str, name: str) -> list[float]:
    series = frame.get_column(column)
    if not series.dtype.is_numeric():
        raise DataValidationError(f"count column has type {series.dtype}, expected a number",
                                  path=name, column=column)
    bad_null = series.is_null() | (series.is_nan() if series.dtype.is_float() else pl.Series([False] * len(series)))
    if bad_null.any():
        raise DataValidationError("count is missing (use 0 for none)", path=name,
                                  row=int(bad_null.arg_true()[0]) + 1, column=column)
    negative = series < 0
    if negative.any():
        i = int(negative.arg_true()[0])
        raise DataValidationError(f"count is negative ({series[i]})", path=name, row=i + 1, column=column)
    return series.to_list()


def _equations(frame: pl.DataFrame, values: dict[str, list[float]],
               totals: Sequence[Additive | GroupTotal], name: str, policy: DisclosurePolicy) -> list[_Equation]:
    """The equations that may need secondary suppression: those holding a sensitive cell (a part,
    the total or the remainder). Raises when parts do not add up to their total."""
    eqs: list[_Equation] = []
    for t in totals:
        if isinstance(t, Additive):
            arr = {c: np.asarray(values[c], dtype=float) for c in (*t.parts, t.total)}
            part_sum = sum((arr[c] for c in t.parts), start=np.zeros(frame.height))
            total = arr[t.total]
            active = (np.ones(frame.height, dtype=bool) if t.where is None
                      else frame.get_column(t.where).fill_null(False).to_numpy().astype(bool))
            bad = (part_sum > total + 1e-9 if t.remainder else np.abs(part_sum - total) > 1e-9) & active
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataValidationError(f"parts add up to {part_sum[i]:g} but the total is {total[i]:g}",
                                          path=name, row=i + 1, column=t.total)
            sensitive = _sensitive_mask(total, policy)
            for c in t.parts:
                sensitive |= _sensitive_mask(arr[c], policy)
            if t.remainder:
                sensitive |= _sensitive_mask(total - part_sum, policy)
            if policy.zero_counts == "protect_groups":
                nonzero = sum((arr[c] != 0 for c in t.parts), start=np.zeros(frame.height, dtype=int))
                one = (total > 0) & (nonzero == 1)
                sensitive |= one & (np.abs(total - part_sum) < 1e-9 if t.remainder else len(t.parts) >= 2)
            for i in np.flatnonzero(sensitive & active):
                eqs.append(_Equation(tuple((c, int(i)) for c in t.parts), (t.total, int(i)), t.remainder))
            continue
        idx = frame.with_row_index("_row").select("_row", t.label_column, *t.by)
        groups = idx.group_by(list(t.by), maintain_order=True) if t.by else [((), idx)]
        for _, g in groups:
            labels = g.get_column(t.label_column).to_list()
            rows = g.get_column("_row").to_list()
            total_rows = [r for r, lbl in zip(rows, labels) if lbl == t.total_label]
            if len(total_rows) != 1:
                raise DataValidationError(
                    f"expected exactly one total row '{t.total_label}' per group, found {len(total_rows)}",
                    path=name, row=(rows[0] + 1) if rows else None, column=t.label_column)
            parts = tuple((t.count, r) for r, lbl in zip(rows, labels)
                          if lbl != t.total_label and lbl not in t.exclude)
            eq = _Equation(parts, (t.count, total_rows[0]), t.remainder)
            part_sum = sum(values[c][r] for c, r in eq.parts)
            total = values[t.count][total_rows[0]]
            bad = part_sum > total + 1e-9 if t.remainder else abs(part_sum - total) > 1e-9
            if bad:
                raise DataValidationError(f"parts add up to {part_sum:g} but the total is {total:g}",
                                          path=name, row=total_rows[0] + 1, column=t.count)
            if _may_act(eq, values, policy):
                eqs.append(eq)
    return eqs


def _sensitive_mask(v: np.ndarray, policy: DisclosurePolicy) -> np.ndarray:
    small = v < policy.min_count
    return small & (v != 0) if policy.publish_zeros else small


def _one_category(eq: _Equation, values: dict[str, list[float]]) -> Cell | None:
    """The part holding every member of the equation's total, when the others (and the remainder)
    are zero and there is something to tell (a total above zero, more than one category); else None."""
    parts = [values[c][r] for c, r in eq.parts]
    total = values[eq.total[0]][eq.total[1]]
    nonzero = [cell for cell, v in zip(eq.parts, parts) if v != 0]
    if total <= 0 or len(nonzero) != 1:
        return None
    if eq.remainder:
        return nonzero[0] if abs(total - sum(parts)) < 1e-9 else None
    return nonzero[0] if len(eq.parts) >= 2 else None


def _protect_group(eq: _Equation, values: dict[str, list[float]], reasons: dict[str, list[str | None]]) -> None:
    """Group disclosure: hide the part that holds the whole group and, in a breakdown, its zeros
    (reason `group`), so that the published cells no longer tell that everyone is in one category."""
    whole = _one_category(eq, values)
    if whole is None:
        return
    for cell in eq.parts if not eq.remainder else (whole,):
        if reasons[cell[0]][cell[1]] is None:
            reasons[cell[0]][cell[1]] = "group"


def _may_act(eq: _Equation, values: dict[str, list[float]], policy: DisclosurePolicy) -> bool:
    """Only equations holding a sensitive cell (part, total or remainder) ever need more suppression."""
    parts = [values[c][r] for c, r in eq.parts]
    total = values[eq.total[0]][eq.total[1]]
    if any(policy.is_sensitive(v) for v in parts) or policy.is_sensitive(total):
        return True
    if policy.zero_counts == "protect_groups" and _one_category(eq, values) is not None:
        return True
    return eq.remainder and policy.is_sensitive(total - sum(parts))


def _enforce(eq: _Equation, values: dict[str, list[float]], reasons: dict[str, list[str | None]],
             policy: DisclosurePolicy) -> bool:
    """Suppress more cells of one equation until no sensitive unknown is recoverable; True if changed."""

    def val(cell: Cell) -> float:
        return values[cell[0]][cell[1]]

    def hidden(cell: Cell) -> bool:
        return reasons[cell[0]][cell[1]] is not None

    def sensitive_cell(cell: Cell) -> bool:
        return policy.is_sensitive(val(cell)) or reasons[cell[0]][cell[1]] == "group"

    changed = False
    while True:
        unknown_cells = [c for c in eq.parts if hidden(c)]
        unknown = [val(c) for c in unknown_cells]
        rest = val(eq.total) - sum(val(c) for c in eq.parts)
        if eq.remainder:
            unknown.append(rest)
        total_hidden = hidden(eq.total)
        sensitive = (any(sensitive_cell(c) for c in unknown_cells) or (eq.remainder and policy.is_sensitive(rest))
                     or (total_hidden and sensitive_cell(eq.total)))
        if not sensitive:
            return changed
        if total_hidden:
            if unknown:  # total plus at least one unknown part: no single unknown is determined
                return changed
        elif len(unknown) >= 2 and sum(unknown) >= policy.min_count:
            return changed
        candidates = sorted((val(c), k, c) for k, c in enumerate(eq.parts) if not hidden(c))
        if candidates:
            cell = candidates[0][2]
            reasons[cell[0]][cell[1]] = "secondary"
        elif not total_hidden:
            reasons[eq.total[0]][eq.total[1]] = "total"
        else:
            return changed  # nothing left to hide (all cells are already suppressed)
        changed = True


def _enforce_value_sum(vs: ValueSum, frame: pl.DataFrame, reasons: dict[str, list[str | None]]) -> None:
    for c in (*vs.parts, vs.total):
        reasons.setdefault(c, [None] * frame.height)
    values = {c: frame.get_column(c).to_list() for c in vs.parts}
    for i in range(frame.height):
        hidden = [c for c in vs.parts if reasons[c][i] is not None]
        total_hidden = reasons[vs.total][i] is not None
        # One unknown in `sum(parts) == total` can be solved for: a single hidden part beside a
        # published total, or a hidden total beside all parts published.
        if (len(hidden) == 1 and not total_hidden) or (not hidden and total_hidden):
            candidates = sorted((abs(values[c][i]) if values[c][i] is not None else 0.0, k, c)
                                for k, c in enumerate(vs.parts) if reasons[c][i] is None)
            if candidates:
                reasons[candidates[0][2]][i] = "secondary"
            else:
                reasons[vs.total][i] = "total"
