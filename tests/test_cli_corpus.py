"""Every command fed broken files: exit code 2, the broken file named, no traceback.

The corpus: empty, header only, truncated mid-row, UTF-16, an unknown separator, binary bytes for
the text inputs; a manifest that is not JSON, an empty manifest, a truncated, an empty and a binary
Parquet table for the datasets; broken YAML for policies and logs for the letting commands.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from mix_support.tiny_dataset import build

runner = CliRunner()

AREAS_HEADER = ("area_id,year,residents,pct_non_western,pct_outside_work_edu,pct_convicted,conviction_ratio,"
                "pct_basic_education,income_pct_of_region")
AREAS = AREAS_HEADER + "\nA,2021,1500,60,45,,3.5,55,50\nB,2021,2000,30,30,,1.5,50,70\n"
HISTORY = "area_id,year,parallelsamfund\nA,2019,1\nA,2020,1\n"
UNITS = "unit,g,total\nu1,5,10\nu2,1,10\nu3,8,12\n"
LISTED = "area_id,year,listed\nA1,2010,1\nA2,2011,0\n"


def _broken_texts(good: str) -> dict[str, bytes]:
    header, first = good.splitlines()[:2]
    return {
        "empty": b"",
        "blank_lines": b"\n\n  \n",
        "header_only": (header + "\n").encode(),
        "truncated": (header + "\n" + first[: len(first) // 2]).encode(),
        "utf16": good.encode("utf-16"),
        "pipe_separated": good.replace(",", "|").encode(),
        "binary": bytes(range(256)) * 8,
        "zip": b"PK\x03\x04" + bytes(200),
    }


DATASET_DAMAGE = ("manifest_not_json", "manifest_empty", "truncated_parquet", "empty_parquet", "binary_parquet")


def _damage(src: Path, dst: Path, kind: str) -> Path:
    shutil.copytree(src, dst)
    manifest = dst / "manifest.json"
    meta = json.loads(manifest.read_text())
    meta["years"] = [2000, 2024]  # so that every list year looks feasible and the tables are read
    manifest.write_text(json.dumps(meta))
    persons = dst / "persons.parquet"
    if kind == "manifest_not_json":
        manifest.write_text("{not json")
    elif kind == "manifest_empty":
        manifest.write_text("")
    elif kind == "truncated_parquet":
        persons.write_bytes(persons.read_bytes()[: persons.stat().st_size // 2])
    elif kind == "empty_parquet":
        persons.write_bytes(b"")
    else:
        persons.write_bytes(bytes(range(256)) * 4)
    return dst


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("corpus")
    ds = build(root / "ds")
    good = {"areas": root / "areas.csv", "history": root / "history.csv", "units": root / "units.csv",
            "listed": root / "listed.csv"}
    for key, text in (("areas", AREAS), ("history", HISTORY), ("units", UNITS), ("listed", LISTED)):
        good[key].write_text(text, encoding="utf-8")
    broken: dict[str, dict[str, Path]] = {}
    for key, text in (("areas", AREAS), ("history", HISTORY), ("units", UNITS), ("listed", LISTED)):
        broken[key] = {}
        for name, data in _broken_texts(text).items():
            path = root / f"{key}_{name}.csv"
            path.write_bytes(data)
            broken[key][name] = path
    datasets = {kind: _damage(ds, root / f"ds_{kind}", kind) for kind in DATASET_DAMAGE}
    return {"root": root, "ds": ds, "good": good, "broken": broken, "datasets": datasets}


def _text_cases(c: dict) -> list[tuple[str, list, Path]]:
    out, g = c["root"], c["good"]
    cases = []
    for name in _broken_texts(AREAS):
        a, h = c["broken"]["areas"][name], c["broken"]["history"][name]
        u, li = c["broken"]["units"][name], c["broken"]["listed"][name]
        cases += [
            (f"classify-areas-{name}", ["classify", "--areas", a, "--out", out / "o.csv"], a),
            (f"classify-history-{name}", ["classify", "--areas", g["areas"], "--history", h, "--out",
                                          out / "o.csv"], h),
            (f"explain-areas-{name}", ["explain-lists", "--areas", a, "--year", 2021, "--out", out / "e",
                                       "--force"], a),
            (f"explain-history-{name}", ["explain-lists", "--areas", g["areas"], "--history", h, "--year", 2021,
                                         "--out", out / "e", "--force"], h),
            (f"lists-history-{name}", ["lists", "--data", c["ds"], "--year", 2011, "--history", h, "--out",
                                       out / "l", "--force"], h),
            (f"segregation-{name}", ["segregation", "--units", u, "--groups", "g", "--total", "total", "--out",
                                     out / "s.csv"], u),
            (f"mix-listed-{name}", ["mix", "--data", c["ds"], "--years", "2010-2011", "--listed", li, "--out",
                                    out / "m", "--force"], li),
            (f"letting-check-policy-{name}", ["letting", "check-policy", a], a),
            (f"letting-explain-{name}", ["letting", "explain", "--applicant", 1, "--dwelling", 1,
                                         "--decisions", _as(a, ".jsonl")], _as(a, ".jsonl")),
        ]
    return cases


def _as(path: Path, suffix: str) -> Path:
    """A copy of `path` under another suffix (for commands that choose the reader by suffix)."""
    target = path.with_name(path.stem + suffix)
    if not target.exists():
        shutil.copyfile(path, target)
    return target


def _dataset_cases(c: dict) -> list[tuple[str, list, Path]]:
    out = c["root"]
    cases = []
    for kind, d in c["datasets"].items():
        named = d / ("manifest.json" if kind.startswith("manifest") else "persons.parquet")
        cases += [
            (f"lists-{kind}", ["lists", "--data", d, "--year", 2011, "--out", out / "l", "--force"], named),
            (f"mix-{kind}", ["mix", "--data", d, "--years", "2010-2011", "--out", out / "m", "--force"], named),
            (f"indicators-{kind}", ["indicators", "compute", d, "-y", 2011, "-o", out / "i.csv", "--force"], named),
            (f"composition-{kind}", ["indicators", "composition", d, "-y", 2011, "-o", out / "i.csv", "--force"],
             named),
            (f"export-{kind}", ["export-csv", d, "--out", out / "x", "--force"], named),
            (f"run-{kind}", ["run", "--data", d, "--out", out / "r"], named),
            (f"letting-simulate-{kind}", ["letting", "simulate", "--dataset", d, "--out", out / "d.jsonl"], named),
        ]
    return cases


TEXT_IDS = [f"{cmd}-{name}" for name in _broken_texts(AREAS) for cmd in (
    "classify-areas", "classify-history", "explain-areas", "explain-history", "lists-history", "segregation",
    "mix-listed", "letting-check-policy", "letting-explain")]
DATASET_IDS = [f"{cmd}-{kind}" for kind in DATASET_DAMAGE for cmd in (
    "lists", "mix", "indicators", "composition", "export", "run", "letting-simulate")]


def _check(case_id: str, cases: list[tuple[str, list, Path]]) -> None:
    (args, named), = [(a, n) for i, a, n in cases if i == case_id]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, (case_id, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (case_id, result.exception)
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert named.name in text, (case_id, result.output)


@pytest.mark.parametrize("case_id", TEXT_IDS)
def test_broken_text_input(corpus, case_id):
    _check(case_id, _text_cases(corpus))


@pytest.mark.parametrize("case_id", DATASET_IDS)
def test_broken_dataset(corpus, case_id):
    _check(case_id, _dataset_cases(corpus))


def test_corpus_ids_cover_every_case(corpus):
    assert sorted(TEXT_IDS) == sorted(i for i, _, _ in _text_cases(corpus))
    assert sorted(DATASET_IDS) == sorted(i for i, _, _ in _dataset_cases(corpus))
