"""Reading versioned YAML data files: a packaged default or a user's file, with errors naming the file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from boligmix.errors import ConfigurationError


def read_yaml(path: str | Path | None, *, package: str, filename: str, what: str) -> tuple[Any, str]:
    """Parse `path`, or the packaged `package/filename` when `path` is None.

    Returns the parsed data and the source name to use in later errors. An unreadable file or
    invalid YAML raises `ConfigurationError` naming the file; `what` says what the file holds.
    """
    if path is None:
        text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
        source = f"{package.replace('.', '/')}/{filename}"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read {what}: {exc}", source=source) from exc
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc}", source=source) from exc
