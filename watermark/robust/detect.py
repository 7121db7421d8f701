"""The robust layer's detector: speed and offset search, soft decoding, a calibrated p-value.

Search (:func:`search`) runs on the stored 16 kHz spectrogram (:class:`~watermark.robust.spectrum.
Analyzer`), coarse to fine:

1. **coarse**: on the first ``COARSE_S`` seconds, every speed from ``1 − max_speed_dev`` to
   ``1 + max_speed_dev`` in steps short enough that the frame stays aligned over that prefix
   (≤ 0.25 %), with ``1.0`` always on the grid. For each speed and each of the ``PHASES``
   sub-hop phases (where the mark's hop grid starts between two 16 ms hops of the recording:
   a crop or a codec's priming samples put it anywhere) the folded features are correlated
   with the sync pattern at all 160 offsets (one small FFT per band).
2. **fine** (files longer than the prefix): around the three best coarse speeds, zoom by 4 on the
   whole file until a step moves the last frame by less than half a cell.

Each correlation value is divided by its exact standard deviation over random ±1 sync chips
given the audio (the root of the sum of the squared cell features it adds up), so the level of
the host, the codec and the length do not matter and degenerate audio (a steady tone, silence)
cannot fake a peak; Hoeffding's inequality bounds one shift's tail by ``exp(-z²/2)``. The eight
best (speed, phase, offset) candidates are soft-decoded with the K=7 Viterbi decoder and checked
with CRC-32.

**p-value.** ``p_sync = min(1, N · exp(-z_best²/2))`` with ``N`` = offsets × phases × speeds
tried (Bonferroni: conservative). A candidate whose payload passes its CRC-32 gives
``p_sync(c) · K · 2^-32``; as for the high band the reported value is ``S + min(S, K·2^-32)``
with ``S`` the smaller of the two, which bounds the probability that unmarked audio, or audio
marked with another key, scores as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from watermark.frame import CODED_BITS, decode_payloads
from watermark.key import WatermarkKey
from watermark.robust.features import fold, window_scores
from watermark.robust.grid import (
    BANDS,
    CELLS_T,
    HOP,
    HOPS_PER_CELL,
    PERIOD_HOPS,
    PHASES,
    RATE,
    cell_signs,
    robust_layout,
)

COARSE_S = 20.0
MAX_STEP = 0.0025
CANDIDATES = 8
_FINE_SPEEDS = 3
_CRC_FALSE_PASS = 2.0**-32
_WINDOW_Z = 3.0
SEGMENT_S = 1.0


@dataclass(frozen=True)
class RobustResult:
    """What the robust layer found: p-value, payload (CRC-checked) or None, speed, segments."""

    p_value: float
    payload: bytes | None
    speed: float
    segments: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class _Cand:
    z: float
    speed: float
    phase: int
    shift: int
    folded: np.ndarray


def _sync_template(key: WatermarkKey) -> np.ndarray:
    """Sync chips at the first hop of each sync cell (zero elsewhere), (PERIOD_HOPS, BANDS)."""
    lay = robust_layout(key)
    cells = np.where(lay.sync, lay.chips, 0.0).reshape(CELLS_T, BANDS)
    out = np.zeros((PERIOD_HOPS, BANDS))
    out[::HOPS_PER_CELL] = cells
    return out


def _scores(folded: np.ndarray, tmpl_f: np.ndarray, ind_f: np.ndarray) -> np.ndarray:
    """z-score of the sync correlation at every circular shift.

    With ``G`` the folded features summed over each cell's 4 hops, the correlation at shift σ is
    ``c = Σ chip · G`` over the sync cells and its variance over random ±1 chips is ``Σ G²``
    (exact for the given audio, whatever it is: a tone, silence, music). Hoeffding's inequality
    then bounds ``P(c / sqrt(Σ G²) >= z) <= exp(-z²/2)`` for audio that does not carry these chips.
    """
    g = sum(np.roll(folded, -i, axis=0) for i in range(HOPS_PER_CELL))
    c = np.fft.irfft((np.fft.rfft(g, axis=0) * np.conj(tmpl_f)).sum(axis=1), n=PERIOD_HOPS)
    v = np.fft.irfft((np.fft.rfft(g * g, axis=0) * np.conj(ind_f)).sum(axis=1), n=PERIOD_HOPS)
    return np.where(v > 1e-9, c / np.sqrt(np.maximum(v, 1e-9)), 0.0)


def _evaluate(
    spec: np.ndarray,
    speed: float,
    rows: int,
    tmpl_f: tuple[np.ndarray, np.ndarray],
    phases: int,
    phase_list: Sequence[int],
) -> list[_Cand]:
    """The two best offsets (at least a cell apart) for each sub-hop phase of ``phase_list``."""
    out = []
    for phase in phase_list:
        folded = fold(spec, speed, phase, rows, phases)
        z = _scores(folded, *tmpl_f)
        zz = z.copy()
        for _ in range(2):
            s = int(np.argmax(zz))
            out.append(_Cand(float(z[s]), speed, phase, s, folded))
            zz[(s + np.arange(-HOPS_PER_CELL, HOPS_PER_CELL + 1)) % PERIOD_HOPS] = -np.inf
    return out


def _grid(centre: float, half: float, step: float) -> list[float]:
    k = round(half / step)
    return [round(centre + i * step, 7) for i in range(-k, k + 1)]


def search(
    spec: np.ndarray, key: WatermarkKey, max_speed_dev: float, phases: int = PHASES
) -> tuple[list[_Cand], int]:
    """Candidates (best first) and the number of (speed, phase, offset) triples tried."""
    tmpl = _sync_template(key)
    tmpl_f = (np.fft.rfft(tmpl, axis=0), np.fft.rfft(tmpl * tmpl, axis=0))
    n = spec.shape[0]
    hops_s = RATE / HOP * phases  # stored frames per second
    cell_s = HOPS_PER_CELL * HOP / RATE
    pool: list[_Cand] = []
    every = range(phases)
    tried = 0  # (speed, phase) evaluations, each over all PERIOD_HOPS offsets
    if max_speed_dev <= 0:
        pool += _evaluate(spec, 1.0, n, tmpl_f, phases, every)
        return sorted(pool, key=lambda c: -c.z), PERIOD_HOPS * phases
    coarse_hops = min(n, int(COARSE_S * hops_s))
    step = min(MAX_STEP, 0.5 * cell_s / max(coarse_hops / hops_s, 1.0))
    coarse: list[_Cand] = []
    for sp in _grid(1.0, max_speed_dev, step):
        coarse += _evaluate(spec, sp, coarse_hops, tmpl_f, phases, every)
        tried += phases
    if coarse_hops >= n:
        pool = coarse
    else:
        target = 0.5 * cell_s / (n / hops_s)
        ranked = sorted(coarse, key=lambda c: -c.z)
        # the phase (where the grid starts) does not depend on the speed: the fine stage keeps
        # the phase of its seed, a quarter of the coarse stage's cost per speed
        seeds = list({c.speed: c.phase for c in reversed(ranked)}.items())
        seeds = sorted(seeds, key=lambda sp: -max(c.z for c in ranked if c.speed == sp[0]))
        seen: set[tuple[float, int]] = set()
        for sp0, ph in seeds[:_FINE_SPEEDS]:
            centre, half = sp0, step
            while half / 4 >= target / 4:
                speeds = [sp for sp in _grid(centre, half, half / 4) if (sp, ph) not in seen]
                seen.update((sp, ph) for sp in speeds)
                fine = [c for sp in speeds for c in _evaluate(spec, sp, n, tmpl_f, phases, [ph])]
                tried += len(speeds)
                pool += fine
                if not fine:
                    break
                centre = max(fine, key=lambda c: c.z).speed
                half /= 4
                if half < target:
                    break
    return sorted(pool, key=lambda c: -c.z), tried * PERIOD_HOPS


def _soft(key: WatermarkKey, cand: _Cand) -> np.ndarray:
    """Soft value of every coded bit (positive = bit 0) from a candidate's folded features."""
    lay = robust_layout(key)
    data = ~lay.sync
    rolled = np.roll(cand.folded, -cand.shift, axis=0)
    cells = rolled.reshape(CELLS_T, HOPS_PER_CELL, BANDS).sum(axis=1).ravel()
    v = cells[data] * lay.chips[data]
    return np.bincount(lay.data_bit[data], weights=v, minlength=CODED_BITS)


