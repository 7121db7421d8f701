"""From any input rate to the robust layer's short-time spectrum at 16 kHz, and back.

Embedding and detection both work on the 16 kHz short-time spectrum of the mono mix (512-point
square-root-Hann frames centred on multiples of the 256-sample hop, so analysis and overlap-add
synthesis reconstruct exactly). Two streaming pieces keep memory bounded on long files:

* :class:`Resampler` converts block by block with ``scipy.signal.resample_poly`` and throws away a
  margin on each side of every block, so the output does not depend on how the input was cut.
* :class:`Analyzer` = resampler + frame slicer; it keeps only the magnitudes of the bins the layer
  can reach (about 0.9 to 5.9 kHz, room for a ±6 % speed change), as float16 scaled by 64,
  four frames per hop for the first 5 minutes (80 kB per second, 24 MB), then one frame per hop
  for the whole track (20 kB per second: about 70 MB for an hour).
"""

from __future__ import annotations

from math import gcd

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft

from watermark.robust.grid import BIN_HI, BIN_LO, HOP, NFFT, PHASES, RATE

WINDOW = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(NFFT) / NFFT)).astype(np.float32)
#: Seconds of audio kept on the fine (sub-hop) frame grid; longer inputs continue on the hop grid.
LONG_S = 300.0
MAG_SCALE = 64.0  # stored magnitudes are |X| * 64 in float16 (range about -180 to +84 dB)


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """``scipy.signal.resample_poly``, imported on first use: ``scipy.signal`` alone takes
    about 0.8 s to import, which every ``provkit`` command would otherwise pay at start-up."""
    from scipy.signal import resample_poly as rp

    return np.asarray(rp(x, up, down))


def ratio(sample_rate: int) -> tuple[int, int]:
    """(up, down) with ``RATE / sample_rate == up / down`` in lowest terms."""
    g = gcd(RATE, sample_rate)
    return RATE // g, sample_rate // g


