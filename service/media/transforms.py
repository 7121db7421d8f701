"""Platform-style transforms of a video file, done with PyAV (no ffmpeg binary needed).

Used by ``provkit demo`` to show which signals survive what platforms do to uploads: re-encode at
a low quality, trim, letterbox, downscale, strip the audio, or keep only the audio.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from service.media.encode import h264_stream


def transform(
    src: Path,
    dst: Path,
    *,
    crf: int = 23,
    start_s: float = 0.0,
    duration_s: float | None = None,
    letterbox: float = 0.0,
    scale: float = 1.0,
    keep_audio: bool = True,
    keep_video: bool = True,
    audio_codec: str = "aac",
    audio_bitrate: int = 256_000,
    keyint: int | None = None,
) -> Path:
    """Write ``dst`` from ``src`` with the given changes; frames stream through (bounded memory).

    ``letterbox`` adds black bars of that fraction of the height above and below (the frame keeps
    its size: the picture is scaled down into it). ``scale`` resizes the output frame. ``keyint``
    is the most frames between key frames (streaming platforms use about 2 s; ``None``: x264's
    default of 250 plus scene cuts).
    """
    end = None if duration_s is None else start_s + duration_s
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0] if (keep_video and inp.streams.video) else None
        ain = inp.streams.audio[0] if (keep_audio and inp.streams.audio) else None
        vout: av.VideoStream | None = None
        aout: av.AudioStream | None = None
        if vin is not None:
            vout = h264_stream(
                out,
                vin.average_rate or 30,
                int(round(vin.codec_context.width * scale / 2) * 2),
                int(round(vin.codec_context.height * scale / 2) * 2),
                crf=crf,
                keyint=keyint,
            )
        if ain is not None:
            astream = out.add_stream(audio_codec, rate=ain.codec_context.sample_rate)
            assert isinstance(astream, av.AudioStream)
            astream.bit_rate = audio_bitrate
            astream.layout = ain.codec_context.layout.name
            aout = astream
        streams = [s for s in (vin, ain) if s is not None]
        if not streams:
            raise ValueError("nothing to keep: the source has no selected stream")
        apts = 0
        for packet in inp.demux(*streams):
            for frame in packet.decode():
                if not isinstance(frame, av.VideoFrame | av.AudioFrame):
                    continue
                t = frame.time or 0.0
                if t < start_s or (end is not None and t >= end):
                    continue
                if isinstance(frame, av.VideoFrame) and vout is not None:
                    img = frame.to_ndarray(format="rgb24")
                    if letterbox > 0:
                        img = _letterbox(img, letterbox)
                    nf = av.VideoFrame.from_ndarray(img, format="rgb24")
                    if (nf.width, nf.height) != (vout.width, vout.height):
                        nf = nf.reformat(width=vout.width, height=vout.height)
                    for p in vout.encode(nf):
                        out.mux(p)
                elif isinstance(frame, av.AudioFrame) and aout is not None:
                    frame.pts = apts
                    frame.time_base = Fraction(1, frame.sample_rate)
                    apts += frame.samples
                    for p in aout.encode(frame):
                        out.mux(p)
        if vout is not None:
            for p in vout.encode():
                out.mux(p)
        if aout is not None:
            for p in aout.encode():
                out.mux(p)
    return dst


def _letterbox(img: np.ndarray, frac: float) -> np.ndarray:
    """Scale the picture into the middle of the frame with black bars above and below."""
    h, w = img.shape[:2]
    bar = int(h * frac)
    inner = max(2, h - 2 * bar)
    rows = np.linspace(0, h - 1, inner).astype(np.int64)
    cols = np.linspace(0, w - 1, int(w * inner / h)).astype(np.int64)
    small = img[rows][:, cols]
    out = np.zeros_like(img)
    x0 = (w - small.shape[1]) // 2
    out[bar : bar + inner, x0 : x0 + small.shape[1]] = small
    return out
