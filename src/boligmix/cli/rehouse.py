"""`boligmix rehouse` and `boligmix rehouse caps` (placeholder until the rehousing optimiser lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
