"""Reading versioned YAML data files: a packaged default or a user's file, with errors naming the file.

Every versioned rule file (list rule sets, monitoring sets, plan and rehousing rules, simulation
scenarios, settings) has one shape: read the text, parse the YAML, check that it is a mapping,
validate it with a pydantic model. `read_text` and `parse_model` are that shape, once; each
error is a `ConfigurationError` naming the file and, for a validation error, the key (the
caller may say how its keys map to rule and field with `error=`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from boligmix.errors import ConfigurationError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

M = TypeVar("M", bound=BaseModel)

ValidationErrorMapper = Callable[[ValidationError, Any, str], ConfigurationError]
"""(the pydantic error, the parsed YAML, the source) -> the ConfigurationError to raise."""


class Parsed(NamedTuple, Generic[M]):
    """A validated file: its model, the parsed YAML it came from and the SHA-256 of its text."""

    spec: M
    raw: Mapping[str, Any]
    sha256: str


def read_text(path: str | Path | None, *, package: str, filename: str, what: str) -> tuple[str, str]:
    """The text of `path`, or of the packaged `package/filename` when `path` is None, and the
    source name to use in later errors; an unreadable file raises `ConfigurationError` naming it
    ("cannot read <what>: ...")."""
    if path is None:
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
        return text, f"{package.replace('.', '/')}/{filename}"
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), source
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what}: {exc}", source=source) from exc
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"cannot read {what}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
                                 "as UTF-8", source=source) from None


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document of `text`; invalid YAML raises `ConfigurationError` naming `source`."""
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc}", source=source) from exc


def validation_error(exc: ValidationError, raw: Any, source: str) -> ConfigurationError:
    """The default mapping: the first error, its location as the field (`a.b.0.c`)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    return ConfigurationError(err["msg"], source=source, field=loc or None)


def parse_model(text: str, source: str, model: type[M], *, what: str,
                error: ValidationErrorMapper | None = None) -> Parsed[M]:
    """Parse YAML `text`, require a mapping ("<what> must be a YAML mapping") and validate it with
    `model`; a validation error becomes `error(exc, raw, source)` (default `validation_error`)."""
    raw = parse_yaml(text, source)
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{what} must be a YAML mapping", source=source)
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise (error or validation_error)(exc, raw, source) from None
    return Parsed(spec, raw, hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_yaml(path: str | Path | None, *, package: str, filename: str, what: str) -> tuple[Any, str]:
    """Parse `path`, or the packaged `package/filename` when `path` is None.

    Returns the parsed data and the source name to use in later errors. An unreadable file or
    invalid YAML raises `ConfigurationError` naming the file; `what` says what the file holds.
    """
    text, source = read_text(path, package=package, filename=filename, what=what)
    return parse_yaml(text, source), source


__all__ = ["Parsed", "parse_model", "parse_yaml", "read_text", "read_yaml", "validation_error"]
