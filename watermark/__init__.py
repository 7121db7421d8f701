"""Keyed audio watermark in two layers, both carrying the same 64-bit payload under one key.

``high``: spread spectrum in 20.1–20.7 kHz (nothing audible changes; dies in lossy codecs).
``robust``: a masking-shaped level pattern in 0.5–5 kHz (survives codecs, 16 kHz, speed changes).

>>> key = WatermarkKey.generate()
>>> marked = embed(samples, 48000, bytes.fromhex("0123456789abcdef"), key)   # both layers
>>> det = detect(marked, 48000, key)   # Detection(found, payload, p_value, segments, layers)
>>> det.layers["robust"].speed         # per-layer results: found, payload, p_value, segments, speed
"""

from watermark.api import detect, embed
from watermark.errors import DecodeLimitError, WatermarkError
from watermark.key import WatermarkKey
from watermark.layers import DEFAULT_THRESHOLD, LAYERS, Detection, LayerResult
from watermark.stream import detect_file, embed_file

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
