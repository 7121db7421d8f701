"""The public face: :func:`embed` and :func:`detect` over one or both layers, in memory.

``embed`` adds the robust layer first and then the high band, whose level and headroom are
computed on the host plus the robust mark, so the sum never exceeds full scale; the two marks
are added to the input in one rounding step. ``detect`` runs the chosen layers on the mono mix
and combines them (:func:`watermark.layers.combine`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from watermark.demod import Demodulator
from watermark.detect import detect_baseband as detect_high_baseband
from watermark.detect import mono_mix
from watermark.embed import (
    DEFAULT_STRENGTH_DB,
    add_mark,
    check_strength,
    hop_gains,
    hop_size,
    hop_stats,
    mark_segment,
    unit_mark,
)
from watermark.errors import WatermarkError
from watermark.frame import PERIOD_S, check_payload
from watermark.key import WatermarkKey
from watermark.layers import DEFAULT_THRESHOLD, Detection, LayerResult, combine, resolve_layers
from watermark.pcm import channel_peak, check_rate, check_samples
from watermark.robust import (
    DEFAULT_MAX_SPEED_DEV,
    DEFAULT_ROBUST_STRENGTH_DB,
    check_robust_strength,
    check_speed_dev,
    detect_robust,
    headroom_scale,
    robust_mark,
)
from watermark.robust.grid import PHASES
from watermark.robust.spectrum import Analyzer


def check_int_rate(sample_rate: object) -> int:
    """The sample rate as an int, or :class:`WatermarkError`."""
    try:
        sr = int(sample_rate)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise WatermarkError(f"sample rate must be an integer, got {sample_rate!r}") from None
    if sr != sample_rate:
        raise WatermarkError(f"sample rate must be an integer, got {sample_rate!r}")
    return sr


def check_key(key: object) -> WatermarkKey:
    """``key`` if it is a :class:`WatermarkKey`."""
    if not isinstance(key, WatermarkKey):
        raise WatermarkError("key must be a WatermarkKey")
    return key


def check_threshold(threshold: float) -> float:
    """A threshold strictly between 0 and 1."""
    if not 0.0 < threshold < 1.0:
        raise WatermarkError("threshold must be between 0 and 1")
    return float(threshold)


def embed(
    samples: np.ndarray,
    sample_rate: int,
    payload: bytes,
    key: WatermarkKey,
    *,
    strength_db: float = DEFAULT_STRENGTH_DB,
    layers: Iterable[str] | str | None = None,
    robust_strength_db: float = DEFAULT_ROBUST_STRENGTH_DB,
) -> np.ndarray:
    """Return ``samples`` with the keyed mark carrying the 8-byte ``payload`` added.

    ``samples``: mono (frames,) or (frames, channels), float32/64 or int16/32 PCM; the result has
    the same shape and dtype. ``layers``: ``("high", "robust")`` or a subset; ``None`` = every
    layer that applies at this rate (the high band only at 44.1 kHz and above). With only the
    high band, nothing below 19.5 kHz changes. The clip must be at least 2 s long.
    ``strength_db``: high-band level relative to the music's short-term RMS;
    ``robust_strength_db``: depth of the robust layer relative to the local spectrum.
    """
    sr = check_int_rate(sample_rate)
    chosen = resolve_layers(layers, sr)
    if "high" in chosen:
        check_rate(sr)
    x2, info = check_samples(samples)
    payload = check_payload(payload)
    strength = check_strength(strength_db)
    rstrength = check_robust_strength(robust_strength_db)
    key = check_key(key)
    n = x2.shape[0]
    if n < PERIOD_S * sr:
        raise WatermarkError(f"clip too short to carry the payload: {n / sr:.2f} s < {PERIOD_S} s")
    mark = np.zeros(n, dtype=np.float32)
    peak = channel_peak(x2, info)
    hop = sr // 50
    if "robust" in chosen:
        r = robust_mark(mono_mix(x2), sr, key, payload, strength_db=rstrength)
        mark += r * headroom_scale(peak, r, info.full_scale, hop)
    if "high" in chosen:
        unit, upeak = unit_mark(key, payload, sr)
        hop = hop_size(sr)
        ms, hpeak = hop_stats(x2, info, hop)
        if "robust" in chosen:  # leave the robust mark its headroom
            nh = hpeak.size
            rp = np.pad(np.abs(mark), (0, nh * hop - n)).reshape(nh, hop).max(axis=1)
            hpeak = hpeak + rp
        gains = hop_gains(ms, hpeak, info.full_scale, upeak, strength)
        mark += mark_segment(unit, gains, hop, 0, n)
    out = add_mark(x2, info, mark)
    return out[:, 0] if info.mono_1d else out


def run_layers(
    chosen: tuple[str, ...],
    high_bb: np.ndarray | None,
    robust_spec: np.ndarray | None,
    duration: float,
    key: WatermarkKey,
    threshold: float,
    max_speed_dev: float,
    robust_phases: int = PHASES,
) -> Detection:
    """Detection from each layer's stored analysis (baseband, spectrogram), then combined.

    ``robust_phases``: frames per hop of ``robust_spec`` (:attr:`Analyzer.phases`)."""
    results: list[LayerResult] = []
    if "high" in chosen and high_bb is not None:
        results.append(detect_high_baseband(high_bb, duration, key, threshold, consume=True))
    if "robust" in chosen and robust_spec is not None:
        results.append(
            detect_robust(robust_spec, duration, key, threshold, max_speed_dev, robust_phases)
        )
    return combine(results, threshold)


def detect(
    samples: np.ndarray,
    sample_rate: int,
    key: WatermarkKey,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    layers: Iterable[str] | str | None = None,
    max_speed_dev: float = DEFAULT_MAX_SPEED_DEV,
) -> Detection:
    """Look for the mark of ``key`` in ``samples`` (any start offset, any length).

    Channels are averaged. ``layers`` as for :func:`embed`. ``max_speed_dev``: the robust
    layer searches playback speeds within ±this (0 = offsets only). Returns a
    :class:`Detection`: the combined result plus ``layers`` (per-layer results).
    """
    sr = check_int_rate(sample_rate)
    chosen = resolve_layers(layers, sr, detecting=True)
    if "high" in chosen:
        check_rate(sr)
    x2, _ = check_samples(samples)
    key = check_key(key)
    threshold = check_threshold(threshold)
    dev = check_speed_dev(max_speed_dev)
    dem = Demodulator(sr) if "high" in chosen else None
    ana = Analyzer(sr) if "robust" in chosen else None
    step = 10 * sr
    for a in range(0, x2.shape[0], step):
        m = mono_mix(x2[a : a + step])
        if dem is not None:
            dem.feed(m)
        if ana is not None:
            ana.feed(m)
    return run_layers(
        chosen,
        dem.finish() if dem is not None else None,
        ana.finish() if ana is not None else None,
        x2.shape[0] / sr,
        key,
        threshold,
        dev,
        ana.phases if ana is not None else PHASES,
    )
