"""Band features at a candidate playback speed, folded over the frame period.

Detection never resamples the audio to try a speed. A speed change by ``s`` (resampling type:
faster playback, higher pitch) maps original frequency ``f`` to ``f·s`` and original time ``t``
to ``t/s``. So for each candidate ``s`` the stored 16 kHz magnitude spectrogram is

0. read on the mark's own hop grid: for every hop ``m`` of the mark, the stored frame (four per
   hop) whose centre is closest to where that hop lies in the recording (:func:`grid_rows`), so
   neither a start offset by part of a hop nor the drift of a speed change blurs the cells,
1. re-gridded onto the layer's 144 bins with their edges scaled by ``s`` (fractional bin
   weights, at most three bins per band),
2. turned into log energies with a **relative floor**: ``REL_FLOOR`` times the mean energy of the
   5 neighbouring bins is added before the log, so a bin far below its neighbours (a valley
   between harmonics, which a 64 kbit/s codec quantizes to noise or to nothing) moves the
   feature little either way. Then the mean of the 5 neighbouring bins is removed from each
   (what the whole frame does: onsets, decays, level), then the mean over 9 hops (what a note
   does), and outliers are clipped, so that mostly the fine ± pattern of the cells is left,
3. **folded**: hop ``m`` of the mark is added into phase ``m mod 160``. All repetitions of the
   2.56 s frame add up coherently whatever the start offset.

One candidate costs a few gathers over the spectrogram (about 20 ms per minute of audio), so
a search over ±5 % in 0.25 % steps and four phases costs about as much as decoding the audio. The same pass can
score windows against a known frame (for the segments of a found mark).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import uniform_filter1d

from watermark.robust.grid import (
    BANDS,
    BIN_HI,
    BIN_HZ,
    BIN_LO,
    PERIOD_HOPS,
    PHASES,
    band_edges_hz,
)

NORM_HOPS, NORM_BANDS = 9, 5  # local-mean window
CLIP = 1.5  # natural-log units (about 6.5 dB)
#: Relative floor (see above). Measured on 16 generated development clips (1–5.5 kHz band, music
#: SNR 29.1 dB without it, 28.7 dB with it): decoder SNR (mean / spread of the soft coded bits)
#: after MP3 64k 0.76 -> 0.90, Opus 32k 0.83 -> 0.90, AAC 96k 0.94 -> 0.97, Opus 64k 1.14 -> 1.25.
REL_FLOOR = 0.07
FLOOR = 1e-7  # band energy (stored units: about -150 dB re a full-scale bin) = silence
_CHUNK = 8192  # hops per chunk (bounded memory on long files)
_MARGIN = NORM_HOPS  # hops of context each side of a chunk
_TAPS = 3  # rfft bins a band can touch (a band is one bin wide times the speed, at most 1.06)


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


@lru_cache(maxsize=256)
def pool_taps(speed: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pool_matrix` as taps: each band reads at most ``_TAPS`` consecutive bins, from
    ``first[band]`` on with weights ``w[k, band]``. Three gathers instead of a 170 × 144 matrix
    product per frame (which is almost all zeros)."""
    w = pool_matrix(speed)
    first = np.argmax(w > 0, axis=0)
    first = np.minimum(first, w.shape[0] - _TAPS)
    taps = np.stack([w[first + k, np.arange(BANDS)] for k in range(_TAPS)])
    first.setflags(write=False)
    taps.setflags(write=False)
    return first, taps


@lru_cache(maxsize=256)
def _pool_plan(speed: float) -> tuple[int, int, np.ndarray, np.ndarray, bool]:
    """:func:`pool_taps` restricted to the stored columns it reads: ``(lo, hi, first - lo, taps,
    one_bin)``; ``one_bin`` when every band reads exactly one bin with weight 1, consecutively
    (the sum over taps is then that bin, bit for bit)."""
    first, taps = pool_taps(speed)
    lo = int(first.min())
    hi = int(first.max()) + _TAPS
    rel = first - lo
    one_bin = bool(np.all(taps[0] == 1.0) and not np.any(taps[1:]) and np.all(np.diff(rel) == 1))
    rel.setflags(write=False)
    return lo, hi, rel, taps, one_bin


