"""The one small condition evaluator shared by the area lists and the letting engine.

A condition is plain data (a YAML mapping), parsed once into typed nodes and validated at
load time. There is no `eval` and no expression syntax; the grammar is:

    {compare: {field: F, op: OP, value: V, times: K}}   OP in > >= < <= == !=;
                                                       V a number, a string, a bool or {const: NAME};
                                                       `times` (optional) multiplies V
    {in: {field: F, values: [v1, v2, ...]}}
    {all: [C, ...]}   {any: [C, ...]}   {not: C}
    {at_least: N, of: [C, ...]}
    {known: F}

Evaluation is three-valued (Kleene): a missing or None (or NaN) fact is UNKNOWN, and UNKNOWN
propagates unless the other operands decide the result (FALSE and UNKNOWN is FALSE,
TRUE or UNKNOWN is TRUE). `at_least N` is TRUE when at least N operands are TRUE, FALSE when
TRUE + UNKNOWN < N, and UNKNOWN otherwise.

`evaluate` works on one mapping of facts; `evaluate_frame` on a polars DataFrame (one row per
case), returning a Boolean Series with null for UNKNOWN; `explain` lists every leaf with its
value, threshold, truth and margin.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import polars as pl

from boligmix.errors import ConfigurationError, DataValidationError
from boligmix.rules.truth import Truth

COMPARISON_OPS: tuple[str, ...] = (">", ">=", "<", "<=", "==", "!=")
ORDERING_OPS: frozenset[str] = frozenset({">", ">=", "<", "<="})
NODE_KEYS: tuple[str, ...] = ("compare", "in", "all", "any", "not", "at_least", "known")

Scalar = Union[int, float, str, bool]


@dataclass(frozen=True)
class Const:
    """A named constant, resolved at evaluation time from the `constants` mapping."""

    name: str


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Scalar | Const
    times: float | Const | None = None
    source: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class All:
    children: tuple["Condition", ...]


@dataclass(frozen=True)
class Any_:
    children: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    child: "Condition"


@dataclass(frozen=True)
class AtLeast:
    n: int
    children: tuple["Condition", ...]


@dataclass(frozen=True)
class Known:
    field: str


Condition = Union[Compare, In, All, Any_, Not, AtLeast, Known]
"""A parsed condition node."""


@dataclass(frozen=True)
class NodeResult:
    """One leaf of a condition as evaluated: what was compared with what, and by how much.

    `margin` is value - threshold for numeric comparisons (positive: the value lies above the
    threshold), None when it cannot be computed (unknown fact, non-numeric comparison).
    """

    path: str
    field: str
    value: Any
    op: str
    threshold: Any
    truth: Truth
    margin: float | None


# --------------------------------------------------------------------------------------------
# Parsing


class _Parser:
    def __init__(self, source: str, rule: str, fields: Collection[str] | None,
                 constants: Collection[str] | None) -> None:
        self.source, self.rule = source, rule
        self.fields = None if fields is None else frozenset(fields)
        self.constants = None if constants is None else frozenset(constants)

    def fail(self, message: str, field: str | None) -> ConfigurationError:
        return ConfigurationError(message, source=self.source, rule=self.rule, field=field)

    def parse(self, data: Any, path: str) -> Condition:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(f"{path}: a condition must be a mapping with one of the keys "
                            f"{', '.join(NODE_KEYS)}; got {data!r}", path)
        keys = set(data)
        if "at_least" in keys or "of" in keys:
            extra = keys - {"at_least", "of"}
            if extra or keys != {"at_least", "of"}:
                bad = sorted(map(str, extra)) or ["of" if "of" not in keys else "at_least"]
                raise self.fail(f"{path}: 'at_least' needs exactly the keys 'at_least' and 'of' "
                                f"(problem with {', '.join(bad)})", bad[0])
            return self._at_least(data, path)
        if len(keys) != 1:
            raise self.fail(f"{path}: a condition has exactly one operator key, got "
                            f"{', '.join(sorted(map(str, keys)))}", ",".join(sorted(map(str, keys))))
        (key,) = keys
        body = data[key]
        if key == "compare":
            return self._compare(body, f"{path}.compare")
        if key == "in":
            return self._in(body, f"{path}.in")
        if key in ("all", "any"):
            children = self._list(body, f"{path}.{key}", key)
            return All(children) if key == "all" else Any_(children)
        if key == "not":
            return Not(self.parse(body, f"{path}.not"))
        if key == "known":
            return Known(self._field(body, f"{path}.known"))
        raise self.fail(f"{path}: unknown operator '{key}'; known: {', '.join(NODE_KEYS)}", str(key))

    def _list(self, body: Any, path: str, key: str) -> tuple[Condition, ...]:
        if not isinstance(body, Sequence) or isinstance(body, (str, bytes)) or not body:
            raise self.fail(f"{path}: '{key}' needs a non-empty list of conditions", key)
        return tuple(self.parse(item, f"{path}[{i}]") for i, item in enumerate(body))

    def _at_least(self, data: Mapping, path: str) -> AtLeast:
        n = data["at_least"]
        children = self._list(data["of"], f"{path}.of", "of")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise self.fail(f"{path}: 'at_least' must be a non-negative integer, got {n!r}", "at_least")
        if n > len(children):
            raise self.fail(f"{path}: 'at_least: {n}' of only {len(children)} conditions can never hold",
                            "at_least")
        return AtLeast(n, children)

    def _field(self, name: Any, path: str) -> str:
        if not isinstance(name, str) or not name:
            raise self.fail(f"{path}: a field name must be a non-empty string, got {name!r}", "field")
        if self.fields is not None and name not in self.fields:
            raise self.fail(f"{path}: unknown field '{name}'; known fields: {', '.join(sorted(self.fields))}",
                            name)
        return name

    def _keys(self, body: Any, path: str, required: set[str], optional: set[str]) -> Mapping:
        if not isinstance(body, Mapping):
            raise self.fail(f"{path}: expected a mapping, got {body!r}", path.rsplit(".", 1)[-1])
        unknown = sorted(str(k) for k in set(body) - required - optional)
        if unknown:
            raise self.fail(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: "
                            f"{', '.join(sorted(required | optional))}", unknown[0])
        missing = sorted(required - set(body))
        if missing:
            raise self.fail(f"{path}: missing key(s) {', '.join(missing)}", missing[0])
        return body

    def _const_or_number(self, value: Any, path: str, key: str, allow_str: bool) -> Scalar | Const:
        if isinstance(value, Mapping):
            self._keys(value, f"{path}.{key}", {"const"}, set())
            name = value["const"]
            if not isinstance(name, str) or not name:
                raise self.fail(f"{path}.{key}: a constant name must be a non-empty string", "const")
            if self.constants is not None and name not in self.constants:
                raise self.fail(f"{path}.{key}: unknown constant '{name}'", name)
            return Const(name)
        if isinstance(value, bool):
            if allow_str:
                return value
        elif isinstance(value, numbers.Real):
            if math.isfinite(float(value)):
                return value
        elif isinstance(value, str) and allow_str:
            return value
        kinds = "a number, a string, a bool or {const: NAME}" if allow_str else "a finite number or {const: NAME}"
        raise self.fail(f"{path}: '{key}' must be {kinds}, got {value!r}", key)

    def _compare(self, body: Any, path: str) -> Compare:
        body = self._keys(body, path, {"field", "op", "value"}, {"times"})
        field = self._field(body["field"], path)
        op = body["op"]
        if op not in COMPARISON_OPS:
            raise self.fail(f"{path}: unknown comparison operator {op!r}; known: {' '.join(COMPARISON_OPS)}",
                            "op")
        ordering = op in ORDERING_OPS
        value = self._const_or_number(body["value"], path, "value", allow_str=not ordering)
        times = None
        if "times" in body:
            times = self._const_or_number(body["times"], path, "times", allow_str=False)
            if isinstance(value, (str, bool)):
                raise self.fail(f"{path}: 'times' needs a numeric value", "times")
        return Compare(field, op, value, times, self.source, self.rule)

    def _in(self, body: Any, path: str) -> In:
        body = self._keys(body, path, {"field", "values"}, set())
        field = self._field(body["field"], path)
        values = body["values"]
        if not isinstance(values, Sequence) or isinstance(values, (str, bytes)) or not values:
            raise self.fail(f"{path}: 'values' must be a non-empty list", "values")
        for v in values:
            if not isinstance(v, (str, numbers.Real)):
                raise self.fail(f"{path}: 'values' may hold numbers, strings and bools, got {v!r}", "values")
        return In(field, tuple(values))


def parse_condition(data: Mapping[str, Any], *, source: str, rule: str,
                    fields: Collection[str] | None = None,
                    constants: Collection[str] | None = None) -> Condition:
    """Parse and validate a condition given as data.

    `fields` (and `constants`), when given, are the only names the condition may use; any
    other name, an unknown operator or key, or a malformed value raises
    `ConfigurationError(source=source, rule=rule, field=...)`.
    """
    return _Parser(source, rule, fields, constants).parse(data, "condition")


def condition_fields(cond: Condition) -> frozenset[str]:
    """Every fact field a condition reads."""
    if isinstance(cond, (Compare, In, Known)):
        return frozenset({cond.field})
    if isinstance(cond, Not):
        return condition_fields(cond.child)
    return frozenset().union(*(condition_fields(c) for c in cond.children))


# --------------------------------------------------------------------------------------------
# Evaluation on one mapping of facts


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _resolve(value: Scalar | Const, constants: Mapping[str, Any], cond: Compare) -> Any:
    if isinstance(value, Const):
        if value.name not in constants:
            raise ConfigurationError(f"constant '{value.name}' is not defined", source=cond.source,
                                     rule=cond.rule, field=value.name)
        return constants[value.name]
    return value


def _threshold(cond: Compare, constants: Mapping[str, Any]) -> Any:
    """The value compared against (value x times), None when a constant is None (unknown)."""
    value = _resolve(cond.value, constants, cond)
    if cond.times is None or _missing(value):
        return None if _missing(value) else value
    times = _resolve(cond.times, constants, cond)
    return None if _missing(times) else value * times


def _compare_values(left: Any, op: str, right: Any, field: str) -> bool:
    numeric_left = isinstance(left, numbers.Real) and not isinstance(left, bool)
    numeric_right = isinstance(right, numbers.Real) and not isinstance(right, bool)
    if op in ORDERING_OPS and not (numeric_left and numeric_right):
        raise DataValidationError(f"field '{field}' must be a number to compare with '{op}', got {left!r}",
                                  column=field)
    if isinstance(left, str) != isinstance(right, str):
        raise DataValidationError(f"field '{field}' holds {left!r}, which cannot be compared with {right!r}",
                                  column=field)
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == "==":
        return left == right
    return left != right


def _leaf(cond: Compare | In | Known, facts: Mapping[str, Any],
          constants: Mapping[str, Any]) -> tuple[Truth, Any, Any, float | None]:
    """(truth, fact value, threshold, margin) of one leaf."""
    value = facts.get(cond.field)
    if isinstance(cond, Known):
        return Truth.of(not _missing(value)), value, None, None
    if isinstance(cond, In):
        if _missing(value):
            return Truth.UNKNOWN, value, list(cond.values), None
        return Truth.of(value in cond.values), value, list(cond.values), None
    threshold = _threshold(cond, constants)
    if _missing(value) or threshold is None:
        return Truth.UNKNOWN, value, threshold, None
    truth = Truth.of(_compare_values(value, cond.op, threshold, cond.field))
    margin = None
    if isinstance(value, numbers.Real) and isinstance(threshold, numbers.Real) \
            and not isinstance(value, bool) and not isinstance(threshold, bool):
        margin = float(value) - float(threshold)
    return truth, value, threshold, margin


def _combine_at_least(n: int, truths: Sequence[Truth]) -> Truth:
    true = sum(t is Truth.TRUE for t in truths)
    unknown = sum(t is Truth.UNKNOWN for t in truths)
    if true >= n:
        return Truth.TRUE
    if true + unknown < n:
        return Truth.FALSE
    return Truth.UNKNOWN


def evaluate(cond: Condition, facts: Mapping[str, Any], constants: Mapping[str, Any] | None = None) -> Truth:
    """Evaluate a condition on one case's facts. A missing or None fact is UNKNOWN."""
    constants = constants or {}
    if isinstance(cond, (Compare, In, Known)):
        return _leaf(cond, facts, constants)[0]
    if isinstance(cond, All):
        result = Truth.TRUE
        for child in cond.children:
            result = result & evaluate(child, facts, constants)
        return result
    if isinstance(cond, Any_):
        result = Truth.FALSE
        for child in cond.children:
            result = result | evaluate(child, facts, constants)
        return result
    if isinstance(cond, Not):
        return ~evaluate(cond.child, facts, constants)
    if isinstance(cond, AtLeast):
        return _combine_at_least(cond.n, [evaluate(c, facts, constants) for c in cond.children])
    raise TypeError(f"not a condition node: {cond!r}")


