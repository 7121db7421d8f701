"""The robust layer's embedder: a keyed ± pattern of small level changes, shaped by masking.

For every 16 ms hop and every band the host's short-time spectrum is multiplied by
``exp(±a)``: the sign is the cell's chip (:mod:`watermark.robust.grid`), the depth ``a`` follows a
simple masking model, frame by frame::

    g = min(G_MAX·g0, g0 · sqrt(M / E))      a = ln(1 + g)

``E`` is the band's energy in this hop, ``M`` the same smoothed over ±2 bands and ±2 hops (the
masking spread of the neighbourhood), ``g0 = 10^(strength_db / 20)`` the documented knob
(default −20 dB: the mark is 20 dB below the local spectrum; with the band at 1–5.5 kHz that is
about 29 dB below the music, as −22 dB was in 0.5–5 kHz). The mark is thus a few tenths of
a dB of level change that moves with the music: silent where the host is silent, less in quiet
passages, relatively more in a band that sits in a loud neighbourhood (masked there) but never
more than ``G_MAX`` times the nominal depth.

**Informed embedding.** The embedder knows the host, so it knows what the detector will read
from it. The detector's soft value of a coded bit is the sum of the detection features
(:func:`watermark.robust.features.band_features`) over the bit's cells times their signs, and
the host's own features add to that sum as much as the mark does (measured on dev clips: the
host's share of the soft values' spread is 0.8–0.95). So the mark is measured and corrected:
``ISS_ROUNDS`` times, the marked 16 kHz signal is analysed exactly as the detector does, and for
every **group** (one coded bit, or 16 sync cells, within an aligned 10 s span) whose summed
feature falls short of ``ISS_MARGIN`` per hop and bin, the shortfall is added to the depths of
its cells, preferably in bins that are quiet for their neighbourhood (``ISS_BETA``; cheap in
power), up to ``ISS_CAP``. Groups that the host already pushes the right way cost nothing.
Margin and cap scale with the strength knob. The on-air format is unchanged: the detector is the
same, only fewer bits arrive with the wrong sign.

Only the difference ``X·(exp(±a) − 1)`` is synthesized (16 kHz overlap-add), brought to the
input rate and added to every channel, so a mono downmix keeps it, and where the host would clip
the mark is scaled down hop by hop. At input rates that are a whole multiple of 16 kHz (32, 48,
96 kHz) the same bins are synthesized directly at the input rate instead of resampling the
16 kHz synthesis (:func:`_synth_native`; the two agree within about 2e-5 of full scale).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from watermark.errors import WatermarkError
from watermark.key import WatermarkKey
from watermark.robust.features import band_features, hop_mean
from watermark.robust.grid import (
    BANDS,
    BIN_HI,
    BIN_HZ,
    BIN_LO,
    CELLS_T,
    GROUPS,
    HOP,
    HOPS_PER_CELL,
    NFFT,
    RATE,
    band_edges_hz,
    cell_signs,
    robust_layout,
)
from watermark.robust.spectrum import (
    MAG_SCALE,
    align_unit,
    from_internal,
    istft,
    resample_poly,
    stft,
    to_internal,
)

#: Default depth of the robust mark relative to the local spectrum, in dB.
DEFAULT_ROBUST_STRENGTH_DB = -20.0
G_MAX = 4.0  # at most 12 dB above the nominal depth in a masked band
_G_ABS = 0.5
_HEADROOM = 0.97
#: Informed embedding (see the module docstring): rounds of measure-and-correct, the margin that
#: every group must reach (mean detection feature per hop and bin, at the default strength), the
#: largest depth any hop and band may reach (natural-log units of amplitude, about 4.3 dB), how
#: strongly the correction prefers quiet bins (0 = evenly, 1 = inversely to their energy) and the
#: measured response of the detection feature to a depth change (feature units per 2 nepers).
ISS_ROUNDS = 2
ISS_MARGIN = 0.126
ISS_CAP = 0.5
ISS_BETA = 0.5
ISS_RESPONSE = 0.3
#: Groups are formed within aligned 10 s spans of the track (the file embedder's blocks), so that
#: the in-memory and streaming embedders give the same mark.
ISS_HOPS = 625
#: Hops next to a span's edge keep the plain mark and are left out of the groups: what the
#: detector reads there depends on the next span's mark (analysis window and the 9-hop mean),
#: which a block-by-block embedder does not know yet.
ISS_GUARD = 8


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


def _band_energy(sub: np.ndarray) -> np.ndarray:
    """Per-hop, per-band energy (hops, BANDS) of the host spectrum ``sub`` (hops, bins)."""
    b = sub[:, _FIRST_BIN : _FIRST_BIN + BANDS * _BAND_BINS]
    p = b.real**2 + b.imag**2
    return p.reshape(p.shape[0], BANDS, _BAND_BINS).sum(axis=2, dtype=np.float64)


def _spread(e: np.ndarray) -> np.ndarray:
    """Mean of ``e`` over ±2 hops and ±2 bands (the masking neighbourhood), bit-exact whatever
    block the hops came in."""
    return uniform_filter1d(hop_mean(e, 5), 5, axis=1, mode="nearest")


def _depth(e: np.ndarray, g0: float, m: np.ndarray | None = None) -> np.ndarray:
    """Per-hop, per-band depth ``a`` from the host's band energies ``e`` (hops, BANDS);
    ``m``: their :func:`_spread`, when the caller has it already."""
    m = _spread(e) if m is None else m
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(e > 1e-20, g0 * np.sqrt(m / np.maximum(e, 1e-20)), 0.0)
    g = np.minimum(g, min(G_MAX * g0, _G_ABS))
    return np.log1p(g)


_BAND_LO = BIN_LO + _FIRST_BIN  # rfft bin of the first band's first bin
_BAND_HI = _BAND_LO + BANDS * _BAND_BINS


def _fill(full: np.ndarray, band: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Write the mark's spectrum ``X · (exp(lam) - 1)`` into the layer's bins of ``full`` (whose
    other bins stay zero); ``band`` is the host's spectrum on those bins."""
    g = np.expm1(lam.astype(np.float32))
    full[:, _BAND_LO:_BAND_HI] = band * (g if _BAND_BINS == 1 else np.repeat(g, _BAND_BINS, 1))
    return full


