"""`db.dumps_json`, the JSON columns' serializer (orjson, with `json.dumps` for what orjson refuses):
the text it stores reads back as `json.dumps`'s text does, for random JSON values with integer keys,
unicode, floats and integers beyond 64 bits; a value neither can store raises TypeError as before."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.store.db import dumps_json

_scalar = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=8)
           | st.floats(allow_nan=False, allow_infinity=False))
_value = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(st.text(alphabet="abé€", max_size=4) | st.integers(-5, 5), inner,
                                                        max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_value)
def test_the_stored_text_reads_back_as_json_dumps_text_does(value) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(dumps_json(value)) == json.loads(json.dumps(value))


def test_what_json_cannot_store_is_refused_as_before() -> None:
    for refused in ({"when": date(2025, 1, 1)}, {"at": datetime(2025, 1, 1, 12)}, {"x": object()}):
        with pytest.raises(TypeError):
            json.dumps(refused)
        with pytest.raises(TypeError):
            dumps_json(refused)
    assert json.loads(dumps_json({"ids": [1, 2**63 - 1], "n": 2**80})) == {"ids": [1, 2**63 - 1], "n": 2**80}