def explain(cond: Condition, facts: Mapping[str, Any],
            constants: Mapping[str, Any] | None = None) -> list[NodeResult]:
    """Every leaf of the condition with its fact value, threshold, truth and margin, in order."""
    constants = constants or {}
    out: list[NodeResult] = []

    def walk(node: Condition, path: str) -> None:
        if isinstance(node, (Compare, In, Known)):
            truth, value, threshold, margin = _leaf(node, facts, constants)
            op = node.op if isinstance(node, Compare) else ("in" if isinstance(node, In) else "known")
            out.append(NodeResult(path, node.field, value, op, threshold, truth, margin))
        elif isinstance(node, Not):
            walk(node.child, f"{path}.not")
        else:
            name = {All: "all", Any_: "any", AtLeast: "of"}[type(node)]
            for i, child in enumerate(node.children):
                walk(child, f"{path}.{name}[{i}]")

    walk(cond, "condition")
    return out


# --------------------------------------------------------------------------------------------
# Vectorised evaluation on a polars DataFrame


def _column(frame: pl.DataFrame, field: str) -> pl.Expr:
    if field not in frame.columns:
        return pl.lit(None)
    expr = pl.col(field)
    if frame.schema[field] in (pl.Float32, pl.Float64):
        expr = expr.fill_nan(None)
    return expr


