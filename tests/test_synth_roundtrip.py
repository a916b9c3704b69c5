"""Round trip on the synthetic generator: synth small -> export CSV -> ingest -> same content.

Every id column is re-pseudonymised on import; the test maps each exported id through the key
(HMAC) and then requires every table to be identical, row for row.
"""

from __future__ import annotations

import pytest

from boligmix.data.io import read_manifest
from boligmix.data.synth import write_synthetic
from roundtrip import assert_round_trip


@pytest.fixture(scope="module")
def synthetic_small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "small"
    write_synthetic(out, scale="small", seed=20241201, years=(2020, 2021))
    return out


def test_synthetic_small_survives_export_and_ingest(synthetic_small, tmp_path):
    counts = assert_round_trip(synthetic_small, tmp_path, key=b"round-trip-key-0123456789")
    assert counts == read_manifest(synthetic_small).tables
    assert counts["persons"] > 1000 and counts["residences"] > 1000
    reimported = read_manifest(tmp_path / "reimported")
    assert reimported.years == (2020, 2021)
    assert reimported.source == "ingest"
