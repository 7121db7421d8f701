"""Embedding and detection over files, block by block (bounded memory for long files).

Embedding reads the file twice: first the levels (and the robust mark's peaks, so that the high
band leaves it room), then the marking. The robust mark of a 10 s block is computed from the
block plus 0.5 s of the host on each side, on the hop grid of the whole track, so it equals the
in-memory mark. Detection keeps the high band's 2,400 Hz baseband (69 MB per hour) and the
robust layer's 16 kHz spectrogram (70 MB per hour) and runs both at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from watermark.api import check_key, check_threshold, run_layers
from watermark.audio_io import AudioInfo, output_subtype, probe, read_blocks
from watermark.demod import Demodulator
from watermark.detect import mono_mix
from watermark.embed import (
    DEFAULT_STRENGTH_DB,
    add_mark,
    check_strength,
    hop_gains,
    hop_size,
    hop_stats,
    mark_segment,
    unit_mark,
)
from watermark.errors import DecodeLimitError, WatermarkError
from watermark.frame import PERIOD_S, check_payload
from watermark.key import WatermarkKey
from watermark.layers import DEFAULT_THRESHOLD, Detection, resolve_layers
from watermark.pcm import PcmInfo, channel_peak, check_rate
from watermark.robust import (
    DEFAULT_MAX_SPEED_DEV,
    DEFAULT_ROBUST_STRENGTH_DB,
    check_robust_strength,
    check_speed_dev,
    headroom_scale,
    robust_mark,
)
from watermark.robust.grid import PHASES
from watermark.robust.spectrum import Analyzer, align_unit

_BLOCK_HOPS = 500  # 10 s blocks
_MARGIN_S = 0.5


def _checked_info(
    path: Path, layers: Iterable[str] | str | None, *, detecting: bool = False
) -> tuple[AudioInfo, tuple[str, ...]]:
    info = probe(path)
    chosen = resolve_layers(layers, info.sample_rate, detecting=detecting)
    if "high" in chosen:
        check_rate(info.sample_rate)
    return info, chosen


def _robust_blocks(
    src: Path, info: AudioInfo, block: int, key: WatermarkKey, payload: bytes, strength: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(block, its robust mark) for every block of the file, with host context on both sides."""
    sr = info.sample_rate
    unit = align_unit(sr)
    margin = -(-int(_MARGIN_S * sr) // unit) * unit
    hist = np.zeros(0, dtype=np.float32)  # mono host just before the current block
    pos = 0
    it = iter(read_blocks(src, block, info))
    cur = next(it, None)
    while cur is not None:
        nxt = next(it, None)
        mono = mono_mix(cur)
        seg_start = max(0, (pos - margin) // unit * unit)
        left = hist[hist.size - (pos - seg_start) :] if pos > seg_start else hist[:0]
        right = mono_mix(nxt[:margin]) if nxt is not None else np.zeros(0, np.float32)
        seg = np.concatenate([left, mono, right])
        m = robust_mark(seg, sr, key, payload, start=seg_start, strength_db=strength)
        yield cur, m[left.size : left.size + mono.size]
        hist = np.concatenate([hist, mono])[-(margin + unit) :]
        pos += cur.shape[0]
        cur = nxt


def embed_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    payload: bytes,
    key: WatermarkKey,
    *,
    strength_db: float = DEFAULT_STRENGTH_DB,
    layers: Iterable[str] | str | None = None,
    robust_strength_db: float = DEFAULT_ROBUST_STRENGTH_DB,
) -> AudioInfo:
    """Mark the audio of ``in_path`` and write it to ``out_path`` (.wav, .flac or .ogg).

    Same marks as :func:`watermark.embed` (``layers`` likewise), in 10 s blocks, so memory does
    not grow with the file's length. PCM width is kept (16/24/32-bit int or float; FLAC float
    input becomes 24-bit). Returns a description of what was written.
    """
    src, dst = Path(in_path), Path(out_path)
    payload = check_payload(payload)
    strength = check_strength(strength_db)
    rstrength = check_robust_strength(robust_strength_db)
    key = check_key(key)
    info, chosen = _checked_info(src, layers)
    fmt, subtype = output_subtype(dst, info)
    if dst.exists() and dst.resolve() == src.resolve():
        raise WatermarkError("output file must differ from the input file")
    sr = info.sample_rate
    hop = hop_size(sr) if "high" in chosen else sr // 50
    block = hop * _BLOCK_HOPS
    robust = "robust" in chosen

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        if robust:
            yield from _robust_blocks(src, info, block, key, payload, rstrength)
        else:
            for b in read_blocks(src, block, info):
                yield b, None

    pcm: PcmInfo | None = None
    ms_parts, peak_parts = [], []
    frames = 0
    for b, r in blocks():
        if b.dtype.kind == "f" and not np.isfinite(b).all():
            raise WatermarkError(f"{src.name} contains NaN or infinite samples")
        pcm = pcm or PcmInfo(dtype=b.dtype, mono_1d=False)
        ms, peak = hop_stats(b, pcm, hop)
        if r is not None:
            nh = peak.size
            peak = peak + np.pad(np.abs(r), (0, nh * hop - r.size)).reshape(nh, hop).max(axis=1)
        ms_parts.append(ms)
        peak_parts.append(peak)
        frames += b.shape[0]
    if pcm is None or frames == 0:
        raise WatermarkError(f"no audio samples in {src.name}")
    if frames < PERIOD_S * sr:
        raise WatermarkError(
            f"clip too short to carry the payload: {frames / sr:.2f} s < {PERIOD_S} s"
        )
    gains = None
    if "high" in chosen:
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
            for b, r in blocks():
                n = b.shape[0]
                mark = np.zeros(n, dtype=np.float32)
                if r is not None:
                    hp = channel_peak(b, pcm)
                    mark += r * headroom_scale(hp, r, pcm.full_scale, hop)
                if gains is not None:
                    mark += mark_segment(unit, gains, hop, start, n)
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
    layers: Iterable[str] | str | None = None,
    max_speed_dev: float = DEFAULT_MAX_SPEED_DEV,
) -> Detection:
    """:func:`watermark.detect` over a file of any length, decoded and analysed in blocks.

    ``max_seconds`` caps the audio **decoded** (not what the header claims: a FLAC written to a
    pipe declares no length at all); past it, :class:`DecodeLimitError` is raised.
    """
    src = Path(path)
    key = check_key(key)
    threshold = check_threshold(threshold)
    dev = check_speed_dev(max_speed_dev)
    info, chosen = _checked_info(src, layers, detecting=True)
    dem = Demodulator(info.sample_rate) if "high" in chosen else None
    ana = Analyzer(info.sample_rate) if "robust" in chosen else None
    frames = 0
    for b in read_blocks(src, 10 * info.sample_rate, info):
        if b.dtype.kind == "f" and not np.isfinite(b).all():
            raise WatermarkError(f"{src.name} contains NaN or infinite samples")
        m = mono_mix(b)
        if dem is not None:
            dem.feed(m)
        if ana is not None:
            ana.feed(m)
        frames += b.shape[0]
        if max_seconds is not None and frames > max_seconds * info.sample_rate:
            raise DecodeLimitError(f"{src.name} decodes past the {max_seconds:g} s cap")
    if frames == 0:
        raise WatermarkError(f"no audio samples in {src.name}")
    return run_layers(
        chosen,
        dem.finish() if dem is not None else None,
        ana.finish() if ana is not None else None,
        frames / info.sample_rate,
        key,
        threshold,
        dev,
        ana.phases if ana is not None else PHASES,
    )
