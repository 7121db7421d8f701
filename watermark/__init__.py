"""Keyed audio watermark in two layers, both carrying the same 64-bit payload under one key.

``high``: spread spectrum in 20.1–20.7 kHz (nothing audible changes; dies in lossy codecs).
``robust``: a masking-shaped level pattern in 1–5.5 kHz (survives codecs, 16 kHz, speed changes).

>>> key = WatermarkKey.generate()
>>> marked = embed(samples, 48000, bytes.fromhex("0123456789abcdef"), key)   # both layers
>>> det = detect(marked, 48000, key)   # Detection(found, payload, p_value, segments, layers)
>>> det.layers["robust"].speed         # per-layer results: found, payload, p_value, segments, speed
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watermark.api import detect, embed
    from watermark.errors import DecodeLimitError, WatermarkError
    from watermark.key import WatermarkKey
    from watermark.layers import DEFAULT_THRESHOLD, LAYERS, Detection, LayerResult
    from watermark.stream import detect_file, embed_file

# Modules load when a name is first used, so that ``import watermark.key`` (the CLI's keygen)
# does not load SciPy and the detectors (PEP 562).
_MODULE_OF = {
    "DecodeLimitError": "watermark.errors",
    "DEFAULT_THRESHOLD": "watermark.layers",
    "detect": "watermark.api",
    "detect_file": "watermark.stream",
    "Detection": "watermark.layers",
    "embed": "watermark.api",
    "embed_file": "watermark.stream",
    "LayerResult": "watermark.layers",
    "LAYERS": "watermark.layers",
    "WatermarkError": "watermark.errors",
    "WatermarkKey": "watermark.key",
}

__all__ = [
    "DEFAULT_THRESHOLD",
    "LAYERS",
    "DecodeLimitError",
    "Detection",
    "LayerResult",
    "WatermarkError",
    "WatermarkKey",
    "detect",
    "detect_file",
    "embed",
    "embed_file",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps an exported name bound to its object when a submodule of the same name (``embed``)
    is imported later: the import system would otherwise rebind the package attribute to the
    submodule."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
