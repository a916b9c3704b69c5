"""`boligmix.data.io.staged_dir`: the one staged directory writer of datasets, CSV exports and list results."""

import pytest

from boligmix.data.io import staged_dir
from boligmix.errors import DatasetError


def test_success_replaces_failure_keeps_and_existing_is_refused(tmp_path):
    target = tmp_path / "out"
    with staged_dir(target, overwrite=False) as staging:
        (staging / "a.txt").write_text("1")
    assert [p.name for p in target.iterdir()] == ["a.txt"]
    with pytest.raises(DatasetError, match="exists"):
        with staged_dir(target, overwrite=False):
            pass
    with pytest.raises(RuntimeError):
        with staged_dir(target, overwrite=True) as staging:
            (staging / "b.txt").write_text("2")
            raise RuntimeError("half-way")
    assert [p.name for p in target.iterdir()] == ["a.txt"]  # the old result is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging directory left behind
    with staged_dir(target, overwrite=True) as staging:
        (staging / "c.txt").write_text("3")
    assert [p.name for p in target.iterdir()] == ["c.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
