"""Every command refuses an output path that is, contains or lies inside one of its inputs, and
leaves the input byte for byte as it was (one shared check: `boligmix.data.io.check_out_dir`)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.io import check_new_dir, check_out_dir
from boligmix.errors import DatasetError
from mix_support.tiny_dataset import build

runner = CliRunner()

AREAS = ("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
         "pct_basic_education,income_pct_of_region\nA,2021,1500,60,45,,3.5,55,50\n")
UNITS = "unit,g,total\nu1,5,10\nu2,1,10\nu3,8,10\n"


def _digest(path: Path) -> dict[str, str]:
    """Path -> sha256 of every file under `path` (or of `path` itself)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("ds") / "ds")


def _cases(ds: Path, tmp: Path) -> list[tuple[list[str], Path]]:
    areas = tmp / "areas.csv"
    areas.write_text(AREAS, encoding="utf-8")
    sidecar = tmp / "o.provenance.json"
    sidecar.write_text(AREAS, encoding="utf-8")
    units = tmp / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    hist = tmp / "hist.csv"
    hist.write_text("area_id,year,parallelsamfund\nA,2019,1\n", encoding="utf-8")
    return [
        (["lists", "--data", ds, "--year", "2011", "--out", ds, "--force"], ds),
        (["lists", "--data", ds, "--year", "2011", "--out", ds / "res"], ds),
        (["lists", "--data", ds, "--year", "2011", "--out", ds.parent, "--force"], ds),
        (["lists", "--data", ds, "--year", "2011", "--history", hist, "--out", hist, "--force"], hist),
        (["classify", "--areas", areas, "--out", areas], areas),
        (["classify", "--areas", areas, "--history", hist, "--out", hist], hist),
        (["classify", "--areas", sidecar, "--out", tmp / "o.csv"], sidecar),  # OUT's provenance sidecar
        (["explain-lists", "--areas", areas, "--year", "2021", "--out", areas, "--force"], areas),
        (["explain-lists", "--areas", areas, "--year", "2021", "--out", tmp, "--force"], areas),
        (["segregation", "--units", units, "--groups", "g", "--total", "total", "--out", units], units),
        (["mix", "--data", ds, "--out", ds, "--force"], ds),
        (["mix", "--data", ds, "--out", ds / "mix"], ds),
        (["indicators", "compute", ds, "-y", "2011", "-o", ds / "x.csv"], ds),
        (["indicators", "composition", ds, "-y", "2011", "-o", ds / "x.csv"], ds),
        (["run", "--data", ds, "--out", ds], ds),
        (["run", "--data", ds / "..", "--out", ds.parent / "x"], ds),
        (["export-csv", ds, "--out", ds, "--force"], ds),
    ]


@pytest.mark.parametrize("k", range(17))
def test_command_refuses_output_on_its_input(dataset, tmp_path, k):
    copy = tmp_path / "ds"
    os.system(f"cp -r '{dataset}' '{copy}'")  # noqa: S605 -- a private copy each case may try to destroy
    args, victim = _cases(copy, tmp_path)[k]
    before = _digest(victim)
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, (args, result.output)
    assert "--out" in result.output and "elsewhere" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _digest(victim) == before


def test_check_out_dir_files_and_links(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    check_out_dir(src, tmp_path / "out.csv")  # a sibling is fine
    with pytest.raises(DatasetError, match="is the"):
        check_out_dir(src, tmp_path / "sub" / ".." / "in.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(src)
    with pytest.raises(DatasetError, match="is the"):
        check_out_dir(src, link)
    hard = tmp_path / "hard.csv"
    os.link(src, hard)
    with pytest.raises(DatasetError, match="is the"):
        check_out_dir(src, hard)
    with pytest.raises(DatasetError, match="contains"):
        check_out_dir(src, tmp_path)


def test_mix_refuses_a_non_empty_folder_without_force(dataset, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = runner.invoke(app, ["mix", "--data", str(dataset), "--years", "2010-2011", "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    check_new_dir(tmp_path / "new", overwrite=False)
    result = runner.invoke(app, ["mix", "--data", str(dataset), "--years", "2010-2011", "--out", str(out),
                                 "--force"])
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "keep me" and (out / "report.html").is_file()