def align_unit(sample_rate: int) -> int:
    """Native samples per step that is both a whole internal sample and a whole hop."""
    up, down = ratio(sample_rate)
    return down * (HOP // gcd(up, HOP))


def to_internal(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Whole-signal conversion of mono ``x`` to 16 kHz (float32)."""
    up, down = ratio(sample_rate)
    if up == down:
        return np.asarray(x, dtype=np.float32)
    y = resample_poly(x.astype(np.float32, copy=False), up, down)
    return y.astype(np.float32, copy=False)


def from_internal(y: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
    """Whole-signal conversion of 16 kHz mono ``y`` to ``sample_rate``, exactly ``n`` samples."""
    up, down = ratio(sample_rate)
    z = y if up == down else resample_poly(y, down, up)
    out = np.zeros(n, dtype=np.float32)
    m = min(n, z.size)
    out[:m] = z[:m]
    return out


def stft(y: np.ndarray) -> np.ndarray:
    """Frames centred on ``h * HOP`` for h = 0 .. ceil(len / HOP), complex64 (frames, NFFT//2+1)."""
    n_frames = -(-y.size // HOP) + 1
    pad = np.zeros(n_frames * HOP + NFFT, dtype=np.float32)
    pad[NFFT // 2 : NFFT // 2 + y.size] = y
    fr = sliding_window_view(pad, NFFT)[::HOP][:n_frames] * WINDOW
    return sfft.rfft(fr, axis=1).astype(np.complex64, copy=False)


def istft(spec: np.ndarray, n: int) -> np.ndarray:
    """Overlap-add synthesis for :func:`stft` frames; returns ``n`` samples (float32)."""
    fr = sfft.irfft(spec, n=NFFT, axis=1).astype(np.float32, copy=False)
    fr *= WINDOW
    n_frames = fr.shape[0]
    half = NFFT // HOP  # 2 frames overlap each sample
    out = np.zeros((n_frames + half, HOP), dtype=np.float32)
    for j in range(half):  # hop row h gets the j-th HOP-long piece of frame h - j, in this order
        out[j : j + n_frames] += fr[:, j * HOP : (j + 1) * HOP]
    return out.ravel()[NFFT // 2 : NFFT // 2 + n]


class Resampler:
    """Streaming ``resample_poly`` from ``sr_in`` to ``sr_out`` (mono float32)."""

    def __init__(self, sr_in: int, sr_out: int, block_s: float = 10.0) -> None:
        g = gcd(sr_in, sr_out)
        self.up, self.down = sr_out // g, sr_in // g
        self.margin = self.down * max(1, -(-200 // self.down))  # input samples, whole steps
        self.block = self.down * max(1, int(block_s * sr_in) // self.down)
        self._buf = np.zeros(self.margin, dtype=np.float32)
        self.n_in = 0
        self.n_out = 0

    def _run(self, seg: np.ndarray, n_core: int) -> np.ndarray:
        if self.up == self.down:
            return seg[self.margin : self.margin + n_core]
        y = resample_poly(seg, self.up, self.down)
        lo = self.margin * self.up // self.down
        return y[lo : lo + n_core * self.up // self.down].astype(np.float32)

    def feed(self, x: np.ndarray) -> list[np.ndarray]:
        """Append input; return the output that is final."""
        self.n_in += x.size
        self._buf = np.concatenate([self._buf, x.astype(np.float32, copy=False)])
        out = []
        need = self.block + 2 * self.margin
        while self._buf.size >= need:
            out.append(self._run(self._buf[:need], self.block))
            self._buf = self._buf[self.block :]
        self.n_out += sum(o.size for o in out)
        return out

    def finish(self) -> list[np.ndarray]:
        """Flush: the output up to ``ceil(n_in * up / down)`` samples."""
        rest = self._buf.size - self.margin
        total = -(-self.n_in * self.up // self.down)
        out: list[np.ndarray] = []
        if rest > 0:
            core = -(-rest // self.down) * self.down
            seg = np.zeros(core + 2 * self.margin, dtype=np.float32)
            seg[: self._buf.size] = self._buf
            out.append(self._run(seg, core)[: total - self.n_out])
        self._buf = np.zeros(0, dtype=np.float32)
        return out


class Analyzer:
    """Streaming 16 kHz magnitude spectrogram of the layer's bins (float16, |X| * 64).

    Frames are taken every ``HOP / phases`` samples (4 ms with ``phases = PHASES``), more often
    than the embedder's hop: the detector later picks, for every hop of the mark's grid, the frame
    whose centre lies closest to it, so that a copy cut or delayed by a fraction of a hop (a
    codec's priming samples, a crop) or played at another speed is read on its own grid.
    Measured on generated clips: a copy starting half a hop late lost the payload every time when
    only the embedder's grid was read.

    Memory: 80 kB per second of audio. Past ``LONG_S`` of audio the spectrogram keeps every
    ``PHASES``-th frame and goes on at one frame per hop (20 kB per second: 70 MB per hour, so
    long files stay in bounded memory); ``phases`` says which grid the result has.
    """

    def __init__(self, sample_rate: int) -> None:
        self.rs = Resampler(sample_rate, RATE)
        self.phases = PHASES
        self.hop = HOP // PHASES
        self._tail = np.zeros(NFFT // 2, dtype=np.float32)  # frame 0 is centred on sample 0
        self._rows: list[np.ndarray] = []
        self._n_rows = 0
        self._skip = 0  # samples to drop before the next frame (after switching to one phase)
        self.n16 = 0

    def _to_one_phase(self) -> None:
        """Keep the frames on the embedder's hop grid and continue on that grid only."""
        rows = np.concatenate(self._rows)
        next_row = -(-self._n_rows // self.phases) * self.phases
        self._rows = [rows[:: self.phases]]
        self._skip = (next_row - self._n_rows) * self.hop
        self._n_rows = self._rows[0].shape[0]
        self.phases, self.hop = 1, HOP

    def _frames(self, y: np.ndarray) -> None:
        self.n16 += y.size
        buf = np.concatenate([self._tail, y])
        if self._skip:
            drop = min(self._skip, buf.size)
            buf, self._skip = buf[drop:], self._skip - drop
        hop = self.hop
        n_frames = (buf.size - NFFT) // hop + 1 if buf.size >= NFFT else 0
        if n_frames > 0:
            fr = sliding_window_view(buf, NFFT)[::hop][:n_frames] * WINDOW
            mag = np.abs(sfft.rfft(fr, axis=1)[:, BIN_LO:BIN_HI]) * MAG_SCALE
            self._rows.append(mag.astype(np.float16))
            self._n_rows += n_frames
            buf = buf[n_frames * hop :]
        self._tail = buf
        if self.phases > 1 and self.n16 > LONG_S * RATE:
            self._to_one_phase()

    def feed(self, mono: np.ndarray) -> None:
        """Append native-rate mono samples."""
        for y in self.rs.feed(mono):
            self._frames(y)

    def finish(self) -> np.ndarray:
        """The spectrogram, shape (frames, BIN_HI - BIN_LO), one frame per ``HOP / phases``."""
        for y in self.rs.finish():
            self._frames(y)
        n16, hop = self.n16, self.hop
        n_frames = -(-n16 // hop) + 1
        extra = (n_frames - 1) * hop + NFFT - (NFFT // 2 + n16) + self._skip
        if extra > 0:  # the frames that reach past the end: zero-padded
            self._frames(np.zeros(extra, dtype=np.float32))
        self.n16 = n16
        rows, self._rows = self._rows, []
        out = np.concatenate(rows) if rows else np.zeros((0, BIN_HI - BIN_LO), np.float16)
        return out[:n_frames]
