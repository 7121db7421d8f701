"""Audio files in blocks: soundfile for WAV/FLAC/OGG, PyAV for everything else it decodes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from watermark.errors import WatermarkError

#: soundfile subtype -> numpy dtype the samples are read in (lossless for PCM).
_READ_DTYPE = {
    "PCM_16": "int16",
    "PCM_24": "int32",
    "PCM_32": "int32",
    "FLOAT": "float32",
    "DOUBLE": "float64",
}
#: Output containers the embedder writes, by file extension.
WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds."""

    sample_rate: int
    channels: int
    frames: int | None  # None when the container does not say
    subtype: str  # soundfile subtype, or "FLOAT" for PyAV-decoded audio
    backend: str  # "soundfile" or "pyav"

    @property
    def dtype(self) -> str:
        """numpy dtype the samples are delivered in."""
        return _READ_DTYPE.get(self.subtype, "float32")

    @property
    def quant_bits(self) -> int | None:
        """Bits of the integer PCM grid (16, 24, 32), None for float."""
        return {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}.get(self.subtype)


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Open ``path`` and describe its first audio stream; unreadable files are refused."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    try:
        i = sf.info(str(p))
        if i.samplerate > 0 and i.channels > 0 and i.frames > 0:
            return AudioInfo(i.samplerate, i.channels, int(i.frames), i.subtype, "soundfile")
    except (sf.LibsndfileError, RuntimeError):
        pass
    import av

    try:
        with av.open(str(p)) as c:
            if not c.streams.audio:
                raise WatermarkError(f"no audio stream in {p.name}")
            st = c.streams.audio[0]
            rate = int(st.codec_context.sample_rate or 0)
            chans = int(st.codec_context.channels or 0)
            if rate <= 0 or chans <= 0:
                raise WatermarkError(f"cannot read the audio format of {p.name}")
            return AudioInfo(rate, chans, None, "FLOAT", "pyav")
    except av.error.FFmpegError as exc:
        raise WatermarkError(f"not a readable audio file: {p.name} ({exc.strerror})") from None


def _pyav_blocks(path: Path, info: AudioInfo) -> Iterator[np.ndarray]:
    import av

    try:
        with av.open(str(path)) as c:
            st = c.streams.audio[0]
            res = av.AudioResampler(
                format="flt", layout=st.codec_context.layout, rate=info.sample_rate
            )
            for frame in c.decode(st):
                for out in res.resample(frame):
                    yield out.to_ndarray().reshape(-1, info.channels)
            for out in res.resample(None):
                yield out.to_ndarray().reshape(-1, info.channels)
    except av.error.FFmpegError as exc:
        raise WatermarkError(f"cannot decode {path.name}: {exc.strerror}") from None


def _raw_blocks(path: Path, info: AudioInfo, block: int) -> Iterator[np.ndarray]:
    if info.backend == "soundfile":
        try:
            with sf.SoundFile(str(path)) as f:
                while True:
                    b = f.read(block, dtype=info.dtype, always_2d=True)
                    if b.shape[0] == 0:
                        break
                    yield b
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise WatermarkError(f"cannot decode {path.name}: {exc}") from None
    else:
        yield from _pyav_blocks(path, info)


def read_blocks(
    path: str | os.PathLike[str], block: int, info: AudioInfo | None = None
) -> Iterator[np.ndarray]:
    """Blocks of exactly ``block`` frames (the last may be shorter), shape (frames, channels)."""
    p = Path(path)
    info = info or probe(p)
    pending: list[np.ndarray] = []
    have = 0
    for b in _raw_blocks(p, info, block):
        pending.append(b)
        have += b.shape[0]
        while have >= block:
            cat = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield cat[:block]
            rest = cat[block:]
            pending, have = ([rest] if rest.shape[0] else []), rest.shape[0]
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """The whole file as (frames, channels) samples (int16/int32/float32/float64) and its rate."""
    info = probe(path)
    blocks = list(read_blocks(path, 1 << 20, info))
    if not blocks:
        raise WatermarkError(f"no audio samples in {Path(path).name}")
    return np.concatenate(blocks), info.sample_rate


def output_subtype(out_path: Path, info: AudioInfo) -> tuple[str, str]:
    """(format, subtype) to write the marked audio: same PCM width as the input where possible."""
    fmt = WRITE_FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise WatermarkError(
            f"output must be .wav, .flac or .ogg (got '{out_path.suffix or out_path.name}'); "
            "lossy codecs below 256 kbit/s remove the band above 20 kHz"
        )
    if fmt == "OGG":
        return fmt, "VORBIS"
    if fmt == "FLAC":
        return fmt, info.subtype if info.subtype in ("PCM_16", "PCM_24") else "PCM_24"
    return fmt, info.subtype if info.subtype in _READ_DTYPE else "FLOAT"
