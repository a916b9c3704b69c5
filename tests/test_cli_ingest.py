"""`boligmix ingest` on the CLI: success, JSON output, key handling and error exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.io import read_manifest
from boligmix.data.pseudonymise import KEY_ENV
from register_extract import replace_line, write_extract

KEY_TEXT = "cli-test-key-0123456789"


def _run(args, env=None):
    return CliRunner().invoke(app, args, env=env or {KEY_ENV: ""})


def test_ingest_with_key_file_prints_json_manifest(tmp_path):
    write_extract(tmp_path / "src")
    (tmp_path / "key.txt").write_text(KEY_TEXT + "\n")
    result = _run(["ingest", str(tmp_path / "src"), "--out", str(tmp_path / "ds"),
                   "--key-file", str(tmp_path / "key.txt"), "--vintage", "DST 2025-03", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["source"] == "ingest" and payload["vintage"] == "DST 2025-03"
    assert payload["tables"]["persons"] == 3
    assert read_manifest(tmp_path / "ds").vintage == "DST 2025-03"


def test_ingest_key_from_environment_and_default_vintage(tmp_path):
    write_extract(tmp_path / "extract-2025")
    result = _run(["ingest", str(tmp_path / "extract-2025"), "--out", str(tmp_path / "ds")],
                  env={KEY_ENV: KEY_TEXT})
    assert result.exit_code == 0, result.output
    assert "imported" in result.stdout
    assert read_manifest(tmp_path / "ds").vintage == "extract-2025"
    # Same key from a file gives the same pseudonyms (the fingerprint matches).
    (tmp_path / "key.txt").write_text(KEY_TEXT)
    quiet = _run(["ingest", str(tmp_path / "extract-2025"), "--out", str(tmp_path / "ds2"), "--quiet",
                  "--key-file", str(tmp_path / "key.txt")])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    assert (read_manifest(tmp_path / "ds").notes["pseudonym_key"]
            == read_manifest(tmp_path / "ds2").notes["pseudonym_key"])


def test_ingest_without_key_refuses(tmp_path):
    write_extract(tmp_path / "src")
    result = _run(["ingest", str(tmp_path / "src"), "--out", str(tmp_path / "ds")])
    assert result.exit_code == 2
    assert "no pseudonymisation key" in result.output
    assert not (tmp_path / "ds").exists()


def test_ingest_bad_row_prints_file_row_column_and_exits_2(tmp_path):
    write_extract(tmp_path / "src", changes={
        "persons": replace_line("persons", 2, "020285-4321,1985-02-02,X,indvandrer,TUR")})
    result = _run(["ingest", str(tmp_path / "src"), "--out", str(tmp_path / "ds")], env={KEY_ENV: KEY_TEXT})
    assert result.exit_code == 2
    assert "persons.csv, row 2, column 'sex': value 'X' is not allowed" in " ".join(result.output.split())
    assert not (tmp_path / "ds").exists()


def test_ingest_existing_output_needs_force(tmp_path):
    write_extract(tmp_path / "src")
    env = {KEY_ENV: KEY_TEXT}
    args = ["ingest", str(tmp_path / "src"), "--out", str(tmp_path / "ds"), "--quiet"]
    assert _run(args, env).exit_code == 0
    again = _run(args, env)
    assert again.exit_code == 2 and "--force" in again.output
    assert _run([*args, "--force"], env).exit_code == 0


def test_ingest_out_inside_or_equal_to_source_is_refused_before_writing(tmp_path):
    src = tmp_path / "src"
    write_extract(src)
    before = sorted(p.name for p in src.iterdir())
    for out in (src, src / "ds", src / "a" / "b"):
        result = _run(["ingest", str(src), "--out", str(out), "--force"], env={KEY_ENV: KEY_TEXT})
        assert result.exit_code == 2, result.output
        assert "source directory" in result.output and str(src) in result.output
    assert sorted(p.name for p in src.iterdir()) == before  # nothing written into the extract
    assert not (src / "a").exists()
    # an --out that contains the extract would delete it when replaced
    result = _run(["ingest", str(src), "--out", str(tmp_path), "--force"], env={KEY_ENV: KEY_TEXT})
    assert result.exit_code == 2 and "contains the source directory" in result.output
    assert sorted(p.name for p in src.iterdir()) == before
    # a sibling directory is fine
    ok = _run(["ingest", str(src), "--out", str(tmp_path / "ds")], env={KEY_ENV: KEY_TEXT})
    assert ok.exit_code == 0, ok.output