def soft_bits(spec: np.ndarray, key: WatermarkKey, cand: _Cand) -> np.ndarray:
    """The soft coded bits of ``spec`` read at ``cand``'s alignment (diagnostics)."""
    folded = fold(spec, cand.speed, cand.phase, None, PHASES)
    return _soft(key, _Cand(cand.z, cand.speed, cand.phase, cand.shift, folded))


def _decode(key: WatermarkKey, cands: list[_Cand]) -> list[bytes | None]:
    soft = np.zeros((len(cands), CODED_BITS))
    for i, c in enumerate(cands):
        soft[i] = _soft(key, c)
    return decode_payloads(soft)


def _log_sf(z: float) -> float:
    """log of the Hoeffding bound exp(-z²/2) on one shift's tail (see :func:`_scores`)."""
    return -0.5 * z * z if z > 0 else 0.0


def _segments(
    spec: np.ndarray,
    key: WatermarkKey,
    cand: _Cand,
    payload: bytes | None,
    duration: float,
    phases: int,
) -> list[tuple[float, float]]:
    if payload is not None:
        cells = cell_signs(key, payload)
    else:
        lay = robust_layout(key)
        cells = np.where(lay.sync, lay.chips, 0.0).reshape(CELLS_T, BANDS)
    ref = np.repeat(cells, HOPS_PER_CELL, axis=0)
    rows_s = RATE / HOP * phases
    for win_s in (SEGMENT_S, 4.0):
        win = round(win_s * rows_s)
        z = window_scores(spec, cand.speed, cand.phase, cand.shift, ref, win, phases)
        z /= math.sqrt(2.0)
        mask = z >= _WINDOW_Z
        if mask.size > 2:
            mask[1:-1] |= ~mask[1:-1] & mask[:-2] & mask[2:]
        idx = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
        runs = list(zip(idx[::2].tolist(), idx[1::2].tolist(), strict=True))
        if runs:
            return [(a * win / rows_s, min(b * win / rows_s, duration)) for a, b in runs]
    return [(0.0, duration)]


