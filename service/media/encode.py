"""Writing what provkit makes: H.264 + AAC MP4, WAV/FLAC tracks and JPEG thumbnails.

Every video provkit encodes goes through :func:`h264_stream` (one set of encoder settings) and
frames stream through the encoder one at a time, so memory stays bounded whatever the duration.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.container
import numpy as np
import soundfile as sf

from service.media.probe import MediaError

if TYPE_CHECKING:
    from service.generator import AudioTrack, GeneratedMedia, VideoStream

#: audio formats a generated track may be written as, by suffix → (soundfile format, subtype)
AUDIO_FORMATS = {".wav": ("WAV", "PCM_24"), ".flac": ("FLAC", "PCM_24")}


def h264_stream(
    out: av.container.OutputContainer,
    rate: int | Fraction,
    width: int,
    height: int,
    *,
    crf: int = 20,
    keyint: int | None = None,
) -> av.VideoStream:
    """Add provkit's H.264 video stream to ``out``: yuv420p, x264 ``veryfast`` at ``crf``;
    ``keyint`` is the most frames between key frames (``None``: x264's default)."""
    if keyint is not None and keyint < 1:
        raise ValueError("keyint must be at least 1 frame")
    vs = out.add_stream("libx264", rate=rate)
    vs.width, vs.height = width, height
    vs.pix_fmt = "yuv420p"
    options: dict[str, object] = {"crf": str(crf), "preset": "veryfast"}
    if keyint is not None:
        options["g"] = str(keyint)
    vs.options = options
    return vs


def encode_frames(
    out: av.container.OutputContainer, vs: av.VideoStream, frames: Iterable[np.ndarray]
) -> None:
    """Encode RGB frames ``(h, w, 3)`` uint8 into ``vs`` (resized to the stream's size when they
    differ) and flush the encoder."""
    for img in frames:
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        if (frame.width, frame.height) != (vs.width, vs.height):
            frame = frame.reformat(width=vs.width, height=vs.height)
        for packet in vs.encode(frame):
            out.mux(packet)
    for packet in vs.encode():
        out.mux(packet)


def write_audio(path: Path, track: AudioTrack) -> None:
    """Write a track as WAV (24-bit PCM) or FLAC (24-bit), chosen by the file suffix."""
    fmt = AUDIO_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise MediaError("audio output must be .wav or .flac")
    sf.write(str(path), track.samples, track.sample_rate, format=fmt[0], subtype=fmt[1])


def write_mp4(
    path: Path,
    video: VideoStream,
    audio: AudioTrack | None,
    *,
    crf: int = 20,
    audio_bitrate: int = 320_000,
) -> None:
    """Mux ``video`` (H.264) and ``audio`` (AAC, high bitrate to keep the band above 20 kHz).

    Streams frame by frame: memory stays bounded whatever the duration.
    """
    with av.open(str(path), mode="w", format="mp4") as out:
        vs = h264_stream(out, video.fps, video.width, video.height, crf=crf)
        as_ = None
        if audio is not None:
            as_ = out.add_stream("aac", rate=audio.sample_rate)
            as_.bit_rate = audio_bitrate
            as_.layout = "stereo" if audio.samples.shape[1] == 2 else "mono"
        encode_frames(out, vs, video.frames())
        if audio is not None and as_ is not None:
            data = np.ascontiguousarray(audio.samples.T.astype(np.float32))
            chunk = 1024 * 64
            pts = 0
            for s in range(0, data.shape[1], chunk):
                block = np.ascontiguousarray(data[:, s : s + chunk])
                aframe = av.AudioFrame.from_ndarray(block, format="fltp", layout=as_.layout.name)
                aframe.sample_rate = audio.sample_rate
                aframe.pts = pts
                aframe.time_base = Fraction(1, audio.sample_rate)
                pts += block.shape[1]
                for packet in as_.encode(aframe):
                    out.mux(packet)
            for packet in as_.encode():
                out.mux(packet)


def write_generation(
    work: Path, media: GeneratedMedia, audio_format: str
) -> list[tuple[str, Path]]:
    """Write a generation's media into ``work``: ``video.mp4`` (carrying the first audio track)
    and the other tracks as ``track<i>.<audio_format>``, or, without video, ``audio.<fmt>`` and
    ``track<i>.<fmt>``. Returns ``(kind, path)`` pairs, the video first."""
    files: list[tuple[str, Path]] = []
    tracks = list(media.audio)
    if media.video is not None:
        out = work / "video.mp4"
        write_mp4(out, media.video, tracks[0] if tracks else None)
        files.append(("video", out))
        tracks_to_write = list(enumerate(tracks))[1:]
    else:
        tracks_to_write = list(enumerate(tracks))
    for i, track in tracks_to_write:
        name = f"audio.{audio_format}" if i == 0 else f"track{i}.{audio_format}"
        p = work / name
        write_audio(p, track)
        files.append(("audio", p))
    return files


def thumbnail(video: Path, out: Path, width: int = 320) -> None:
    """Save a JPEG of the frame one second in (or the first frame)."""
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        chosen = None
        for frame in c.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= 1.0:
                break
        if chosen is None:
            return
        h = max(2, round(chosen.height * width / chosen.width / 2) * 2)
        small = chosen.reformat(width=width, height=h, format="yuvj420p")
    with av.open(str(out), "w", format="image2") as o:
        js = o.add_stream("mjpeg", rate=1)
        js.width, js.height, js.pix_fmt = width, h, "yuvj420p"
        small.pts = None
        for packet in js.encode(small):
            o.mux(packet)
        for packet in js.encode():
            o.mux(packet)
