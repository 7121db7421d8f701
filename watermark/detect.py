"""The high-band detector: fold the baseband over the frame period, find sync, soft-decode, localise."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from watermark.demod import BB_RATE
from watermark.frame import (
    CHIP_RATE,
    CHIPS,
    CODED_BITS,
    PERIOD_S,
    decode_payloads,
    frame_chips,
    frame_layout,
)
from watermark.key import WatermarkKey
from watermark.layers import DEFAULT_THRESHOLD, LayerResult

OS = BB_RATE // CHIP_RATE  # baseband samples per chip (4)
FOLD = PERIOD_S * BB_RATE  # baseband samples per frame (4800)
SEGMENT_S = 0.5
_NORM_BLOCK = 120  # 50 ms
_CLIP = 3.0
_CANDIDATES = 6
_CRC_FALSE_PASS = 2.0**-32
_WINDOW_Z = 3.0
_ISOLATED_Z = 4.5
_SILENT = 1e-18  # power (normalized units) below which the baseband counts as silence


def normalize(bb: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Divide the baseband by its local RMS (50 ms blocks, smoothed) and limit outliers.

    Works in chunks; with ``copy=False`` the complex64 input is normalized in place.
    """
    y = np.array(bb, dtype=np.complex64) if copy else np.asarray(bb, dtype=np.complex64)
    n = y.size
    nb = -(-n // _NORM_BLOCK)
    chunk = _NORM_BLOCK * 8192
    pw = np.empty(nb, dtype=np.float64)
    for a in range(0, n, chunk):
        seg = y[a : a + chunk]
        full = seg.size // _NORM_BLOCK
        b0 = a // _NORM_BLOCK
        if full:
            v = seg[: full * _NORM_BLOCK].view(np.float32).reshape(full, 2 * _NORM_BLOCK)
            pw[b0 : b0 + full] = np.einsum("ij,ij->i", v, v, dtype=np.float64) / _NORM_BLOCK
        if seg.size > full * _NORM_BLOCK:
            rest = seg[full * _NORM_BLOCK :]
            pw[b0 + full] = float(np.mean(np.abs(rest.astype(np.complex128)) ** 2))
    pw = uniform_filter1d(pw, size=5, mode="nearest")
    scale = np.where(pw > _SILENT, 1.0 / np.sqrt(np.maximum(pw, _SILENT)), 0.0).astype(np.float32)
    for a in range(0, n, chunk):
        seg = y[a : a + chunk]
        b0 = a // _NORM_BLOCK
        seg *= np.repeat(scale[b0 : b0 + -(-seg.size // _NORM_BLOCK)], _NORM_BLOCK)[: seg.size]
        mag = np.abs(seg)
        over = mag > _CLIP
        seg[over] *= _CLIP / mag[over]
    return y


def _fold(y: np.ndarray) -> np.ndarray:
    """Sum of the baseband over frame periods (complex128, length ``FOLD``), without copying."""
    full = y.size // FOLD
    out = np.zeros(FOLD, dtype=np.complex128)
    if full:
        out += y[: full * FOLD].reshape(full, FOLD).sum(axis=0, dtype=np.complex128)
    tail = y[full * FOLD :]
    out[: tail.size] += tail
    return out


def _log_p_shifts(t: float) -> float:
    """log P(max over all ``FOLD`` shifts of an Exp(1) sync statistic >= ``t``).

    Computed as if the shifts were independent, which over-counts (neighbouring shifts are
    correlated), so the p-value is conservative.
    """
    if t <= 0.0:
        return 0.0
    tail = math.exp(-t)
    if tail * FOLD < 1e-3:
        return math.log(FOLD) - t
    return math.log(-math.expm1(FOLD * math.log1p(-tail)))


@dataclass(frozen=True)
class _Candidate:
    shift: int
    stat: float
    phase: float


def _sync_search(folded: np.ndarray, key: WatermarkKey) -> tuple[np.ndarray, list[_Candidate]]:
    lay = frame_layout(key)
    tmpl = np.zeros(FOLD, dtype=np.complex128)
    tmpl[OS * lay.sync_pos] = lay.pn[lay.sync_pos]
    ind = (tmpl != 0).astype(np.float64)
    c = np.fft.ifft(np.fft.fft(folded) * np.conj(np.fft.fft(tmpl)))
    e = np.fft.ifft(np.fft.fft(np.abs(folded) ** 2) * np.conj(np.fft.fft(ind))).real
    stat = np.where(e > 1e-12, np.abs(c) ** 2 / np.maximum(e, 1e-12), 0.0)
    order = np.argsort(stat)[::-1]
    cands: list[_Candidate] = []
    taken = np.zeros(FOLD, dtype=bool)
    for s in order:
        if taken[s]:
            continue
        cands.append(_Candidate(int(s), float(stat[s]), float(np.angle(c[s]))))
        taken[(s + np.arange(-OS, OS + 1)) % FOLD] = True
        if len(cands) == _CANDIDATES:
            break
    return stat, cands


def _decode(folded: np.ndarray, key: WatermarkKey, cands: list[_Candidate]) -> list[bytes | None]:
    lay = frame_layout(key)
    soft = np.zeros((len(cands), CODED_BITS))
    for i, cand in enumerate(cands):
        z = folded[(cand.shift + OS * lay.data_pos) % FOLD]
        d = (z * np.conj(lay.pn[lay.data_pos]) * np.exp(-1j * cand.phase)).real
        soft[i] = np.bincount(lay.data_bit, weights=d, minlength=soft.shape[1])
    return decode_payloads(soft)


def _window_z(y: np.ndarray, ref: np.ndarray, shift: int, phase: float, win: int) -> np.ndarray:
    """Per-window z-score of the normalized baseband ``y`` against the expected chips.

    Works through the baseband in chunks of whole windows to bound memory on long files.
    """
    n = y.size
    nw = -(-n // win)
    s_num = np.zeros(nw)
    s_den = np.zeros(nw)
    rot = np.exp(-1j * phase)
    chunk = win * max(1, (1 << 20) // win)
    for a in range(0, n, chunk):
        first = a + (shift - a) % OS
        idx = np.arange(first, min(a + chunk, n), OS)
        k = ((idx - shift) % FOLD) // OS
        r = ref[k]
        yy = y[idx]
        num = (yy * np.conj(r) * rot).real
        den = (np.abs(yy) ** 2) * (np.abs(r) ** 2) / 2.0
        w_of = idx // win
        s_num += np.bincount(w_of, weights=num, minlength=nw)
        s_den += np.bincount(w_of, weights=den, minlength=nw)
    return np.where(s_den > 0, s_num / np.sqrt(np.maximum(s_den, 1e-30)), 0.0)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _segments(
    y: np.ndarray, ref: np.ndarray, cand: _Candidate, duration: float
) -> list[tuple[float, float]]:
    for win_s in (SEGMENT_S, 2.0):
        win = int(win_s * BB_RATE)
        z = _window_z(y, ref, cand.shift, cand.phase, win)
        mask = z >= _WINDOW_Z
        # fill one-window gaps inside a marked run, drop weak isolated windows
        gap = ~mask[1:-1] & mask[:-2] & mask[2:]
        mask[1:-1] |= gap
        for a, b in _runs(mask):
            if b - a == 1 and z[a] < _ISOLATED_Z:
                mask[a] = False
        runs = _runs(mask)
        if runs:
            return [(a * win_s, min(b * win_s, duration)) for a, b in runs]
    return [(0.0, duration)]


def detect_baseband(
    bb: np.ndarray,
    duration: float,
    key: WatermarkKey,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    consume: bool = False,
) -> LayerResult:
    """The high band's result from the 2400 Hz complex baseband of a whole track (see :mod:`watermark.demod`).

    With ``consume=True`` the (complex64) baseband is normalized in place to save memory.
    """
    if bb.size < OS * 8:
        return LayerResult("high", False, None, 1.0, [])
    y = normalize(bb, copy=not consume)
    folded = _fold(y)
    _, cands = _sync_search(folded, key)
    if not cands:
        return LayerResult("high", False, None, 1.0, [])
    best = cands[0]
    payloads = _decode(folded, key, cands)
    # Statistic S: the sync p-value of the best shift, or K * 2^-32 times the sync p-value of a
    # candidate whose decoded payload passed its CRC-32 (CRC and sync use disjoint chips, so a
    # false CRC pass is independent of the sync statistic). Under no mark, P(S <= x) <= x +
    # min(x, K * 2^-32), which is the p-value reported.
    crc_factor = len(cands) * _CRC_FALSE_PASS
    log_s = _log_p_shifts(best.stat)
    chosen = best
    payload: bytes | None = None
    for cand, pay in zip(cands, payloads, strict=True):
        if pay is None:
            continue
        lp = _log_p_shifts(cand.stat) + math.log(crc_factor)
        if payload is None or lp < log_s:
            chosen, payload = cand, pay
            log_s = min(log_s, lp)
    s_val = math.exp(log_s)
    p_value = min(1.0, s_val + min(s_val, crc_factor))
    found = p_value <= threshold
    if not found:
        return LayerResult("high", False, None, p_value, [])
    lay = frame_layout(key)
    if payload is not None:
        ref = frame_chips(key, payload)
    else:
        ref = np.zeros(CHIPS, dtype=np.complex128)
        ref[lay.sync_pos] = lay.pn[lay.sync_pos]
    return LayerResult("high", True, payload, p_value, _segments(y, ref, chosen, duration))


def mono_mix(x2: np.ndarray) -> np.ndarray:
    """The channel average of (frames, channels) PCM as float32 in full-scale units."""
    scale = float(2 ** (8 * x2.dtype.itemsize - 1)) if x2.dtype.kind == "i" else 1.0
    # column by column: a reduction along axis 1 of (frames, 2) strides badly (about 20 times
    # slower on a minute of stereo); the sum is the same, channel after channel
    m = x2[:, 0].astype(np.float32)
    for c in range(1, x2.shape[1]):
        m += x2[:, c]
    return m * np.float32(1.0 / (scale * x2.shape[1]))
