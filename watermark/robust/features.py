"""Band features at a candidate playback speed, folded over the frame period.

Detection never resamples the audio to try a speed. A speed change by ``s`` (resampling type:
faster playback, higher pitch) maps original frequency ``f`` to ``f·s`` and original time ``t``
to ``t/s``. So for each candidate ``s`` the stored 16 kHz magnitude spectrogram is

1. re-gridded onto the layer's 144 bins with their edges scaled by ``s`` (a 158 × 144 matrix of
   fractional bin weights, one matrix product),
2. turned into log energies; the mean of the 5 neighbouring bins is removed from each (what the
   whole frame does: onsets, decays, level), then the mean over 9 hops (what a note does), and
   outliers are clipped, so that mostly the fine ± pattern of the cells is left,
3. **folded**: observed hop ``h`` is original hop ``h·s``, added into phase ``round(h·s) mod 160``.
   All repetitions of the 2.56 s frame add up coherently whatever the start offset.

One candidate costs a matrix product over the spectrogram (about 20 ms per minute of audio), so
a search over ±5 % in 0.25 % steps costs less than decoding the audio once. The same pass can
score windows against a known frame (for the segments of a found mark).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import uniform_filter1d

from watermark.robust.grid import BANDS, BIN_HI, BIN_HZ, BIN_LO, PERIOD_HOPS, band_edges_hz

NORM_HOPS, NORM_BANDS = 9, 5  # local-mean window
CLIP = 1.5  # natural-log units (about 6.5 dB)
FLOOR = 1e-7  # band energy (stored units: about -150 dB re a full-scale bin) = silence
_CHUNK = 8192  # hops per chunk (bounded memory on long files)
_MARGIN = NORM_HOPS  # hops of context each side of a chunk


@lru_cache(maxsize=256)
def pool_matrix(speed: float) -> np.ndarray:
    """(BIN_HI - BIN_LO, BANDS) weights: the part of each rfft bin inside each band at ``speed``."""
    edges = band_edges_hz() * speed
    centre = (np.arange(BIN_LO, BIN_HI) * BIN_HZ)[:, None]
    lo = np.maximum(centre - BIN_HZ / 2, edges[None, :-1])
    hi = np.minimum(centre + BIN_HZ / 2, edges[None, 1:])
    w = (np.maximum(hi - lo, 0.0) / BIN_HZ).astype(np.float32)
    w.setflags(write=False)
    return w


def _features(mag: np.ndarray, speed: float) -> np.ndarray:
    """Normalized log band energies (hops, BANDS), float32, for a chunk of stored magnitudes."""
    p = mag.astype(np.float32)
    np.square(p, out=p)
    e = p @ pool_matrix(speed)
    silent = e < FLOOR
    lg = np.log(np.maximum(e, FLOOR))
    lt = lg - uniform_filter1d(lg, NORM_BANDS, axis=1, mode="nearest")
    lt -= uniform_filter1d(lt, NORM_HOPS, axis=0, mode="nearest")
    np.clip(lt, -CLIP, CLIP, out=lt)
    lt[silent] = 0.0
    return lt


def _chunks(n: int) -> list[tuple[int, int, int, int]]:
    """(a, b, lo, hi): core [a, b) computed from context [lo, hi)."""
    out = []
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        out.append((a, b, max(0, a - _MARGIN), min(n, b + _MARGIN)))
    return out


def fold(spec: np.ndarray, speed: float, hops: int | None = None) -> np.ndarray:
    """Features of the first ``hops`` frames of ``spec`` at ``speed``, folded: (PERIOD_HOPS, BANDS)."""
    n = spec.shape[0] if hops is None else min(hops, spec.shape[0])
    out = np.zeros(PERIOD_HOPS * BANDS, dtype=np.float64)
    for a, b, lo, hi in _chunks(n):
        lt = _features(spec[lo:hi], speed)[a - lo : b - lo]
        phase = np.rint(np.arange(a, b) * speed).astype(np.int64) % PERIOD_HOPS
        idx = (phase[:, None] * BANDS + np.arange(BANDS)[None, :]).ravel()
        out += np.bincount(idx, weights=lt.ravel(), minlength=PERIOD_HOPS * BANDS)
    return out.reshape(PERIOD_HOPS, BANDS)


def window_scores(
    spec: np.ndarray, speed: float, shift: int, ref: np.ndarray, win_hops: int
) -> np.ndarray:
    """Per-window z-score of the features against the expected hop pattern ``ref``.

    ``ref`` is (PERIOD_HOPS, BANDS) in frame phase; observed hop ``h`` is compared with phase
    ``(round(h·speed) - shift) mod PERIOD_HOPS``. Windows are ``win_hops`` observed hops long.
    """
    n = spec.shape[0]
    nw = -(-n // win_hops)
    num = np.zeros(nw)
    den = np.zeros(nw)
    for a, b, lo, hi in _chunks(n):
        lt = _features(spec[lo:hi], speed)[a - lo : b - lo]
        phase = (np.rint(np.arange(a, b) * speed).astype(np.int64) - shift) % PERIOD_HOPS
        r = ref[phase]
        w_of = np.arange(a, b) // win_hops
        num += np.bincount(w_of, weights=np.einsum("ij,ij->i", lt, r), minlength=nw)
        den += np.bincount(w_of, weights=np.einsum("ij,ij->i", lt * lt, r * r), minlength=nw)
    return np.where(den > 0, num / np.sqrt(np.maximum(den, 1e-30)), 0.0)