def detect_spectrogram(
    spec: np.ndarray,
    duration: float,
    key: WatermarkKey,
    threshold: float,
    *,
    max_speed_dev: float = 0.05,
    phases: int = PHASES,
) -> RobustResult:
    """Detection from the stored spectrogram of a whole track (see module docstring)."""
    if spec.shape[0] < PERIOD_HOPS * phases // 2:
        return RobustResult(1.0, None, 1.0, [])
    cands, tried = search(spec, key, max_speed_dev, phases)
    cands = cands[:CANDIDATES]
    payloads = _decode(key, cands)
    log_n = math.log(tried)
    crc_factor = len(cands) * _CRC_FALSE_PASS
    best = cands[0]
    log_s = min(0.0, log_n + _log_sf(best.z))
    chosen, payload = best, None
    for c, pay in zip(cands, payloads, strict=True):
        if pay is None:
            continue
        lp = min(0.0, log_n + _log_sf(c.z)) + math.log(crc_factor)
        if payload is None or lp < log_s:
            chosen, payload = c, pay
            log_s = min(log_s, lp)
    s_val = math.exp(log_s)
    p_value = min(1.0, s_val + min(s_val, crc_factor))
    if p_value > threshold:
        return RobustResult(p_value, None, 1.0, [])
    segs = _segments(spec, key, chosen, payload, duration, phases)
    return RobustResult(p_value, payload, chosen.speed, segs)