def hop_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over ``size`` (odd) hops centred on each hop (edges repeated), axis 0, summed in a
    fixed order so that a hop's value depends only on its neighbours, not on where the array
    starts (a running sum carries rounding from the start: the file embedder, which works block
    by block, must measure exactly what the in-memory embedder measures)."""
    h = size // 2
    pad = np.concatenate([np.repeat(x[:1], h, axis=0), x, np.repeat(x[-1:], h, axis=0)])
    out = pad[: x.shape[0]].copy()
    for k in range(1, size):
        out += pad[k : k + x.shape[0]]
    out *= out.dtype.type(1.0 / size)
    return out


def band_features(mag: np.ndarray, speed: float, *, exact: bool = False) -> np.ndarray:
    """Normalized log band energies (hops, BANDS), float32, for a chunk of stored magnitudes.

    ``exact``: take the 9-hop mean with :func:`hop_mean` (bit-identical whatever block the hops
    came in; the embedder needs that) instead of a running sum (faster; the detector's search)."""
    lo, hi, first, taps, one_bin = _pool_plan(speed)
    p = mag[:, lo:hi].astype(np.float32)
    np.square(p, out=p)
    if one_bin:  # every band is exactly one bin (speed 1): the weighted sum is that bin
        e = p[:, first[0] : first[0] + BANDS].copy()
    else:
        e = p[:, first] * taps[0]
        for k in range(1, _TAPS):
            e += p[:, first + k] * taps[k]
    silent = e < FLOOR
    e += np.float32(REL_FLOOR) * uniform_filter1d(e, NORM_BANDS, axis=1, mode="nearest")
    lg = np.log(np.maximum(e, FLOOR))
    lt = lg - uniform_filter1d(lg, NORM_BANDS, axis=1, mode="nearest")
    if exact:
        lt -= hop_mean(lt, NORM_HOPS)
    else:
        lt -= uniform_filter1d(lt, NORM_HOPS, axis=0, mode="nearest")
    np.clip(lt, -CLIP, CLIP, out=lt)
    lt[silent] = 0.0
    return lt


def grid_rows(n_rows: int, speed: float, phase: int, phases: int = PHASES) -> np.ndarray:
    """For every hop ``m`` of the mark's grid that the recording covers, the stored frame
    (:class:`~watermark.robust.spectrum.Analyzer` rows are ``HOP / phases`` apart) whose centre is
    closest to it, when the grid starts ``phase / phases`` of a hop into the recording and the
    recording plays at ``speed``: row ``round((m · phases + phase) / speed)``."""
    m_max = int(np.floor((n_rows - 0.5) * speed - phase) // phases)
    m = np.arange(max(m_max + 1, 0))
    r = np.rint((m * phases + phase) / speed).astype(np.int64)
    return r[r < n_rows]


def _chunks(n: int) -> list[tuple[int, int, int, int]]:
    """(a, b, lo, hi): core [a, b) computed from context [lo, hi)."""
    out = []
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        out.append((a, b, max(0, a - _MARGIN), min(n, b + _MARGIN)))
    return out


def fold(
    spec: np.ndarray,
    speed: float,
    phase: int = 0,
    rows: int | None = None,
    phases: int = PHASES,
) -> np.ndarray:
    """Features of the first ``rows`` stored frames of ``spec``, read on the grid of ``speed``
    and ``phase`` (:func:`grid_rows`) and folded: (PERIOD_HOPS, BANDS)."""
    n = spec.shape[0] if rows is None else min(rows, spec.shape[0])
    sel = grid_rows(n, speed, phase, phases)
    out = np.zeros(PERIOD_HOPS * BANDS, dtype=np.float64)
    for a, b, lo, hi in _chunks(sel.size):
        lt = band_features(spec[sel[lo:hi]], speed)[a - lo : b - lo]
        hop_phase = np.arange(a, b) % PERIOD_HOPS
        idx = (hop_phase[:, None] * BANDS + np.arange(BANDS)[None, :]).ravel()
        out += np.bincount(idx, weights=lt.ravel(), minlength=PERIOD_HOPS * BANDS)
    return out.reshape(PERIOD_HOPS, BANDS)


def window_scores(
    spec: np.ndarray,
    speed: float,
    phase: int,
    shift: int,
    ref: np.ndarray,
    win_rows: int,
    phases: int = PHASES,
) -> np.ndarray:
    """Per-window z-score of the features against the expected hop pattern ``ref``.

    ``ref`` is (PERIOD_HOPS, BANDS) in frame phase; grid hop ``m`` (read as for :func:`fold`) is
    compared with phase ``(m - shift) mod PERIOD_HOPS``. Windows are ``win_rows`` stored frames
    long.
    """
    n = spec.shape[0]
    sel = grid_rows(n, speed, phase, phases)
    nw = -(-n // win_rows)
    num = np.zeros(nw)
    den = np.zeros(nw)
    for a, b, lo, hi in _chunks(sel.size):
        lt = band_features(spec[sel[lo:hi]], speed)[a - lo : b - lo]
        r = ref[(np.arange(a, b) - shift) % PERIOD_HOPS]
        w_of = sel[a:b] // win_rows
        num += np.bincount(w_of, weights=np.einsum("ij,ij->i", lt, r), minlength=nw)
        den += np.bincount(w_of, weights=np.einsum("ij,ij->i", lt * lt, r * r), minlength=nw)
    return np.where(den > 0, num / np.sqrt(np.maximum(den, 1e-30)), 0.0)
