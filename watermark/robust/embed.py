"""The robust layer's embedder: a keyed ± pattern of small level changes, shaped by masking.

For every 16 ms hop and every band the host's short-time spectrum is multiplied by
``exp(±a)``: the sign is the cell's chip (:mod:`watermark.robust.grid`), the depth ``a`` follows a
simple masking model, frame by frame::

    g = min(G_MAX·g0, g0 · sqrt(M / E))      a = ln(1 + g)

``E`` is the band's energy in this hop, ``M`` the same smoothed over ±2 bands and ±2 hops (the
masking spread of the neighbourhood), ``g0 = 10^(strength_db / 20)`` the documented knob
(default −20 dB: the mark is 20 dB below the local spectrum). The mark is thus a few tenths of
a dB of level change that moves with the music: silent where the host is silent, less in quiet
passages, relatively more in a band that sits in a loud neighbourhood (masked there) but never
more than ``G_MAX`` times the nominal depth. Only the difference ``X·(exp(±a) − 1)`` is
synthesized (16 kHz overlap-add), brought to the input rate and added to every channel, so a
mono downmix keeps it, and where the host would clip the mark is scaled down hop by hop.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter

from watermark.errors import WatermarkError
from watermark.key import WatermarkKey
from watermark.robust.grid import (
    BANDS,
    BIN_HI,
    BIN_HZ,
    BIN_LO,
    CELLS_T,
    HOP,
    HOPS_PER_CELL,
    RATE,
    band_edges_hz,
    cell_signs,
)
from watermark.robust.spectrum import align_unit, from_internal, istft, stft, to_internal

#: Default depth of the robust mark relative to the local spectrum, in dB.
DEFAULT_ROBUST_STRENGTH_DB = -20.0
G_MAX = 4.0  # at most 12 dB above the nominal depth in a masked band
_G_ABS = 0.5
_HEADROOM = 0.97


def check_robust_strength(strength_db: float) -> float:
    """Validate the robust layer's strength knob (dB, −50 to −10)."""
    if not -50.0 <= strength_db <= -10.0:
        raise WatermarkError("robust_strength_db must be between -50 and -10 dB")
    return float(strength_db)


def _band_of_bin() -> np.ndarray:
    edges = band_edges_hz()
    centre = np.arange(BIN_LO, BIN_HI) * BIN_HZ
    k = np.searchsorted(edges, centre, side="right") - 1
    return np.where((k >= 0) & (k < BANDS), k, -1)


_BAND_OF_BIN = _band_of_bin()
_IN_BAND = _BAND_OF_BIN >= 0
# the bands' bins are consecutive columns of the sub-spectrum, the same number per band
_FIRST_BIN = int(np.flatnonzero(_IN_BAND)[0])
_BAND_BINS = int(np.count_nonzero(_IN_BAND)) // BANDS


def _depth(sub: np.ndarray, g0: float) -> np.ndarray:
    """Per-hop, per-band depth ``a`` from the host spectrum ``sub`` (hops, bins)."""
    b = sub[:, _FIRST_BIN : _FIRST_BIN + BANDS * _BAND_BINS]
    p = b.real**2 + b.imag**2
    e = p.reshape(p.shape[0], BANDS, _BAND_BINS).sum(axis=2, dtype=np.float64)
    m = uniform_filter(e, size=(5, 5), mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(e > 1e-20, g0 * np.sqrt(m / np.maximum(e, 1e-20)), 0.0)
    g = np.minimum(g, min(G_MAX * g0, _G_ABS))
    return np.log1p(g)


def mark_internal(
    y: np.ndarray, key: WatermarkKey, payload: bytes, hop0: int, strength_db: float
) -> np.ndarray:
    """The mark (16 kHz, same length as ``y``) for host ``y`` whose first sample is hop ``hop0``."""
    spec = stft(y)
    sub = spec[:, BIN_LO:BIN_HI]
    signs = cell_signs(key, payload)  # (CELLS_T, BANDS)
    hops = hop0 + np.arange(sub.shape[0])
    s_hb = signs[(hops // HOPS_PER_CELL) % CELLS_T]  # (hops, BANDS)
    lam = s_hb * _depth(sub, 10 ** (strength_db / 20))
    gain = np.zeros(sub.shape, dtype=np.float32)
    gain[:, _IN_BAND] = np.expm1(lam[:, _BAND_OF_BIN[_IN_BAND]])
    full = np.zeros_like(spec)
    full[:, BIN_LO:BIN_HI] = sub * gain
    return istft(full, y.size)


def robust_mark(
    mono: np.ndarray,
    sample_rate: int,
    key: WatermarkKey,
    payload: bytes,
    *,
    start: int = 0,
    strength_db: float = DEFAULT_ROBUST_STRENGTH_DB,
) -> np.ndarray:
    """The robust mark (float32, input rate) for the mono host ``mono``.

    ``start`` is the absolute index of ``mono[0]`` in the track; it must be a multiple of
    :func:`watermark.robust.spectrum.align_unit` so that the frame phase is the same whichever
    block the samples came in.
    """
    unit = align_unit(sample_rate)
    if start % unit:
        raise ValueError("block start must be aligned to the robust layer's hop grid")
    hop0 = start * RATE // sample_rate // HOP
    y = to_internal(mono, sample_rate)
    return from_internal(mark_internal(y, key, payload, hop0, strength_db), sample_rate, mono.size)


def headroom_scale(
    peak_host: np.ndarray, mark: np.ndarray, full_scale: float, hop: int
) -> np.ndarray:
    """Per-sample factor (<= 1) that keeps ``host + mark`` within full scale, hop by hop.

    ``peak_host`` is the host's peak magnitude over channels per sample.
    """
    n = mark.size
    nh = -(-n // hop)
    pad = nh * hop - n
    ph = np.pad(peak_host, (0, pad)).reshape(nh, hop).max(axis=1)
    pm = np.pad(np.abs(mark), (0, pad)).reshape(nh, hop).max(axis=1)
    room = np.maximum(full_scale - ph, 0.0) * _HEADROOM
    f = np.where(pm > room, room / np.maximum(pm, 1e-30), 1.0)
    f = minimum_filter1d(f, size=3, mode="nearest")
    if np.all(f >= 1.0):
        return np.ones(n, dtype=np.float32)
    return np.repeat(f, hop)[:n].astype(np.float32)
