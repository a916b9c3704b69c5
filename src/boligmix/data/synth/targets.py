"""Calibration targets (`targets.yaml`): published list counts and population figures, each with a source."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from boligmix.errors import ConfigurationError

TARGETS_FILE = "targets.yaml"
TARGETS_FORMAT = "boligmix-synth-targets/1"
LIST_KEYS = ("udsat", "ghetto", "haardt", "forebyggelse")


@dataclass(frozen=True)
class ListTarget:
    """Published counts of one list year; None where the category did not exist."""

    year: int
    rules: str
    udsat: int | None
    ghetto: int | None
    haardt: int | None
    forebyggelse: int | None
    source: str

    @property
    def main_key(self) -> str:
        """The count the generator solves its yearly profile shift for."""
        return "udsat" if self.udsat is not None else "ghetto"

    def get(self, key: str) -> int | None:
        return getattr(self, key)


@dataclass(frozen=True)
class Targets:
    version: str
    lists: dict[int, ListTarget]
    population: dict[str, dict[str, Any]]
    mobility: dict[str, dict[str, Any]]

    def value(self, section: str, key: str) -> float:
        return float(getattr(self, section)[key]["value"])


@lru_cache(maxsize=1)
def load_targets() -> Targets:
    """Read and check the packaged `targets.yaml`."""
    text = resources.files("boligmix.data.synth").joinpath(TARGETS_FILE).read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    source = f"boligmix/data/synth/{TARGETS_FILE}"
    if not isinstance(raw, dict) or raw.get("format") != TARGETS_FORMAT:
        raise ConfigurationError(f"expected format {TARGETS_FORMAT}", source=source, field="format")
    lists: dict[int, ListTarget] = {}
    for year, entry in (raw.get("list_counts") or {}).items():
        if not isinstance(entry, dict) or "source" not in entry or "rules" not in entry:
            raise ConfigurationError("each list year needs 'rules' and 'source'", source=source,
                                     rule=f"list_counts.{year}")
        counts = {k: (int(entry[k]) if k in entry else None) for k in LIST_KEYS}
        lists[int(year)] = ListTarget(year=int(year), rules=str(entry["rules"]), source=str(entry["source"]),
                                      **counts)
    for section in ("population", "mobility"):
        for key, entry in (raw.get(section) or {}).items():
            if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
                raise ConfigurationError("each target needs 'value' and 'source'", source=source,
                                         rule=f"{section}.{key}")
    return Targets(version=str(raw["version"]), lists=lists, population=dict(raw["population"]),
                   mobility=dict(raw["mobility"]))
