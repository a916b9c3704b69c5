"""Keyed pseudonymisation of identifiers: HMAC-SHA256 of the source id, as a positive int64.

The pseudonym of a source id `v` in id column `c` is

    int.from_bytes(HMAC-SHA256(key, c + "\\x1f" + v)[:8], "big") % (2**63 - 1) + 1

so it lies in 1 .. 2**63 - 1. The column name separates the id kinds (person 17 and dwelling 17
get unrelated pseudonyms) while one id kind gets the same pseudonym in every table of every
import made with the same key. Source ids are text (e.g. CPR-like "010190-1234") or integers;
integers are hashed as their decimal text, so 17 and "17" are the same id; "017" is another.

Without the key the pseudonyms cannot be linked back to the source ids; keep the key apart from
the data. Every distinct source id is hashed once (HMAC in DuckDB over the unique values;
polars joins map them back), and two different source ids that get one pseudonym raise
`PseudonymCollisionError`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Collection, Mapping
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from boligmix.errors import BoligmixError, ConfigurationError

ID_COLUMNS: tuple[str, ...] = ("person_id", "household_id", "dwelling_id", "applicant_id", "letting_id")
"""The identifying id columns; every table column with one of these names is pseudonymised."""

KEY_ENV = "BOLIGMIX_PSEUDONYM_KEY"
"""Environment variable holding the key when no key file is given."""

MIN_KEY_BYTES = 16
MODULUS = 2**63 - 1
SEPARATOR = "\x1f"
_SOURCE = "__boligmix_source_id__"
_BLOCK = 64  # SHA-256 block size in bytes
DUCKDB_MIN_IDS = 50_000
"""From this many distinct ids on, HMACs are computed in DuckDB (vectorised) rather than a loop."""


class PseudonymCollisionError(BoligmixError):
    """Two different source ids got the same pseudonym (astronomically unlikely; never ignored)."""


def load_key(key_file: str | os.PathLike[str] | None = None, *,
             environ: Mapping[str, str] | None = None) -> bytes:
    """The pseudonymisation key: the bytes of `key_file` (surrounding whitespace stripped),
    else the UTF-8 bytes of `$BOLIGMIX_PSEUDONYM_KEY`. Refuses a missing or short key."""
    environ = os.environ if environ is None else environ
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise ConfigurationError("key file not found", source=str(path))
        key = path.read_bytes().strip()
        source = str(path)
    elif environ.get(KEY_ENV):
        key = environ[KEY_ENV].strip().encode("utf-8")
        source = f"${KEY_ENV}"
    else:
        raise ConfigurationError(
            f"no pseudonymisation key: pass --key-file FILE or set {KEY_ENV}; "
            "ids are never imported without pseudonymisation")
    check_key(key, source=source)
    return key


def check_key(key: bytes, *, source: str | None = None) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))' > key.txt`)",
            source=source)


def key_fingerprint(key: bytes) -> str:
    """A short public tag of the key (HMAC of a fixed text), to tell which key made a dataset."""
    return hmac.digest(key, b"boligmix key fingerprint", "sha256").hex()[:16]


def _hmac_ids(values: pl.Series, key: bytes, namespace: str) -> np.ndarray:
    """Pseudonyms (int64 array) of text ids, in order (DuckDB for many ids, else Python)."""
    if len(values) >= DUCKDB_MIN_IDS:
        return _hmac_ids_duckdb(values, key, namespace)
    return _hmac_ids_python(values, key, namespace)


def _hmac_ids_python(values: pl.Series, key: bytes, namespace: str) -> np.ndarray:
    """The standard library's HMAC in a loop: the reference, and fastest for few ids."""
    copy = hmac.new(key, (namespace + SEPARATOR).encode("utf-8"), "sha256").copy
    heads = bytearray()
    for value in values.to_list():
        mac = copy()
        mac.update(value.encode("utf-8"))
        heads += mac.digest()[:8]
    return _to_pseudonyms(np.frombuffer(bytes(heads), dtype=">u8").astype(np.uint64))


