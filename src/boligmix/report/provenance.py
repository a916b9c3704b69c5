"""What produced an output: recorded in every report footer, Excel sheet and JSON result."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from boligmix import __version__


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Provenance(BaseModel):
    """Rule versions, data vintage, seed, settings and software version behind an output."""

    model_config = ConfigDict(extra="forbid")

    data_vintage: str = Field(description="Data vintage from the dataset manifest.")
    seed: int | None = Field(default=None, description="Seed of the data generator or of the analysis.")
    rule_versions: dict[str, str] = Field(default_factory=dict,
                                          description="Rule/policy name -> version used.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Settings of the analysis.")
    command: str | None = Field(default=None, description="Command or function that produced the output.")
    dataset: str | None = Field(default=None, description="Dataset directory or identifier.")
    boligmix_version: str = Field(default=__version__)
    created_at: str = Field(default_factory=_now)

    def rows(self) -> list[tuple[str, str]]:
        """Flat (key, value) pairs for a footer or a provenance sheet."""
        out: list[tuple[str, str]] = [
            ("boligmix_version", self.boligmix_version),
            ("created_at", self.created_at),
            ("data_vintage", self.data_vintage),
            ("seed", "" if self.seed is None else str(self.seed)),
        ]
        if self.dataset:
            out.append(("dataset", self.dataset))
        if self.command:
            out.append(("command", self.command))
        out += [(f"rule_version.{k}", v) for k, v in sorted(self.rule_versions.items())]
        out += [(f"setting.{k}", _flat(v)) for k, v in sorted(self.settings.items())]
        return out


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={_flat(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value)
    return str(value)
