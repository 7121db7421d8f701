"""Complex demodulation of the mark band to a 2400 Hz baseband, in blocks (bounded memory).

Each block's spectrum is taken with one real FFT; the bins of 20.4 kHz ± 360 Hz are shifted to
0 Hz (flat to ±300 Hz, Hann-tapered beyond) and brought back with a small inverse FFT. Blocks
overlap by a margin that is thrown away, so the result does not depend on how the input was cut.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from watermark.frame import CARRIER_HZ

BB_RATE = 2400  # complex baseband samples per second (4 per chip)
_UNIT_HZ = 300  # every supported sample rate is a multiple of 300 Hz
_CORE_UNITS = 300 * 20  # 20 s of core per block
_MARGIN_UNITS = 75  # 0.25 s margin each side
_FLAT_HZ = 300.0
_EDGE_HZ = 360.0


def _taper(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative bin offsets and their weights for an FFT with bin spacing 300/q Hz."""
    spacing = _UNIT_HZ / q
    jmax = int(np.floor(_EDGE_HZ / spacing))
    j = np.arange(-jmax, jmax + 1)
    f = np.abs(j) * spacing
    w = np.where(
        f <= _FLAT_HZ,
        1.0,
        0.5 * (1 + np.cos(np.pi * np.clip((f - _FLAT_HZ) / (_EDGE_HZ - _FLAT_HZ), 0, 1))),
    )
    return j, w


class Demodulator:
    """Streaming demodulator: feed mono float samples, collect complex baseband at 2400 Hz.

    Baseband sample ``i`` is the band around 20.4 kHz at time ``i / 2400`` s from the start of
    the stream; amplitudes are in the units of the input.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sr = sample_rate
        self.unit = sample_rate // _UNIT_HZ
        self.core = _CORE_UNITS * self.unit
        self.margin = _MARGIN_UNITS * self.unit
        self._buf = np.zeros(self.margin, dtype=np.float32)  # the stream starts after a margin
        self._out: list[np.ndarray] = []
        self.n_in = 0
        self._plans: dict[int, tuple[int, int, np.ndarray, np.ndarray]] = {}

    def _plan(self, length: int) -> tuple[int, int, np.ndarray, np.ndarray]:
        plan = self._plans.get(length)
        if plan is None:
            q = sfft.next_fast_len(-(-length // self.unit), real=True)
            j, w = _taper(q)
            plan = (q, self.unit * q, j, w)
            self._plans[length] = plan
        return plan

    def _block(self, seg: np.ndarray, n_core: int) -> np.ndarray:
        q, nfft, j, w = self._plan(seg.size)
        spec = sfft.rfft(seg, n=nfft)
        m = 8 * q  # baseband samples for nfft input samples
        centre = (CARRIER_HZ // _UNIT_HZ) * q
        bb_spec = np.zeros(m, dtype=np.complex64)
        bb_spec[j % m] = spec[centre + j] * w
        bb = sfft.ifft(bb_spec) * (2.0 * m / nfft)
        lo = _MARGIN_UNITS * 8
        hi = lo + n_core * 8 // self.unit
        return bb[lo:hi].astype(np.complex64)

    def feed(self, mono: np.ndarray) -> None:
        """Append samples; full blocks are demodulated as soon as they are available."""
        self.n_in += mono.size
        self._buf = np.concatenate([self._buf, mono.astype(np.float32, copy=False)])
        need = self.core + 2 * self.margin
        while self._buf.size >= need:
            self._out.append(self._block(self._buf[:need], self.core))
            self._buf = self._buf[self.core :]

    def finish(self) -> np.ndarray:
        """Demodulate what is left and return the whole baseband (complex64)."""
        rest = self._buf.size - self.margin
        if rest > 0:
            n_core = -(-rest // self.unit) * self.unit
            seg = np.zeros(n_core + 2 * self.margin, dtype=np.float32)
            seg[: self._buf.size] = self._buf
            self._out.append(self._block(seg, n_core))
        self._buf = np.zeros(0, dtype=np.float32)
        total = -(-self.n_in * BB_RATE // self.sr)
        chunks, self._out = self._out, []
        out = np.empty(total, dtype=np.complex64)
        pos = 0
        while chunks:
            c = chunks.pop(0)[: total - pos]
            out[pos : pos + c.size] = c
            pos += c.size
        return out[:pos]


def baseband(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Baseband of a whole mono signal (see :class:`Demodulator`)."""
    d = Demodulator(sample_rate)
    d.feed(mono)
    return d.finish()