def _to_pseudonyms(heads: np.ndarray) -> np.ndarray:
    return (heads % np.uint64(MODULUS) + np.uint64(1)).astype(np.int64)


def _hmac_ids_duckdb(values: pl.Series, key: bytes, namespace: str) -> np.ndarray:
    """HMAC-SHA256 (RFC 2104) computed in DuckDB, vectorised and multi-threaded:
    H((K ^ opad) || H((K ^ ipad) || message)), K the key (hashed first if longer than the
    64-byte block) padded with zeros. Tested against Python's `hmac` on random ids and keys;
    about twice as fast as a Python loop over `hmac` (see docs/ingest.md).
    """
    block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    block = block.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in block) + (namespace + SEPARATOR).encode("utf-8")
    outer = bytes(b ^ 0x5C for b in block)
    with duckdb.connect() as con:
        con.register("ids", pl.DataFrame({"v": values}).to_arrow())
        result = con.execute(
            "SELECT (('0x' || left(sha256($outer::BLOB || unhex(sha256($inner::BLOB || encode(v)))), 16))"
            f"::UBIGINT % {MODULUS} + 1)::BIGINT AS p FROM ids",
            {"outer": outer, "inner": inner},
        ).fetchnumpy()["p"]
    return np.asarray(result, dtype=np.int64)


def pseudonym_map(ids: pl.Series, key: bytes, *, namespace: str) -> pl.DataFrame:
    """Columns `source` (text) and `pseudonym` (int64) for every distinct non-null id in `ids`,
    in order of first appearance.

    Raises `PseudonymCollisionError` when two sources share a pseudonym.
    """
    check_key(key)
    source = _as_text(ids).drop_nulls().unique(maintain_order=True)
    pseudonyms = _hmac_ids(source, key, namespace)
    mapping = pl.DataFrame({"source": source, "pseudonym": pl.Series(pseudonyms, dtype=pl.Int64)})
    check_collisions(mapping, namespace=namespace)
    return mapping


def check_collisions(mapping: pl.DataFrame, *, namespace: str) -> None:
    """Raise if distinct `source` values share a `pseudonym`."""
    if mapping.get_column("pseudonym").n_unique() == mapping.height:
        return
    clashes = mapping.filter(pl.col("pseudonym").is_duplicated()).sort("pseudonym")
    if clashes.height:
        first = clashes.row(0, named=True)
        raise PseudonymCollisionError(
            f"{namespace}: {clashes.height} source ids share pseudonyms "
            f"(e.g. pseudonym {first['pseudonym']}); use another key")


def _as_text(ids: pl.Series) -> pl.Series:
    if ids.dtype == pl.String:
        return ids
    if ids.dtype.is_integer() or ids.dtype == pl.Null:
        return ids.cast(pl.String)
    raise TypeError(f"ids must be text or integers, not {ids.dtype}")


def pseudonymise_tables(
    tables: Mapping[str, pl.DataFrame],
    key: bytes,
    *,
    columns: Collection[str] = ID_COLUMNS,
) -> dict[str, pl.DataFrame]:
    """Replace every id column (named in `columns`) of every table by its pseudonym.

    The same source id gets the same pseudonym in all tables. Nulls stay null. Other columns
    are untouched.
    """
    check_key(key)
    out = dict(tables)
    for namespace in columns:
        holders = [name for name, frame in tables.items() if namespace in frame.columns]
        if not holders:
            continue
        every = pl.concat([_as_text(tables[name].get_column(namespace)) for name in holders])
        mapping = pseudonym_map(every, key, namespace=namespace).rename(
            {"source": _SOURCE, "pseudonym": namespace})
        for name in holders:
            frame = out[name]
            keyed = frame.with_columns(_as_text(frame.get_column(namespace)).alias(_SOURCE)).drop(namespace)
            joined = keyed.join(mapping, on=_SOURCE, how="left", maintain_order="left")
            out[name] = joined.select(frame.columns)
    return out
