"""The exception tree. Every error boligmix raises on purpose derives from `BoligmixError`.

Errors are never downgraded to warnings. Errors about input data say where: the file,
the row (1-based, as a spreadsheet shows it, header excluded) and the column.
"""

from __future__ import annotations


class BoligmixError(Exception):
    """Base class of every error boligmix raises on purpose."""


class ConfigurationError(BoligmixError, ValueError):
    """A rule set, letting policy, indicator set or setting is invalid.

    `source` is the file, `rule` the rule or section and `field` the field that is wrong.
    """

    def __init__(self, message: str, *, source: str | None = None, rule: str | None = None,
                 field: str | None = None) -> None:
        self.source, self.rule, self.field = source, rule, field
        where = ", ".join(
            f"{label} {value!s}" for label, value in (("file", source), ("rule", rule), ("field", field))
            if value is not None
        )
        super().__init__(f"{where}: {message}" if where else message)


class DataValidationError(BoligmixError, ValueError):
    """Input data does not fit its schema.

    `path` names the file, `row` the 1-based data row (header not counted) and `column`
    the column. Any of them may be None when the problem is not tied to one.
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.path, self.row, self.column, self.reason = path, row, column, message
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class FirstRowError:
    """The data problem at the smallest row of one file (ties: the one kept first), raised as a
    `DataValidationError`: checks run column by column, the report names the first bad row
    (`boligmix.lists.csvio`, `boligmix.plan.csvread`)."""

    def __init__(self, path: object) -> None:
        self.path = str(path)
        self.first: tuple[int, str, str] | None = None

    def keep(self, row: int, column: str, message: str) -> None:
        """Keep the problem at 1-based `row` if no earlier row has one."""
        if self.first is None or row < self.first[0]:
            self.first = (row, column, message)

    def raise_if_any(self) -> None:
        if self.first is not None:
            row, column, message = self.first
            raise DataValidationError(message, path=self.path, row=row, column=column)


class DatasetError(BoligmixError):
    """A dataset directory is missing, incomplete or of an unknown schema version."""


class LettingError(BoligmixError):
    """A letting operation cannot be carried out (e.g. the vacancy is already let)."""


class ConflictError(LettingError):
    """A write lost a race or repeats a different request with the same idempotency key."""


class AuthorizationError(BoligmixError):
    """A caller asks for something outside its role or scope."""


class SimulationError(BoligmixError):
    """A simulation cannot run with the given scenario or state."""


class OptimisationError(BoligmixError):
    """An optimisation problem is infeasible or the solver failed."""


__all__ = [
    "AuthorizationError",
    "BoligmixError",
    "ConfigurationError",
    "ConflictError",
    "DataValidationError",
    "DatasetError",
    "LettingError",
    "OptimisationError",
    "SimulationError",
]
