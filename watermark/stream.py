"""Embedding and detection over files, block by block (bounded memory for long files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from watermark.audio_io import AudioInfo, output_subtype, probe, read_blocks
from watermark.demod import Demodulator
from watermark.detect import DEFAULT_THRESHOLD, Detection, _mono, detect_baseband
from watermark.embed import (
    DEFAULT_STRENGTH_DB,
    _check_strength,
    add_mark,
    hop_gains,
    hop_size,
    hop_stats,
    mark_segment,
    unit_mark,
)
from watermark.errors import DecodeLimitError, WatermarkError
from watermark.frame import PERIOD_S, check_payload
from watermark.key import WatermarkKey
from watermark.pcm import PcmInfo, check_rate

_BLOCK_HOPS = 500  # 10 s blocks


def _checked_info(path: Path) -> AudioInfo:
    info = probe(path)
    check_rate(info.sample_rate)
    return info


def embed_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    payload: bytes,
    key: WatermarkKey,
    *,
    strength_db: float = DEFAULT_STRENGTH_DB,
) -> AudioInfo:
    """Mark the audio of ``in_path`` and write it to ``out_path`` (.wav, .flac or .ogg).

    Works in 10 s blocks (two passes: levels, then marking), so memory does not grow with
    the file's length. PCM width is kept (16/24/32-bit int or float; FLAC float input becomes
    24-bit). Returns a description of what was written.
    """
    src, dst = Path(in_path), Path(out_path)
    payload = check_payload(payload)
    strength = _check_strength(strength_db)
    info = _checked_info(src)
    fmt, subtype = output_subtype(dst, info)
    if dst.exists() and dst.resolve() == src.resolve():
        raise WatermarkError("output file must differ from the input file")
    sr = info.sample_rate
    hop = hop_size(sr)
    block = hop * _BLOCK_HOPS
    pcm: PcmInfo | None = None
    ms_parts, peak_parts = [], []
    frames = 0
    for b in read_blocks(src, block, info):
        if b.dtype.kind == "f" and not np.isfinite(b).all():
            raise WatermarkError(f"{src.name} contains NaN or infinite samples")
        pcm = pcm or PcmInfo(dtype=b.dtype, mono_1d=False)
        ms, peak = hop_stats(b, pcm, hop)
        ms_parts.append(ms)
        peak_parts.append(peak)
        frames += b.shape[0]
    if pcm is None or frames == 0:
        raise WatermarkError(f"no audio samples in {src.name}")
    if frames < PERIOD_S * sr:
        raise WatermarkError(
            f"clip too short to carry the payload: {frames / sr:.2f} s < {PERIOD_S} s"
        )
    unit, upeak = unit_mark(key, payload, sr)
    gains = hop_gains(
        np.concatenate(ms_parts), np.concatenate(peak_parts), pcm.full_scale, upeak, strength
    )
    tmp = dst.with_name(dst.name + ".part")
    extra = {"compression_level": 0.0} if fmt == "OGG" else {}
    try:
        with sf.SoundFile(
            str(tmp),
            "w",
            samplerate=sr,
            channels=info.channels,
            subtype=subtype,
            format=fmt,
            **extra,
        ) as out:
            start = 0
            for b in read_blocks(src, block, info):
                n = b.shape[0]
                mark = mark_segment(unit, gains, hop, start, n)
                out.write(add_mark(b, pcm, mark, info.quant_bits))
                start += n
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()
    return AudioInfo(sr, info.channels, frames, subtype, "soundfile")


def detect_file(
    path: str | os.PathLike[str],
    key: WatermarkKey,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_seconds: float | None = None,
) -> Detection:
    """:func:`watermark.detect` over a file of any length, decoded and demodulated in blocks.

    ``max_seconds`` caps the audio **decoded** (not what the header claims: a FLAC written to a
    pipe declares no length at all); past it, :class:`DecodeLimitError` is raised.
    """
    src = Path(path)
    if not isinstance(key, WatermarkKey):
        raise WatermarkError("key must be a WatermarkKey")
    if not 0.0 < threshold < 1.0:
        raise WatermarkError("threshold must be between 0 and 1")
    info = _checked_info(src)
    dem = Demodulator(info.sample_rate)
    frames = 0
    for b in read_blocks(src, 10 * info.sample_rate, info):
        if b.dtype.kind == "f" and not np.isfinite(b).all():
            raise WatermarkError(f"{src.name} contains NaN or infinite samples")
        dem.feed(_mono(b))
        frames += b.shape[0]
        if max_seconds is not None and frames > max_seconds * info.sample_rate:
            raise DecodeLimitError(f"{src.name} decodes past the {max_seconds:g} s cap")
    if frames == 0:
        raise WatermarkError(f"no audio samples in {src.name}")
    return detect_baseband(dem.finish(), frames / info.sample_rate, key, threshold, consume=True)
