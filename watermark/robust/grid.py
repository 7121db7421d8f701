"""The robust layer's time-frequency grid and its keyed frame.

The robust layer lives where codecs keep the sound: 1 kHz to 5.5 kHz, analysed at an internal rate
of 16 kHz whatever the input rate (so the same grid serves 16 kHz speech and 48 kHz music, and a
resampler in between changes nothing). The short-time spectrum there (512-point frames, 16 ms
hop) is cut into **cells**: one rfft bin (31.25 Hz) times ``HOPS_PER_CELL`` hops (64 ms). Single
bins rather than wider bands: a band's level follows the music's notes and formants, which the
detector cannot tell from the mark, while neighbouring bins of one frame share most of that and
cancel it (measured: about twice the detection statistic per dB of mark)::

  5.5 kHz ┌──┬──┬──┬──┬──┬─ ─ ─┬──┐   one frame = CELLS_T × BANDS cells, 2.56 s
          ├──┼──┼──┼──┼──┼─ ─ ─┼──┤   each cell: the host's level in that band is raised or
          │S │d7│d2│S │d9│     │d0│   lowered by a few tenths of a dB (sign = chip);
          ├──┼──┼──┼──┼──┼─ ─ ─┼──┤   S = keyed sync chip, dN = chip carrying coded bit N
    1 kHz └──┴──┴──┴──┴──┴─ ─ ─┴──┘
           64 ms

``SYNC_CELLS`` cells carry keyed sync chips; the rest carry the same 306 coded bits as the
high-band layer (64-bit payload + CRC-32, K=7 rate-1/3 code), each coded bit in 16 cells
scattered by a keyed permutation. The frame repeats for the whole track. Chips and layout
come from HMAC-SHA256 of the key under labels of their own, so the two layers are independent.

Why 1–5.5 kHz and not lower: the detector reads *log* levels, so a cell at 5 kHz tells as much
as a cell at 700 Hz, but the mark follows the host's level and music and speech put most of
their power below 1 kHz, where the mark is therefore most expensive in SNR. Measured on 16
generated development clips at equal music SNR (28.7–29.1 dB): 0.5–5 kHz read the payload after
MP3 64k / Opus 32k / AAC 96k / Opus 64k in 4 / 1 / 8 / 14 of 16, 1–5.5 kHz in 6 / 6 / 13 / 16,
and 8 / 11 / 13 / 16 with the relative floor of :mod:`watermark.robust.features` (at −20 dB).
Codecs at 64 kbit/s keep this band (MP3 64k low-passes near 11 kHz, Opus 32k near 8–12 kHz).

A playback-speed change by a factor ``s`` (resampling type) moves every frequency to ``f·s`` and
every time to ``t/s``: the grid is then found again by scaling the band edges and the time axis
(:mod:`watermark.robust.features`), not by resampling the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from watermark.frame import CODED_BITS, coded_bits
from watermark.key import WatermarkKey

RATE = 16000  # internal analysis rate (Hz)
NFFT = 512  # 32 ms frames
HOP = 256  # 16 ms hop
PHASES = 4  # the detector's frames are HOP / PHASES apart (4 ms)
BIN_HZ = RATE / NFFT  # 31.25 Hz
F_LO, F_HI = 1000.0, 5500.0
BANDS = 144
HOPS_PER_CELL = 4  # 64 ms
CELLS_T = 40
PERIOD_HOPS = HOPS_PER_CELL * CELLS_T  # 160 hops = 2.56 s
PERIOD_S = PERIOD_HOPS * HOP / RATE
CELLS = CELLS_T * BANDS  # 5760
SYNC_CELLS = 864
DATA_CELLS = CELLS - SYNC_CELLS  # 4896: every coded bit in 16 cells
#: informed embedding: the sync cells in 54 groups of 16, the size of a coded bit's group
SYNC_GROUPS = SYNC_CELLS * CODED_BITS // DATA_CELLS
GROUPS = CODED_BITS + SYNC_GROUPS


def band_edges_hz() -> np.ndarray:
    """``BANDS + 1`` band edges (Hz): one rfft bin per band, bins centred on 1031.25 .. 5500 Hz."""
    return np.linspace(F_LO, F_HI, BANDS + 1) + BIN_HZ / 2


#: rfft bins that the layer touches or reads (a margin for speed changes up to ±6 %)
BIN_LO = int(np.floor(F_LO * 0.94 / BIN_HZ)) - 1
BIN_HI = int(np.ceil(F_HI * 1.06 / BIN_HZ)) + 2


@dataclass(frozen=True)
class RobustLayout:
    """Keyed layout of one robust frame: arrays over cells (time-major: cell = t * BANDS + b)."""

    chips: np.ndarray  # (CELLS,) +1/-1
    sync: np.ndarray  # (CELLS,) bool: sync cell
    data_bit: np.ndarray  # (CELLS,) coded-bit index, -1 for sync cells
    group: np.ndarray  # (CELLS,) informed-embedding group: the coded bit, or a group of sync cells


@lru_cache(maxsize=16)
def _layout_cached(secret: bytes) -> RobustLayout:
    key = WatermarkKey(secret)
    chips = 1.0 - 2.0 * (np.frombuffer(key.prf("robust-chips", CELLS), dtype=np.uint8) & 1)
    order = np.argsort(key.prf_uint32("robust-layout", CELLS), kind="stable")
    sync = np.zeros(CELLS, dtype=bool)
    sync[order[:SYNC_CELLS]] = True
    data_bit = np.full(CELLS, -1, dtype=np.int64)
    data_bit[order[SYNC_CELLS:]] = np.arange(DATA_CELLS) % CODED_BITS
    group = data_bit.copy()
    group[order[:SYNC_CELLS]] = CODED_BITS + np.arange(SYNC_CELLS) % SYNC_GROUPS
    for a in (chips, sync, data_bit, group):
        a.setflags(write=False)
    return RobustLayout(chips=chips, sync=sync, data_bit=data_bit, group=group)


def robust_layout(key: WatermarkKey) -> RobustLayout:
    """The keyed layout for ``key`` (cached)."""
    return _layout_cached(key.secret)


def cell_signs(key: WatermarkKey, payload: bytes) -> np.ndarray:
    """The +1/-1 sign of every cell of a frame carrying ``payload``, shape (CELLS_T, BANDS)."""
    lay = robust_layout(key)
    bits = 1.0 - 2.0 * coded_bits(payload).astype(np.float64)
    s = lay.chips.copy()
    d = ~lay.sync
    s[d] *= bits[lay.data_bit[d]]
    return s.reshape(CELLS_T, BANDS)
