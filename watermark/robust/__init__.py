"""The robust layer: a keyed level pattern in 1–5.5 kHz that survives codecs and speed changes.

Stages, one per file: :mod:`~watermark.robust.grid` (cells and keyed frame),
:mod:`~watermark.robust.spectrum` (16 kHz short-time spectrum, streaming),
:mod:`~watermark.robust.embed` (masking-shaped ± level changes),
:mod:`~watermark.robust.features` (band features at a candidate speed, folded),
:mod:`~watermark.robust.detect` (speed/offset search, Viterbi + CRC, p-value).

>>> mark = robust_mark(mono, 48000, key, payload)      # float32, add it to every channel
>>> ana = Analyzer(48000); ana.feed(mono); spec = ana.finish()
>>> res = detect_robust(spec, seconds, key, 1e-6, 0.05, ana.phases)  # LayerResult(..., speed=)
"""

from __future__ import annotations

import numpy as np

from watermark.errors import WatermarkError
from watermark.key import WatermarkKey
from watermark.layers import LayerResult
from watermark.robust.detect import detect_spectrogram
from watermark.robust.embed import (
    DEFAULT_ROBUST_STRENGTH_DB,
    check_robust_strength,
    headroom_scale,
    robust_mark,
)
from watermark.robust.grid import PHASES

#: The robust layer searches playback speeds within ±5 % by default.
DEFAULT_MAX_SPEED_DEV = 0.05


def check_speed_dev(max_speed_dev: float) -> float:
    """Validate the speed-search range (0 = off, at most 0.06)."""
    if not 0.0 <= max_speed_dev <= 0.06:
        raise WatermarkError("max_speed_dev must be between 0 (no speed search) and 0.06")
    return float(max_speed_dev)


def detect_robust(
    spec: np.ndarray,
    duration: float,
    key: WatermarkKey,
    threshold: float,
    max_speed_dev: float,
    phases: int = PHASES,
) -> LayerResult:
    """The robust layer's :class:`~watermark.layers.LayerResult` from a stored spectrogram
    (``phases`` frames per hop, as :attr:`Analyzer.phases <watermark.robust.spectrum.Analyzer>`
    says)."""
    r = detect_spectrogram(
        spec, duration, key, threshold, max_speed_dev=max_speed_dev, phases=phases
    )
    found = r.p_value <= threshold
    return LayerResult("robust", found, r.payload, r.p_value, r.segments, r.speed)


__all__ = [
    "DEFAULT_MAX_SPEED_DEV",
    "DEFAULT_ROBUST_STRENGTH_DB",
    "check_robust_strength",
    "check_speed_dev",
    "detect_robust",
    "headroom_scale",
    "robust_mark",
]
