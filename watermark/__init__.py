"""High-band spread-spectrum audio watermark (20.1–20.7 kHz), keyed with a 256-bit secret.

>>> key = WatermarkKey.generate()
>>> marked = embed(samples, 48000, bytes.fromhex("0123456789abcdef"), key)
>>> det = detect(marked, 48000, key)   # Detection(found, payload, p_value, segments)
"""

from watermark.detect import DEFAULT_THRESHOLD, Detection, detect
from watermark.embed import embed
from watermark.errors import DecodeLimitError, WatermarkError
from watermark.key import WatermarkKey
from watermark.stream import detect_file, embed_file

__all__ = [
    "DEFAULT_THRESHOLD",
    "DecodeLimitError",
    "Detection",
    "WatermarkError",
    "WatermarkKey",
    "detect",
    "detect_file",
    "embed",
    "embed_file",
]
