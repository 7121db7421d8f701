"""RFC 8785: the fast path must produce exactly the bytes of the rfc8785 package."""

from __future__ import annotations

import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from provenance.certificate import CertificateError, canonicalize

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values)
def test_matches_rfc8785(value: Any) -> None:
    try:
        want = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(CertificateError):
            canonicalize(value)
        return
    assert canonicalize(value) == want


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1.0, "a": 2e-7}, b'{"a":2e-7,"b":1}'),
        ({"é": "é", "a": [0.5, -0.0]}, '{"a":[0.5,0],"é":"é"}'.encode()),
        ({"ctl": "\u0001\n"}, b'{"ctl":"\\u0001\\n"}'),
        ({"s": 0.55, "n": None, "t": True}, b'{"n":null,"s":0.55,"t":true}'),
    ],
)
def test_known_vectors(value: object, expected: bytes) -> None:
    assert canonicalize(value) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, 2**60, {"k": "\ud800"}])
def test_rejects_values_without_canonical_form(bad: object) -> None:
    with pytest.raises(CertificateError):
        canonicalize(bad)