def to_expr(cond: Condition, frame: pl.DataFrame, constants: Mapping[str, Any] | None = None) -> pl.Expr:
    """The polars Boolean expression (null = UNKNOWN) of a condition for `frame`'s columns."""
    constants = constants or {}
    if isinstance(cond, Known):
        return _column(frame, cond.field).is_not_null()
    if isinstance(cond, In):
        col = _column(frame, cond.field)
        return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(
            col.is_in(list(cond.values)))
    if isinstance(cond, Compare):
        threshold = _threshold(cond, constants)
        if threshold is None:
            return pl.lit(None, dtype=pl.Boolean)
        col = _column(frame, cond.field)
        if cond.op in ORDERING_OPS and cond.field in frame.columns \
                and not frame.schema[cond.field].is_numeric() and frame.schema[cond.field] != pl.Null:
            raise DataValidationError(f"field '{cond.field}' must be numeric to compare with '{cond.op}', "
                                      f"its type is {frame.schema[cond.field]}", column=cond.field)
        lit = pl.lit(threshold)
        result = {">": col > lit, ">=": col >= lit, "<": col < lit, "<=": col <= lit,
                  "==": col == lit, "!=": col != lit}[cond.op]
        return result.cast(pl.Boolean)
    if isinstance(cond, Not):
        return ~to_expr(cond.child, frame, constants)
    if isinstance(cond, (All, Any_)):
        exprs = [to_expr(c, frame, constants) for c in cond.children]
        result = exprs[0]
        for e in exprs[1:]:
            result = (result & e) if isinstance(cond, All) else (result | e)
        return result
    if isinstance(cond, AtLeast):
        exprs = [to_expr(c, frame, constants) for c in cond.children]
        n_true = pl.sum_horizontal([e.fill_null(False).cast(pl.Int32) for e in exprs])
        n_unknown = pl.sum_horizontal([e.is_null().cast(pl.Int32) for e in exprs])
        return (pl.when(n_true >= cond.n).then(pl.lit(True))
                .when(n_true + n_unknown < cond.n).then(pl.lit(False))
                .otherwise(pl.lit(None, dtype=pl.Boolean)))
    raise TypeError(f"not a condition node: {cond!r}")


def evaluate_frame(cond: Condition, frame: pl.DataFrame,
                   constants: Mapping[str, Any] | None = None) -> pl.Series:
    """Evaluate a condition for every row of `frame`: a Boolean Series, null where UNKNOWN."""
    if frame.height == 0:
        return pl.Series("truth", [], dtype=pl.Boolean)
    name = "__boligmix_truth__"
    try:
        return (frame.with_columns(to_expr(cond, frame, constants).cast(pl.Boolean).alias(name))
                .get_column(name).alias("truth"))
    except pl.exceptions.PolarsError as exc:
        fields = sorted(condition_fields(cond))
        raise DataValidationError(f"cannot evaluate the condition on these columns ({exc.__class__.__name__}: "
                                  f"{str(exc).splitlines()[0]})", column=",".join(fields)) from exc


__all__ = [
    "All",
    "Any_",
    "AtLeast",
    "COMPARISON_OPS",
    "Compare",
    "Condition",
    "Const",
    "In",
    "Known",
    "NodeResult",
    "Not",
    "Truth",
    "condition_fields",
    "evaluate",
    "evaluate_frame",
    "explain",
    "parse_condition",
    "to_expr",
]
