"""How deeply a JSON text nests, measured before any parser sees it.

Python's ``json`` parser recurses once per ``[`` or ``{``. Under the default recursion limit a
deep text only raises ``RecursionError``, but libraries may raise the limit for the whole process
(py-evm and py_ecc set it to 100,000 when imported), and then 300,000 opening brackets — a 600 KB
body — overflow the C stack and kill the worker. The depth is therefore measured here, on the raw
bytes, with array operations (no per-byte Python loop): brackets inside strings do not count, and
a quote escaped by an odd number of backslashes does not end a string.

    >>> max_depth(b'{"a": [1, {"b": "[[["}]}')
    3
"""

from __future__ import annotations

import numpy as np

_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def max_depth(text: bytes) -> int:
    """The deepest nesting of arrays and objects in ``text`` (0 for a scalar).

    Malformed text gets a number too (the parser will refuse it later); only the bound matters.
    """
    b = np.frombuffer(text, dtype=np.uint8)
    n = b.size
    if n == 0:
        return 0
    quotes = np.flatnonzero(b == _QUOTE)
    if quotes.size:
        # backslashes run right before each quote: odd → escaped
        idx = np.arange(n)
        last_other = np.maximum.accumulate(np.where(b != _BACKSLASH, idx, -1))
        before = quotes - 1
        run = np.where(before >= 0, before - last_other[np.maximum(before, 0)], 0)
        real = quotes[(run & 1) == 0]
        # inside a string between an opening real quote and its closing one
        toggles = np.zeros(n + 1, dtype=np.int32)
        toggles[real + 1] = 1
        inside = (np.cumsum(toggles[:n]) & 1).astype(bool)
        steps = np.where(inside, 0, _OPEN[b])
    else:
        steps = _OPEN[b]
    if not steps.any():
        return 0
    return int(np.cumsum(steps, dtype=np.int64).max(initial=0))


def deeper_than(text: bytes, limit: int) -> bool:
    """Whether ``text`` nests more than ``limit`` levels (a cheap count answers most bodies)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    return max_depth(text) > limit
