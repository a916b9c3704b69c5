"""Atomic writes (`boligmix.atomic`) give finished files the usual permissions and leave the old file
when a write fails: the JSON writer of datasets and manifests, the letting assessment's CSV, reports."""

from __future__ import annotations

import json
import os

import pytest

from boligmix.atomic import atomic_path
from boligmix.data.io import write_json
from boligmix.letting.assess import CaseResult
from boligmix.letting.assess_io import write_results
from boligmix.report._files import write_text_atomic


def _usual() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_have_the_usual_permissions(tmp_path, umask):
    old = os.umask(umask)
    try:
        write_json(tmp_path / "manifest.json", {"a": "æøå"})
        write_results(tmp_path / "out.csv", [CaseResult("1", "eligible", "", "", "", "")])
        write_text_atomic(tmp_path / "report.txt", "x")
        for name in ("manifest.json", "out.csv", "report.txt"):
            assert (tmp_path / name).stat().st_mode & 0o777 == _usual() == 0o666 & ~umask, name
    finally:
        os.umask(old)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == {"a": "æøå"}
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("1,eligible")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "manifest.json"
    write_json(target, {"old": 1})
    with pytest.raises(TypeError):
        write_json(target, {"bad": object.__new__(type("NoStr", (), {"__str__": None}))})
    assert json.loads(target.read_text(encoding="utf-8")) == {"old": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.parquet", suffix=".parquet") as tmp:
        assert tmp.name.endswith(".parquet")
        tmp.write_bytes(b"half")
        raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_classify_output_and_its_provenance_have_the_usual_permissions(tmp_path):
    from typer.testing import CliRunner

    from boligmix.cli.main import app

    areas = tmp_path / "a.csv"
    areas.write_text("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
                     "pct_basic_education,income_pct_of_region\nP,2024,1500,60,45,3.1,3.5,55,50\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(app, ["classify", "--areas", str(areas), "--out", str(tmp_path / "o.csv")])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    for name in ("o.csv", "o.provenance.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_the_umask_is_read_without_setting_it(monkeypatch, umask):
    """Setting the umask to read it would let another thread's new file get mode 0666 meanwhile."""
    from boligmix import atomic

    old = os.umask(umask)
    try:
        def refuse(mask):
            raise AssertionError(f"os.umask({mask:o}) called")
        monkeypatch.setattr(atomic.os, "umask", refuse)
        assert atomic._umask() == umask
    finally:
        monkeypatch.undo()
        os.umask(old)


def test_a_classification_is_written_with_its_provenance_or_not_at_all(tmp_path, monkeypatch):
    from boligmix.lists import csvio

    out = tmp_path / "o.csv"
    out.write_text("old csv", encoding="utf-8")
    csvio.provenance_path(out).write_text("old provenance", encoding="utf-8")

    class Broken:
        provenance = {"x": object.__new__(type("NoStr", (), {"__str__": None}))}

        def as_flags(self):
            import polars as pl
            return pl.DataFrame({c: [1] for c in csvio.OUT_COLUMNS})

    with pytest.raises(TypeError):
        csvio.write_classification(out, Broken())
    assert out.read_text(encoding="utf-8") == "old csv"
    assert csvio.provenance_path(out).read_text(encoding="utf-8") == "old provenance"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "o.provenance.json"]
