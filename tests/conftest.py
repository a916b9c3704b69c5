"""Run-wide set-up: where `built_once` keeps the directories the xdist workers share."""

from __future__ import annotations

import pytest

from built_once import set_run_root


@pytest.fixture(scope="session", autouse=True)
def _built_once_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    set_run_root(tmp_path_factory.getbasetemp())
