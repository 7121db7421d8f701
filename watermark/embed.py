"""The high-band embedder: a keyed, periodic spread-spectrum frame in 20.1–20.7 kHz, level-adapted."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from watermark.errors import WatermarkError
from watermark.frame import CARRIER_HZ, CHIP_RATE, CHIPS, PERIOD_S, check_payload, frame_chips
from watermark.key import WatermarkKey
from watermark.pcm import PcmInfo, check_rate

#: Default mark level relative to the host's short-term RMS, in dB.
DEFAULT_STRENGTH_DB = -26.0
#: Lowest mark level (RMS, dB full scale), used in silence and very quiet passages.
FLOOR_DBFS = -80.0
#: Highest mark level (RMS, dB full scale).
CEILING_DBFS = -20.0
#: Gain hop: 20 ms.
HOPS_PER_SECOND = 50
_HEADROOM_MARGIN = 0.97
# The gain of a sample in hop h is a convex combination of the hop gains h-1 .. h+2 (cubic
# B-spline), so a minimum filter of radius 2 keeps it within hop h's headroom.
_MIN_RADIUS = 2


@lru_cache(maxsize=8)
def _unit_mark_cached(secret: bytes, payload: bytes, sample_rate: int) -> tuple[np.ndarray, float]:
    chips = frame_chips(WatermarkKey(secret), payload)
    spec_bb = np.fft.fft(chips)
    n = PERIOD_S * sample_rate
    spec = np.zeros(n // 2 + 1, dtype=np.complex128)
    j = np.arange(-(CHIPS // 2), CHIPS // 2)
    spec[CARRIER_HZ * PERIOD_S + j] = spec_bb[j % CHIPS]
    m = np.fft.irfft(spec, n=n)
    m /= np.sqrt(np.mean(m**2))
    m32 = m.astype(np.float32)
    m32.setflags(write=False)
    return m32, float(np.abs(m).max())


def unit_mark(key: WatermarkKey, payload: bytes, sample_rate: int) -> tuple[np.ndarray, float]:
    """One period of the mark at unit RMS, and its peak magnitude."""
    assert CHIP_RATE * PERIOD_S == CHIPS
    return _unit_mark_cached(key.secret, check_payload(payload), check_rate(sample_rate))


def hop_size(sample_rate: int) -> int:
    """Samples per gain hop (20 ms)."""
    return sample_rate // HOPS_PER_SECOND


def hop_stats(x2: np.ndarray, info: PcmInfo, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-hop mean square (all channels) and peak magnitude, in normalized units.

    ``x2`` must start at a hop boundary; a partial last hop is included.
    """
    n, c = x2.shape
    nh = -(-n // hop)
    full = n // hop
    ms = np.empty(nh, dtype=np.float64)
    peak = np.empty(nh, dtype=np.float64)
    scale = info.int_scale if info.is_int else 1.0
    if full:
        blk = x2[: full * hop].reshape(full, hop * c)
        f = blk.astype(np.float32) if info.is_int else blk
        ms[:full] = np.einsum("ij,ij->i", f, f, dtype=np.float64) / (hop * c)
        peak[:full] = np.maximum(
            blk.max(axis=1).astype(np.float64), -blk.min(axis=1).astype(np.float64)
        )
    if nh > full:
        tail = x2[full * hop :].astype(np.float64)
        ms[full] = float(np.mean(tail**2))
        peak[full] = float(np.abs(tail).max())
    return ms / scale**2, peak / scale


def hop_gains(
    ms: np.ndarray,
    peak: np.ndarray,
    full_scale: float,
    mark_peak: float,
    strength_db: float = DEFAULT_STRENGTH_DB,
) -> np.ndarray:
    """Mark amplitude per hop: host level minus ``strength_db``, within floor/ceiling, and never
    more than the headroom left by the host's peak (so the sum cannot exceed full scale)."""
    rms = np.sqrt(np.maximum(uniform_filter1d(ms, size=5, mode="nearest"), 0.0))
    target = np.clip(
        rms * 10 ** (strength_db / 20), 10 ** (FLOOR_DBFS / 20), 10 ** (CEILING_DBFS / 20)
    )
    limit = np.maximum(full_scale - peak, 0.0) * (_HEADROOM_MARGIN / mark_peak)
    return np.minimum(target, minimum_filter1d(limit, size=2 * _MIN_RADIUS + 1, mode="nearest"))


@lru_cache(maxsize=8)
def _bspline_basis(hop: int) -> np.ndarray:
    """Uniform cubic B-spline basis over one hop, shape (4, hop), columns sum to 1."""
    t = np.arange(hop, dtype=np.float64) / hop
    b = (
        np.stack(
            [
                (1 - t) ** 3,
                3 * t**3 - 6 * t**2 + 4,
                -3 * t**3 + 3 * t**2 + 3 * t + 1,
                t**3,
            ]
        )
        / 6.0
    )
    out = b.astype(np.float32)
    out.setflags(write=False)
    return out


def mark_segment(unit: np.ndarray, gains: np.ndarray, hop: int, start: int, n: int) -> np.ndarray:
    """The gain-shaped mark for samples ``[start, start + n)``; ``start`` is a hop boundary.

    The gain follows a cubic B-spline through the hop gains: smooth enough that the product
    with the band-limited mark stays > 140 dB below the mark outside 19.5-21.3 kHz.
    """
    assert start % hop == 0
    h0 = start // hop
    nh = -(-n // hop)
    g = np.pad(gains.astype(np.float32), (1, 2), mode="edge")[h0 : h0 + nh + 3]  # g[i]: hop h0+i-1
    if g.size < nh + 3:
        g = np.pad(g, (0, nh + 3 - g.size), mode="edge")
    coef = np.stack([g[:-3], g[1:-2], g[2:-1], g[3:]], axis=1)  # (nh, 4)
    env = (coef @ _bspline_basis(hop)).ravel()[:n]
    period = unit.size
    off = start % period
    reps = -(-(off + n) // period)
    tiled = np.tile(unit, reps)[off : off + n] if reps > 1 else unit[off : off + n]
    return tiled * env


def check_strength(strength_db: float) -> float:
    if not -60.0 <= strength_db <= -6.0:
        raise WatermarkError("strength_db must be between -60 and -6 dB")
    return float(strength_db)


def add_mark(
    x2: np.ndarray, info: PcmInfo, mark: np.ndarray, bits: int | None = None
) -> np.ndarray:
    """Add ``mark`` (normalized units) to every channel, in the input's dtype family.

    Integer PCM: the mark is rounded to the grid of ``bits``-bit PCM (default: the dtype's
    width; 24 for 24-bit audio carried in int32) and the sum is kept within range.
    """
    if info.is_int:
        width = 8 * info.dtype.itemsize
        bits = width if bits is None else bits
        lo, hi = np.iinfo(info.dtype).min, np.iinfo(info.dtype).max
        ftype = np.float32 if width == 16 else np.float64  # exact for these integers
        scaled: np.ndarray = mark.astype(ftype)
        q = np.rint(scaled * (2.0 ** (bits - 1))) * float(2 ** (width - bits))
        host: np.ndarray = x2.astype(ftype)
        out = host + q[:, None]
        return np.clip(out, lo, hi).astype(info.dtype)
    # channel by channel: a broadcast add over (frames, channels) costs about 1.5 times more
    m = mark.astype(x2.dtype, copy=False)
    res = np.empty(x2.shape, dtype=x2.dtype)
    for c in range(x2.shape[1]):
        np.add(x2[:, c], m, out=res[:, c])
    return res.astype(info.dtype, copy=False)
