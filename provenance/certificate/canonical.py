"""RFC 8785 (JSON Canonicalization Scheme) serialisation.

:func:`canonicalize` returns exactly the bytes of ``rfc8785.dumps``. Most provkit documents contain
only strings, integers, booleans, nulls and "plain" decimal floats; for those, the C-accelerated
``json.dumps`` with sorted keys produces the same bytes (the equality is property-tested against
``rfc8785``), so that path is taken when a quick scan of the value proves it safe. Anything else
(non-ASCII keys, floats that print with an exponent or as integers, large integers) goes through
``rfc8785`` itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import rfc8785

from provenance.certificate.errors import CertificateError

_MAX_SAFE_INT = 2**53 - 1


_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
)


def _fast_safe(value: Any) -> bool:
    """True when ``json.dumps(sort_keys=True)`` is byte-identical to RFC 8785 for ``value``.

    Python's float repr and ECMAScript's Number::toString agree on the shortest round-trip digits;
    they differ only for integral values ("1.0" vs "1") and in when they switch to exponents.
    Non-ASCII keys may sort differently (code points vs UTF-16 code units); big integers are
    outside the I-JSON range. Those cases go to ``rfc8785``.
    """
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    count = 0
    while stack:
        v = pop()
        t = type(v)
        if t is str or t is bool or v is None:
            continue
        count += 1
        if count > 100_000:
            return False
        if t is dict:
            for k in v:
                if type(k) is not str or not k.isascii():
                    return False
            extend(v.values())
        elif t is list or t is tuple:
            extend(v)
        elif t is int:
            if not -_MAX_SAFE_INT <= v <= _MAX_SAFE_INT:
                return False
        elif t is float:
            if not (math.isfinite(v) and v != int(v) and 1e-4 <= abs(v) < 1e16):
                return False
        else:
            return False
    del push
    return True


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: Deepest JSON nesting accepted from outside (certificates and action logs need fewer than 8).
MAX_JSON_DEPTH = 64


def loads(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses input nested deeper than ``max_depth``.

    The C JSON decoder recurses once per nesting level; in a process whose recursion limit was
    raised, a hostile document of nested brackets could overflow the C stack. Counting brackets is
    free; the exact depth scan runs only when there are more brackets than ``max_depth``.
    Raises ``ValueError`` (``json.JSONDecodeError`` or a depth error).
    """
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if text.count("[") + text.count("{") > max_depth:
        depth = 0
        for m in _JSON_TOKENS.finditer(text):
            tok = m.group()
            if tok == "[" or tok == "{":
                depth += 1
                if depth > max_depth:
                    raise ValueError(f"JSON nested deeper than {max_depth} levels")
            elif tok == "]" or tok == "}":
                depth -= 1
    return json.loads(text)


def fast_path_safe(value: Any) -> bool:
    """Whether :func:`fast_encode` gives the RFC 8785 bytes of ``value`` (see module doc)."""
    return _fast_safe(value)


def fast_encode(value: Any) -> bytes | None:
    """Sorted-key compact JSON without the safety scan (caller checked :func:`fast_path_safe`);
    None when the value cannot be encoded that way (e.g. lone surrogates)."""
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError, TypeError):
        return None


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises :class:`CertificateError` for values JSON cannot represent canonically (NaN, infinities,
    integers beyond 2**53, lone surrogates, non-string keys).
    """
    if _fast_safe(value):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except (UnicodeEncodeError, RecursionError, ValueError):
            pass  # lone surrogates: let rfc8785 report them
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise CertificateError(f"value cannot be canonicalised (RFC 8785): {exc}") from None
