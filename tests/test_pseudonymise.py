"""Keyed pseudonymisation: HMAC-SHA256 oracle, consistency, key handling, collision check."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.data import pseudonymise as ps
from boligmix.data.pseudonymise import (
    KEY_ENV,
    PseudonymCollisionError,
    load_key,
    pseudonym_map,
    pseudonymise_tables,
)
from boligmix.errors import ConfigurationError

KEY = b"0123456789abcdef-secret"
OTHER_KEY = b"0123456789abcdef-secreT"


def _oracle(namespace: str, source: str, key: bytes = KEY) -> int:
    digest = hmac.new(key, f"{namespace}\x1f{source}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2**63 - 1) + 1


cpr_like = st.builds(lambda d, m, y, s: f"{d:02d}{m:02d}{y:02d}-{s:04d}",
                     st.integers(1, 28), st.integers(1, 12), st.integers(0, 99), st.integers(0, 9999))
big_ints = st.integers(10**9, 2**62)


@settings(max_examples=50, deadline=None)
@given(st.lists(cpr_like | big_ints.map(str), min_size=1, max_size=30, unique=True))
def test_pseudonyms_match_the_hmac_oracle_and_never_reveal_the_source(ids):
    mapping = pseudonym_map(pl.Series(ids), KEY, namespace="person_id")
    got = dict(zip(mapping["source"], mapping["pseudonym"]))
    assert sorted(got) == sorted(ids)
    for source, pseudonym in got.items():
        assert pseudonym == _oracle("person_id", source)
        assert 1 <= pseudonym <= 2**63 - 1
        digits = source.replace("-", "")
        assert str(pseudonym) != source and digits not in str(pseudonym)
        assert source not in str(pseudonym)
    other = pseudonym_map(pl.Series(ids), OTHER_KEY, namespace="person_id")
    assert set(other["pseudonym"]).isdisjoint(set(mapping["pseudonym"]))


@settings(max_examples=30, deadline=None)
@given(st.lists(big_ints, min_size=1, max_size=20, unique=True))
def test_integer_ids_and_their_decimal_text_are_the_same_id(ids):
    as_int = pseudonym_map(pl.Series(ids, dtype=pl.Int64), KEY, namespace="dwelling_id")
    as_text = pseudonym_map(pl.Series([str(i) for i in ids]), KEY, namespace="dwelling_id")
    assert as_int.equals(as_text)


def test_same_source_id_same_pseudonym_in_every_table_and_kinds_are_separate():
    tables = {
        "persons": pl.DataFrame({"person_id": ["010190-1234", "17"], "sex": ["F", "M"]}),
        "residences": pl.DataFrame({"person_id": ["17", "17", "010190-1234"],
                                    "household_id": ["17", None, "H9"],
                                    "dwelling_id": [17, 18, 17]}),
    }
    out = pseudonymise_tables(tables, KEY)
    assert out["persons"]["sex"].to_list() == ["F", "M"]
    assert out["persons"].columns == ["person_id", "sex"]
    p17 = out["persons"]["person_id"][1]
    assert out["residences"]["person_id"].to_list() == [p17, p17, out["persons"]["person_id"][0]]
    assert out["residences"]["household_id"][1] is None
    # "17" as a person, a household and a dwelling: three unrelated pseudonyms.
    assert len({p17, out["residences"]["household_id"][0], out["residences"]["dwelling_id"][0]}) == 3
    assert out["residences"]["dwelling_id"].dtype == pl.Int64


def test_a_collision_is_an_error(monkeypatch):
    monkeypatch.setattr(ps, "_hmac_ids", lambda values, key, namespace: np.full(len(values), 7, dtype=np.int64))
    with pytest.raises(PseudonymCollisionError, match="person_id: 2 source ids share pseudonyms"):
        pseudonym_map(pl.Series(["a", "b"]), KEY, namespace="person_id")


def test_float_ids_are_refused():
    with pytest.raises(TypeError):
        pseudonym_map(pl.Series([1.5]), KEY, namespace="person_id")


def test_load_key_from_file_or_environment_and_refuses_none_or_short(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    assert load_key(key_file, environ={}) == KEY
    assert load_key(None, environ={KEY_ENV: KEY.decode()}) == KEY
    assert load_key(key_file, environ={KEY_ENV: "another key, longer than 16"}) == KEY
    with pytest.raises(ConfigurationError, match="no pseudonymisation key"):
        load_key(None, environ={})
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        load_key(None, environ={KEY_ENV: "short"})
    with pytest.raises(ConfigurationError, match="key file not found"):
        load_key(tmp_path / "absent", environ={})
    with pytest.raises(ConfigurationError):
        pseudonymise_tables({"persons": pl.DataFrame({"person_id": ["1"]})}, b"")


@settings(max_examples=25, deadline=None)
@given(key=st.binary(min_size=16, max_size=200),
       ids=st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=10, unique=True))
def test_both_hmac_implementations_match_the_oracle_for_any_key_and_text(key, ids):
    """Keys longer than the 64-byte HMAC block are hashed first; ids are hashed as UTF-8."""
    expected = [_oracle("household_id", i, key) for i in ids]
    series = pl.Series(ids, dtype=pl.String)
    assert ps._hmac_ids_python(series, key, "household_id").tolist() == expected
    assert ps._hmac_ids_duckdb(series, key, "household_id").tolist() == expected


def test_many_ids_take_the_duckdb_path_with_the_same_result(monkeypatch):
    ids = pl.Series([f"{i:06d}-{i % 9973:04d}" for i in range(ps.DUCKDB_MIN_IDS + 10)])
    fast = pseudonym_map(ids, KEY, namespace="person_id")
    monkeypatch.setattr(ps, "DUCKDB_MIN_IDS", 10**9)
    assert pseudonym_map(ids, KEY, namespace="person_id").equals(fast)
    assert fast["pseudonym"][123] == _oracle("person_id", ids[123])


def test_no_ids_give_an_empty_map():
    assert pseudonym_map(pl.Series([None, None], dtype=pl.String), KEY, namespace="person_id").height == 0
    no_households = pl.DataFrame({"household_id": pl.Series([None], dtype=pl.String)})
    out = pseudonymise_tables({"applicants": no_households}, KEY)
    assert out["applicants"]["household_id"].dtype == pl.Int64
    assert out["applicants"]["household_id"].to_list() == [None]