def _groups(hops: np.ndarray, key: WatermarkKey) -> np.ndarray:
    """Informed-embedding group of every (hop, band): the cell's group (its coded bit, or a
    group of sync cells) within the ``ISS_HOPS`` window of the track that holds the hop."""
    lay = robust_layout(key)
    cell = ((hops // HOPS_PER_CELL) % CELLS_T)[:, None] * BANDS + np.arange(BANDS)[None, :]
    win = (hops // ISS_HOPS - hops[0] // ISS_HOPS)[:, None]
    return lay.group[cell] + GROUPS * win


def _weights(e: np.ndarray, live: np.ndarray, m: np.ndarray | None = None) -> np.ndarray:
    """Where the informed correction goes: ``(M / E)^ISS_BETA`` (quiet bins in a loud
    neighbourhood get more, in power that is cheap), zero where the host is silent; ``m``: the
    :func:`_spread` of ``e``, when the caller has it already."""
    m = np.maximum(_spread(e) if m is None else m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = m / np.maximum(e, 1e-20)
        w = np.where(live, np.sqrt(r) if ISS_BETA == 0.5 else r**ISS_BETA, 0.0)
    return np.minimum(w, 16.0)


def mark_internal(
    y: np.ndarray, key: WatermarkKey, payload: bytes, hop0: int, strength_db: float
) -> np.ndarray:
    """The mark (16 kHz, same length as ``y``) for host ``y`` whose first sample is hop ``hop0``."""
    full, band, lam = _mark_spectrum(y, key, payload, hop0, strength_db)
    return istft(_fill(full, band, lam), y.size)


def _mark_spectrum(
    y: np.ndarray, key: WatermarkKey, payload: bytes, hop0: int, strength_db: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The final depths of :func:`mark_internal`: (zeroed spectrum buffer, host spectrum on the
    layer's bins, signed depths ``lam``); the mark is ``istft(_fill(full, band, lam))``."""
    spec = stft(y)
    sub = spec[:, BIN_LO:BIN_HI]
    band = spec[:, _BAND_LO:_BAND_HI]
    full = np.zeros_like(spec)
    signs = cell_signs(key, payload)  # (CELLS_T, BANDS)
    hops = hop0 + np.arange(sub.shape[0])
    s_hb = signs[(hops // HOPS_PER_CELL) % CELLS_T]  # (hops, BANDS)
    e = _band_energy(sub)
    m = _spread(e)
    a = _depth(e, 10 ** (strength_db / 20), m)
    lam = s_hb * a
    if sub.shape[0] == 0 or ISS_ROUNDS == 0:
        return full, band, lam
    scale = 10 ** ((strength_db - DEFAULT_ROBUST_STRENGTH_DB) / 20)
    cap = max(ISS_CAP * scale, float(a.max(initial=0.0)))
    pos = (hops % ISS_HOPS)[:, None]
    live = (a > 0) & (pos >= ISS_GUARD) & (pos < ISS_HOPS - ISS_GUARD)
    grp = _groups(hops, key).ravel()
    w = _weights(e, live, m)
    n = np.bincount(grp, weights=live.ravel())
    w_sum = np.bincount(grp, weights=w.ravel(), minlength=n.size)
    s_live = s_hb * live
    for _ in range(ISS_ROUNDS):
        mark = istft(_fill(full, band, lam), y.size)
        marked = stft(y + mark)[:, BIN_LO:BIN_HI]
        lt = band_features(np.abs(marked) * MAG_SCALE, 1.0, exact=True)
        proj = np.bincount(grp, weights=(s_live * lt).ravel(), minlength=n.size)
        short = np.maximum(ISS_MARGIN * scale * n - proj, 0.0) / np.maximum(w_sum, 1e-9)
        step = short[grp].reshape(lam.shape) * w * (0.5 / ISS_RESPONSE)
        lam = s_hb * np.minimum(np.abs(lam) + step, cap)
    return full, band, lam


#: 16 kHz samples at each end of the mark that the native-rate synthesis takes from the
#: resampler (its filter, 10 samples at 16 kHz each side, sees zeros past the ends there).
_EDGE = 48


def _synth_native(
    full: np.ndarray, band: np.ndarray, lam: np.ndarray, n16: int, sample_rate: int, n: int
) -> np.ndarray:
    """The mark at ``sample_rate`` (a whole multiple ``f`` of 16 kHz), ``n`` samples.

    Instead of synthesizing at 16 kHz and resampling (two thirds of the cost at 48 kHz), the
    same bins are synthesized directly with ``f``-times longer frames and hop: the mark lies in
    1–5.5 kHz, where the resampler's low-pass passes it unchanged, so the two agree to float
    precision in the interior. At the two ends, where the resampler's filter reads zeros past
    the signal, the first and last ``_EDGE`` 16 kHz samples are resampled as before (and a mark of
    at most ``4 * _EDGE`` samples entirely).
    """
    if n16 <= 4 * _EDGE:
        return from_internal(istft(_fill(full, band, lam), n16), sample_rate, n)
    f = sample_rate // RATE
    nfft, hop = NFFT * f, HOP * f
    n_frames = full.shape[0]
    g = np.expm1(lam.astype(np.float32)) * np.float32(f)
    spec = np.zeros((n_frames, nfft // 2 + 1), dtype=np.complex64)
    spec[:, _BAND_LO:_BAND_HI] = band * (g if _BAND_BINS == 1 else np.repeat(g, _BAND_BINS, 1))
    fr = sfft.irfft(spec, n=nfft, axis=1).astype(np.float32, copy=False)
    fr *= _native_window(nfft)
    half = nfft // hop
    ola = np.zeros((n_frames + half, hop), dtype=np.float32)
    for j in range(half):
        ola[j : j + n_frames] += fr[:, j * hop : (j + 1) * hop]
    out = np.zeros(n, dtype=np.float32)
    z = ola.ravel()[nfft // 2 : nfft // 2 + n]
    out[: z.size] = z
    k = 2 * _EDGE // HOP + 3  # frames that reach the first 2 * _EDGE samples
    head16 = istft(_fill(full[:k], band[:k], lam[:k]), 2 * _EDGE)
    head = resample_poly(head16, f, 1)[: _EDGE * f]
    out[: head.size] = head
    # the tail: the last _EDGE samples of the 16 kHz mark (n16 long), with context before them
    r0 = max(0, (n16 - 2 * _EDGE) // HOP - 2)
    t16 = istft(_fill(full[r0:], band[r0:], lam[r0:]), n16 - r0 * HOP)[-2 * _EDGE :]
    tail = resample_poly(t16, f, 1)[_EDGE * f :]
    a = (n16 - _EDGE) * f
    if a < n:
        out[a:n] = tail[: n - a]
    return out


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
    if sample_rate % RATE == 0 and sample_rate > RATE:
        full, band, lam = _mark_spectrum(y, key, payload, hop0, strength_db)
        return _synth_native(full, band, lam, y.size, sample_rate, mono.size)
    return from_internal(mark_internal(y, key, payload, hop0, strength_db), sample_rate, mono.size)


@lru_cache(maxsize=8)
def _native_window(nfft: int) -> np.ndarray:
    """The square-root Hann window of ``nfft`` points (the 16 kHz window at a higher rate)."""
    w = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nfft) / nfft)).astype(np.float32)
    w.setflags(write=False)
    return w


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
