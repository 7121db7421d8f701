"""Media probing and decoding for uploads of unknown origin, with hard caps.

Uploads are untrusted: a small file can claim a huge frame size or decode to hours of audio. The
caps (duration, pixels, channels, sample rate) are checked on the container's metadata first and
enforced again while decoding, so a lying header cannot make provkit decode past them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


class MediaError(ValueError):
    """The file is not decodable media, or it exceeds a cap."""


class MediaTooLong(MediaError):
    """Decoding passed a duration or memory cap; ``seconds`` were decoded when it stopped.

    Raised while decoding, whatever the container declared, so a caller that capped a request
    at its synchronous budget can hand the file to a background job instead.
    """

    def __init__(self, message: str, seconds: float = 0.0) -> None:
        super().__init__(message)
        self.seconds = seconds


class OverSyncBudget(Exception):
    """Decoding an upload passed a synchronous request's budget: verify it as a job instead.

    Raised as soon as the decoded media time passes the budget, whatever the container claimed
    (a FLAC written to a pipe declares no length; a raw stream declares none either).
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the upload decodes to more than {seconds:.0f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class MediaLimits:
    """Caps on what provkit decodes from one upload.

    ``max_duration_s`` bounds the media time decoded from one upload; ``max_pixels`` every decoded
    video frame; ``max_memory_bytes`` the audio decoded into memory at once (longer audio is
    streamed in blocks where the operation allows it, or refused).
    """

    max_duration_s: float = 3 * 3600.0
    max_pixels: int = 3840 * 2160
    max_channels: int = 16
    max_sample_rate: int = 192_000
    max_memory_bytes: int = 128 * 1024 * 1024


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds."""

    container: str
    duration_s: float
    has_audio: bool
    has_video: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: int = 0


def probe(path: Path, limits: MediaLimits = MediaLimits()) -> MediaInfo:
    """Read a file's streams without decoding them; refuse what breaks a cap."""
    try:
        with av.open(str(path)) as c:
            v = c.streams.video[0] if c.streams.video else None
            a = c.streams.audio[0] if c.streams.audio else None
            duration = float(c.duration / 1_000_000) if c.duration else 0.0
            if duration <= 0:
                for s in (v, a):
                    if s is not None and s.duration and s.time_base:
                        duration = max(duration, float(s.duration * s.time_base))
            info = MediaInfo(
                container=c.format.name,
                duration_s=duration,
                has_audio=a is not None,
                has_video=v is not None,
                width=int(v.codec_context.width or 0) if v else 0,
                height=int(v.codec_context.height or 0) if v else 0,
                fps=float(v.average_rate or 0) if v else 0.0,
                sample_rate=int(a.codec_context.sample_rate or 0) if a else 0,
                channels=int(a.codec_context.channels or 0) if a else 0,
            )
    except (av.error.FFmpegError, UnicodeDecodeError, IndexError) as exc:
        raise MediaError(f"not a decodable audio or video file ({type(exc).__name__})") from None
    if not info.has_audio and not info.has_video:
        raise MediaError("the file has no audio or video stream")
    if info.duration_s > limits.max_duration_s:
        raise MediaError(
            f"media lasts {info.duration_s:.0f} s, more than the {limits.max_duration_s:.0f} s cap"
        )
    if info.has_video and info.width * info.height > limits.max_pixels:
        raise MediaError(f"video frame {info.width}x{info.height} exceeds the pixel cap")
    if info.has_audio and info.channels > limits.max_channels:
        raise MediaError(f"{info.channels} audio channels exceed the cap of {limits.max_channels}")
    if info.has_audio and info.sample_rate > limits.max_sample_rate:
        raise MediaError(f"sample rate {info.sample_rate} Hz exceeds the cap")
    return info


def decode_audio(
    path: Path, limits: MediaLimits = MediaLimits(), max_seconds: float | None = None
) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to float32 (n_samples, channels) at its native rate.

    Counts what is decoded, not what the header says: stops with :class:`MediaTooLong` as soon as
    the decoded audio passes the duration cap, ``max_seconds`` (a caller's tighter budget) or
    ``limits.max_memory_bytes`` of samples, and with :class:`MediaError` when the stream changes
    its sample rate or channel count midway.
    """
    blocks: list[np.ndarray] = []
    total = 0
    held = 0
    rate = 0
    width = 0
    try:
        with av.open(str(path)) as c:
            if not c.streams.audio:
                raise MediaError("the file has no audio stream")
            stream = c.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or 0)
            if rate <= 0 or rate > limits.max_sample_rate:
                raise MediaError("unsupported audio sample rate")
            seconds = limits.max_duration_s
            if max_seconds is not None:
                seconds = min(seconds, max_seconds)
            cap = int(seconds * rate)
            for frame in c.decode(stream):
                if frame.sample_rate and int(frame.sample_rate) != rate:
                    raise MediaError("the audio stream changes its sample rate")
                arr = frame.to_ndarray()
                if frame.format.is_planar:
                    block = arr.T
                else:
                    block = arr.reshape(-1, len(frame.layout.channels))
                if block.shape[1] > limits.max_channels:
                    raise MediaError("too many audio channels")
                if width and block.shape[1] != width:
                    raise MediaError("the audio stream changes its channel count")
                width = block.shape[1]
                block = _to_float32(block)
                total += block.shape[0]
                held += block.nbytes
                if total > cap:
                    raise MediaTooLong(f"audio decodes past the {seconds:g} s cap", total / rate)
                if held > limits.max_memory_bytes:
                    raise MediaTooLong(
                        f"audio decodes to more than {limits.max_memory_bytes >> 20} MiB",
                        total / rate,
                    )
                blocks.append(block)
    except av.error.FFmpegError as exc:
        if not blocks:
            raise MediaError(f"audio could not be decoded ({type(exc).__name__})") from None
        # a truncated tail: keep what decoded
    if not blocks:
        raise MediaError("the audio stream holds no decodable samples")
    return np.concatenate(blocks, axis=0), rate


def _to_float32(block: np.ndarray) -> np.ndarray:
    if block.dtype == np.float32:
        return block
    if block.dtype == np.float64:
        return block.astype(np.float32)
    if block.dtype == np.int16:
        return block.astype(np.float32) / 32768.0
    if block.dtype == np.int32:
        return (block.astype(np.float64) / 2147483648.0).astype(np.float32)
    if block.dtype == np.uint8:
        return (block.astype(np.float32) - 128.0) / 128.0
    raise MediaError(f"unsupported sample format {block.dtype}")
