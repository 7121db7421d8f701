"""Video fingerprints: PDQ hashes of sampled, bar-cropped frames with their timestamps.

Three stages, so memory stays bounded whatever the video's length:

```
 decode (PyAV) ──► _Sampler: grid (1 frame/s) + scene cuts + motion ──► _Batcher: luminance
 straight from the Y plane into a reused (batch, h, w) buffer ──► _hash_batch: bars, PDQ,
 mirror, central crop + reference windows (registration) or query regions (queries)
```

Registration stores, per frame, the whole picture, its central 80 % and the windows of
:mod:`provenance.fingerprint.windows` (re-cuts and crops); a query hashes the whole picture,
its central :data:`~provenance.fingerprint.windows.QUERY_CROP` and every content region that
:mod:`provenance.fingerprint.regions` finds (picture-in-picture, split screens, padding), each as
a row of its own at the frame's time.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import numpy.typing as npt

from provenance.fingerprint._blas import on_one_blas_thread
from provenance.fingerprint.errors import DecodeLimitError, FingerprintError
from provenance.fingerprint.pdq import (
    HASH_BYTES,
    bits_from_coeffs,
    dct16,
    downsample64,
    hamming,
    luma_from_rgb,
    pdq_with_mirror,
    to_hex,
)
from provenance.fingerprint.regions import content_regions
from provenance.fingerprint.windows import QUERY_CROP, WINDOWS, window_box

#: Largest accepted frame side and area (pixels): beyond this the input is refused.
MAX_SIDE = 16384
MAX_AREA = 80_000_000
#: Smallest accepted frame side (pixels).
MIN_SIDE = 8
#: Share of the width and height cut from each border for the crop hashes.
CROP = 0.1
#: Most bytes of float32 luminance held in one batch of sampled frames (16 frames of 720p).
BATCH_BYTES = 64 * 1024 * 1024

_Skip = Literal["NONREF", "NONKEY"]

_Y_FORMATS = {
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuvj422p",
    "yuv444p",
    "yuvj444p",
    "yuv440p",
    "yuvj440p",
    "yuv411p",
    "yuv410p",
    "nv12",
    "nv21",
    "gray",
}


@dataclass(frozen=True)
class VideoFingerprint:
    """Per-frame PDQ hashes of a video.

    ``hashes`` is ``(n, 32)`` uint8, ``times`` the frame times in seconds ``(n,)``, ``quality``
    the PDQ quality ``(n,)``. ``mirror`` holds the hashes of the horizontally flipped frames (used
    to find mirrored copies) and ``crop`` those of the frames' central region (:data:`CROP` cut
    from each border; registered beside the full frames so that cropped copies match) when the
    frames were hashed here; both are ``None`` for hashes loaded from elsewhere. ``filled`` (a
    query-side aid, see ``fill_overlays``) holds the hashes of the frames with a detected static
    overlay such as a logo painted over with the frame's mean. ``duration`` is the video's
    duration in seconds (0 when unknown). ``windows`` (registration) holds ``(n, k, 32)`` hashes
    of the reference windows :data:`~provenance.fingerprint.windows.WINDOWS` (a window that does
    not apply to a frame repeats the full-frame hash). ``region`` (queries) labels each row: 0
    the whole picture, 1 its central crop, 2 and up a detected content region; rows of one
    frame share its time.
    """

    hashes: npt.NDArray[np.uint8]
    times: npt.NDArray[np.float64]
    quality: npt.NDArray[np.int32]
    mirror: npt.NDArray[np.uint8] | None = None
    duration: float = 0.0
    crop: npt.NDArray[np.uint8] | None = None
    frames_decoded: int = field(default=0, compare=False)
    filled: npt.NDArray[np.uint8] | None = None
    windows: npt.NDArray[np.uint8] | None = None
    region: npt.NDArray[np.int8] | None = None

    def __post_init__(self) -> None:
        n = len(self.hashes)
        if self.hashes.ndim != 2 or self.hashes.shape[1] != HASH_BYTES:
            raise FingerprintError(f"hashes must be (n, 32) uint8, got {self.hashes.shape}")
        if self.times.shape != (n,) or self.quality.shape != (n,):
            raise FingerprintError("hashes, times and quality must have the same length")
        if self.mirror is not None and self.mirror.shape != self.hashes.shape:
            raise FingerprintError("mirror hashes must have the shape of hashes")
        for extra in (self.crop, self.filled):
            if extra is not None and extra.shape != self.hashes.shape:
                raise FingerprintError("extra hashes must have the shape of hashes")
        if self.windows is not None and (
            self.windows.ndim != 3 or self.windows.shape[0] != n or self.windows.shape[2] != 32
        ):
            raise FingerprintError("window hashes must be (n, k, 32)")
        if self.region is not None and self.region.shape != (n,):
            raise FingerprintError("region labels must have the length of hashes")

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def n_frames(self) -> int:
        """Frames hashed (a query's extra rows of one frame share its time and count once)."""
        return len(self.hashes) if self.region is None else len(np.unique(self.times))

    def select(self, mask: npt.NDArray[np.bool_]) -> VideoFingerprint:
        """The frames where ``mask`` is true."""
        return VideoFingerprint(
            hashes=self.hashes[mask],
            times=self.times[mask],
            quality=self.quality[mask],
            mirror=None if self.mirror is None else self.mirror[mask],
            duration=self.duration,
            crop=None if self.crop is None else self.crop[mask],
            filled=None if self.filled is None else self.filled[mask],
            frames_decoded=self.frames_decoded,
            windows=None if self.windows is None else self.windows[mask],
            region=None if self.region is None else self.region[mask],
        )

    def lines(self) -> list[str]:
        """One ``time,quality,pdq_hex`` line per frame."""
        return [
            f"{t:.3f},{int(q)},{h}"
            for t, q, h in zip(self.times, self.quality, to_hex(self.hashes), strict=True)
        ]


def _check_size(width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise FingerprintError(f"video frames are too small ({width}x{height})")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_AREA:
        raise FingerprintError(f"video frames are too large ({width}x{height})")


def _y_plane(frame: Any) -> tuple[npt.NDArray[np.uint8], bool] | None:
    """A zero-copy view of a frame's 8-bit luma plane and whether it is full range (or None)."""
    if frame.format.name not in _Y_FORMATS:
        return None
    w, h = frame.width, frame.height
    plane = frame.planes[0]
    y = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)[:h, :w]
    name = frame.format.name
    full = name.startswith("yuvj") or name == "gray" or int(frame.color_range or 0) == 2
    return y, full


#: Limited-range (16–235) luma to full range (0–255), clipped: one table lookup per pixel.
_LIMITED_TO_FULL = np.clip(
    (np.arange(256, dtype=np.float32) - 16.0) * np.float32(255.0 / 219.0), 0.0, 255.0
).astype(np.float32)
_FULL = np.arange(256, dtype=np.float32)


def _luma_of_frame(
    frame: Any, out: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float32]:
    """Full-range PDQ luminance (0–255) of a decoded PyAV frame, written to ``out`` if given."""
    _check_size(frame.width, frame.height)
    view = _y_plane(frame)
    if view is not None:
        y, full = view
        return np.take(_FULL if full else _LIMITED_TO_FULL, y, out=out)
    luma = luma_from_rgb(frame.to_ndarray(format="rgb24"))
    if out is None:
        return luma
    out[...] = luma
    return out


def _coarse_hash(frame: Any, is_av: bool) -> npt.NDArray[np.uint8]:
    """A cheap PDQ hash of a strided ~96-pixel thumbnail, to measure how much the picture moved."""
    if is_av:
        view = _y_plane(frame)
        y = view[0] if view is not None else _luma_of_frame(frame)
    else:
        y = _array_luma(frame)
    step = max(1, min(y.shape) // 96)
    thumb = np.asarray(y[::step, ::step], dtype=np.float32)[None]
    return bits_from_coeffs(dct16(downsample64(thumb)))[0]


def bar_crop(luma: npt.NDArray[np.float32]) -> tuple[int, int, int, int]:
    """Letterbox/pillarbox bars of a batch of frames ``(n, h, w)``: ``(top, bottom, left, right)``.

    A bar is a run of rows (columns) from an edge that is flat and dark on every frame of the
    batch. Bars come in pairs: a bar narrower than the opposite one grows to its width where its
    rows (columns) are mostly flat (3/4 of their length), so a logo drawn partly over one bar
    does not hide it. Nothing is cropped when the bars would leave less than 30 % of a dimension.
    """
    y = np.asarray(luma, dtype=np.float32)
    n, h, w = y.shape

    def edges(lines: npt.NDArray[np.float32], size: int) -> tuple[int, int]:
        # lines (n, size, length), cut in pieces of 4 or more samples: a line is flat when all
        # its pieces are dark and, together, flat; "mostly flat" when 3/4 of them are
        pieces = max(1, min(16, lines.shape[2] // 4))
        step = lines.shape[2] // pieces
        chunks = lines[:, :, : pieces * step].reshape(n, size, pieces, step)
        mean = chunks.mean(axis=3)
        var = chunks.var(axis=3)
        dark = (var < 64.0) & (mean < 72.0)
        k = np.maximum(dark.sum(axis=2), 1)
        m = (mean * dark).sum(axis=2) / k
        together = ((var + mean * mean) * dark).sum(axis=2) / k - m * m < 64.0
        flat = np.all(dark.all(axis=2) & together, axis=0)
        mostly = np.all((dark.mean(axis=2) >= 0.75) & together, axis=0)
        if flat.all():
            return 0, 0

        def run(f: npt.NDArray[np.bool_]) -> int:
            return size if f.all() else int(np.argmax(~f))

        first, last = run(flat), run(flat[::-1])
        # bars come in pairs: a bar narrower than its opposite one grows to it where its lines
        # are mostly flat (a logo drawn partly over the bar)
        first = max(first, min(run(mostly), last))
        last = max(last, min(run(mostly[::-1]), first))
        if first + last > 0.7 * size:
            return 0, 0
        return first, last

    # rows are judged on every 4th column and columns on every 4th row: a bar is flat, so a
    # quarter of its pixels tell the same as all of them, at an eighth of the memory traffic
    top, bottom = edges(y[:, :, ::4], h)
    left, right = edges(np.swapaxes(y[:, ::4, :], 1, 2), w)
    return top, bottom, left, right


def overlay_mask(luma: npt.NDArray[np.float32], grid: int = 16) -> npt.NDArray[np.bool_] | None:
    """Pixels of a static overlay (a logo, a caption box) over moving content, or ``None``.

    On a ``grid``×``grid`` raster of cells, a cell is static when its mean luminance barely changes
    over the batch ``(n, h, w)`` while most cells move. Returns a pixel mask when static cells
    cover between 1 % and 35 % of the frame, else ``None``.
    """
    y = np.asarray(luma, dtype=np.float32)
    n, h, w = y.shape
    if n < 4 or h < grid or w < grid:
        return None
    ch, cw = h // grid, w // grid
    cells = y[:, : ch * grid, : cw * grid].reshape(n, grid, ch, grid, cw).mean(axis=(2, 4))
    spread = cells.std(axis=0)
    moving = float(np.median(spread))
    if moving < 4.0:
        return None
    static = (spread < 0.15 * moving) & (spread < 1.5)
    share = float(static.mean())
    if not 0.01 <= share <= 0.35:
        return None
    mask = np.zeros((h, w), dtype=bool)
    mask[: ch * grid, : cw * grid] = np.kron(static, np.ones((ch, cw), dtype=bool))
    return mask


def _segments(n: int, cuts: npt.NDArray[np.bool_] | None) -> list[slice]:
    """Runs of frames ``[0, n)`` split before every frame marked in ``cuts`` (scene changes)."""
    if cuts is None or n == 0:
        return [slice(0, n)]
    starts = [0, *(int(i) for i in np.nonzero(cuts[1:n])[0] + 1), n]
    return [slice(a, b) for a, b in itertools.pairwise(starts)]


def _crop_box(
    h: int, w: int, bars: tuple[int, int, int, int]
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The picture box (bars removed) and the central-region box ``(y0, y1, x0, x1)`` of frames.

    The central region is the frame's centre with :data:`CROP` cut from each border of the
    *frame* (what a copy cropped at its borders keeps), bars removed; when the bars alone are
    that wide, it is the picture's centre instead.
    """
    top, bottom, left, right = bars
    pic = (top, h - bottom, left, w - right)
    dh, dw = round(h * CROP), round(w * CROP)
    box = (max(top, dh), h - max(bottom, dh), max(left, dw), w - max(right, dw))
    if box == pic:
        ph, pw = h - top - bottom, w - left - right
        ch, cw = round(ph * CROP), round(pw * CROP)
        box = (top + ch, h - bottom - ch, left + cw, w - right - cw)
    return pic, box


@dataclass
class _Hashed:
    """The hashes of one batch of frames: one row per frame, plus the query's extra rows
    (``extra``: frame index, hash, quality, mirror hash and region label of each)."""

    hashes: npt.NDArray[np.uint8]
    quality: npt.NDArray[np.int32]
    mirror: npt.NDArray[np.uint8]
    crop: npt.NDArray[np.uint8]
    filled: npt.NDArray[np.uint8]
    windows: npt.NDArray[np.uint8] | None = None
    extra: list[
        tuple[
            npt.NDArray[np.int64],
            npt.NDArray[np.uint8],
            npt.NDArray[np.int32],
            npt.NDArray[np.uint8],
            int,
        ]
    ] = field(default_factory=list)


def _pdq_box(frames: npt.NDArray[np.float32], box: tuple[int, int, int, int]) -> Any:
    """PDQ hashes of the ``(y0, y1, x0, x1)`` box of frames ``(n, h, w)``."""
    return bits_from_coeffs(dct16(downsample64(frames[:, box[0] : box[1], box[2] : box[3]])))


def _central(pic: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """The centred ``scale`` share of box ``pic``."""
    y0, y1, x0, x1 = pic
    dh, dw = round((y1 - y0) * (1 - scale) / 2), round((x1 - x0) * (1 - scale) / 2)
    return (y0 + dh, y1 - dh, x0 + dw, x1 - dw)


def _hash_batch(
    luma: npt.NDArray[np.float32],
    remove_bars: bool,
    fill_overlays: bool = False,
    cuts: npt.NDArray[np.bool_] | None = None,
    crop_hashes: bool = True,
    windows: bool = False,
    regions: bool = False,
) -> _Hashed:
    """Hashes, qualities, mirror, central-region and overlay-filled hashes of frames ``(n, h, w)``,
    with the reference windows (``windows``) or the query's central crop and content regions
    (``regions``).

    Bars are judged per shot: the batch is split before the frames marked in ``cuts``, so a
    letterboxed part next to a full-frame part (a compilation) loses its bars all the same.
    Frames with the same boxes are hashed together.
    """
    y = np.asarray(luma, dtype=np.float32)
    n, h, w = y.shape
    boxes: dict[tuple[tuple[int, int, int, int], tuple[int, int, int, int]], list[slice]] = {}
    for seg in _segments(n, cuts) if remove_bars else [slice(0, n)]:
        bars = bar_crop(y[seg]) if remove_bars else (0, 0, 0, 0)
        boxes.setdefault(_crop_box(h, w, bars), []).append(seg)
    out = _Hashed(
        hashes=np.empty((n, HASH_BYTES), np.uint8),
        quality=np.empty(n, np.int32),
        mirror=np.empty((n, HASH_BYTES), np.uint8),
        crop=np.empty((n, HASH_BYTES), np.uint8)
        if crop_hashes
        else np.zeros((n, HASH_BYTES), np.uint8),
        filled=np.empty(0, np.uint8),
        windows=np.empty((n, len(WINDOWS), HASH_BYTES), np.uint8) if windows else None,
    )
    painted_hashes: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]] = []
    for (pic, box), segs in boxes.items():
        idx = np.concatenate([np.arange(s.start, s.stop) for s in segs])
        sel = y if len(idx) == n else y[idx]
        p = sel[:, pic[0] : pic[1], pic[2] : pic[3]]
        out.hashes[idx], out.quality[idx], out.mirror[idx] = pdq_with_mirror(p)
        if crop_hashes:
            out.crop[idx] = _pdq_box(sel, box)
        if out.windows is not None:
            for k, win in enumerate(WINDOWS):
                wb = window_box(win, h, w, pic)
                out.windows[idx, k] = out.hashes[idx] if wb is None else _pdq_box(sel, wb)
        if regions:
            # the query's own central crop meets the reference crops half way (a copy cropped
            # by 7.5 % per border, hashed at 94 %, is the reference's central 80 %)
            out.extra.append((idx, *_hash_region(sel, _central(pic, QUERY_CROP)), 1))
        mask = overlay_mask(p) if fill_overlays else None
        if mask is not None:
            painted = p.copy()
            painted[:, mask] = p[:, ~mask].mean(axis=1)[:, None]
            painted_hashes.append((idx, bits_from_coeffs(dct16(downsample64(painted)))))
    if regions:
        for k, rb in enumerate(content_regions(y)):
            out.extra.append((np.arange(n), *_hash_region(y, rb), 2 + k))
    out.filled = out.hashes
    if painted_hashes:
        out.filled = out.hashes.copy()
        for idx, ph in painted_hashes:
            out.filled[idx] = ph
    return out


def _hash_region(
    frames: npt.NDArray[np.float32], box: tuple[int, int, int, int]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    """Hashes, qualities and mirror hashes of the ``(y0, y1, x0, x1)`` box of frames."""
    return pdq_with_mirror(frames[:, box[0] : box[1], box[2] : box[3]])


def _frames_from_path(
    path: Path, threads: int, skip: _Skip | None, skip_loop_filter: bool = False
) -> tuple[Generator[tuple[float, Any], None, None], Any, float]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FingerprintError(f"{path.name}: not a readable media file ({reason})") from exc
    if not container.streams.video:
        container.close()
        raise FingerprintError(f"{path.name}: no video stream (audio-only or not a video)")
    stream = container.streams.video[0]
    cc = stream.codec_context
    if cc.width and cc.height:
        try:
            _check_size(cc.width, cc.height)
        except FingerprintError as exc:
            container.close()
            raise FingerprintError(f"{path.name}: {exc}") from None
    if skip is not None:
        # NONREF: frames no other frame refers to (most B-frames) are not needed for 1 frame/s
        # sampling; NONKEY: key frames only
        cc.skip_frame = skip
    if skip_loop_filter:
        # the deblocking filter smooths block edges that PDQ's 64x64 box filter averages away
        cc.options = {**cc.options, "skip_loop_filter": "all"}
    if threads != 1:
        stream.thread_type = "AUTO"
        stream.thread_count = threads
    duration = 0.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    rate = float(stream.average_rate or 30)

    def gen() -> Generator[tuple[float, Any], None, None]:
        try:
            for i, frame in enumerate(container.decode(stream)):
                t = frame.time
                yield (float(t) if t is not None else i / rate), frame
        except av.FFmpegError as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise FingerprintError(f"{path.name}: cannot decode video ({reason})") from exc
        finally:
            container.close()

    return gen(), container, duration


#: Frame rate assumed when counting decoded frames as media time (a cap on frames for streams
#: whose timestamps stall or are absent).
MAX_DECODE_FPS = 120.0


def _check_decode_caps(
    frame: Any, is_av: bool, seconds: float, max_seconds: float | None, max_pixels: int | None
) -> None:
    if max_pixels is not None:
        w, h = (frame.width, frame.height) if is_av else (frame.shape[1], frame.shape[0])
        if int(w) * int(h) > max_pixels:
            raise DecodeLimitError(
                f"a decoded video frame is {w}x{h}, over the cap of {max_pixels} pixels", seconds
            )
    if max_seconds is not None and seconds > max_seconds:
        raise DecodeLimitError(f"the video decodes past the {max_seconds:g} s cap", seconds)


def _frames_from_arrays(
    frames: Iterable[npt.NDArray[np.uint8]], frame_rate: float
) -> Generator[tuple[float, Any], None, None]:
    for i, f in enumerate(frames):
        yield i / frame_rate, np.asarray(f)


def _array_luma(arr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    if arr.ndim == 3 and arr.shape[-1] == 3:
        _check_size(arr.shape[1], arr.shape[0])
        return luma_from_rgb(arr)
    if arr.ndim == 2:
        _check_size(arr.shape[1], arr.shape[0])
        return arr.astype(np.float32)
    raise FingerprintError(f"a frame must be (h, w, 3) RGB or (h, w) grey, got {arr.shape}")


class _Sampler:
    """Stage 1: which decoded frames are hashed.

    Frames on the grid ``k / sample_fps`` (every frame when ``every``), plus scene changes (a
    coarse hash more than ``scene_bits`` from the previous decoded frame's, at least
    ``min_scene_gap`` after the previous sample), plus, with ``motion_bits``, any frame whose
    coarse hash moved that far since the last sampled one. ``cut`` tells whether a scene change
    came since the previous sample (bars are judged per shot).
    """

    def __init__(
        self,
        sample_fps: float | None,
        every: bool,
        scene_bits: int | None,
        min_scene_gap: float,
        motion_bits: int | None,
        is_av: bool,
    ) -> None:
        self.sample_fps, self.every, self.is_av = sample_fps, every, is_av
        self.scene_bits, self.min_scene_gap, self.motion_bits = (
            scene_bits,
            min_scene_gap,
            motion_bits,
        )
        self.next_t = -math.inf
        self.last_t = -math.inf
        self.last_coarse: npt.NDArray[np.uint8] | None = None
        self.taken_coarse: npt.NDArray[np.uint8] | None = None
        self.cut_pending = False

    def take(self, t: float, frame: Any) -> bool:
        """Whether the frame at ``t`` is sampled (call once per decoded frame, in order)."""
        take = self.every or t >= self.next_t - 1e-6
        if (self.scene_bits is not None or self.motion_bits is not None) and not self.every:
            coarse = _coarse_hash(frame, self.is_av)
            if (
                self.scene_bits is not None
                and self.last_coarse is not None
                and int(hamming(coarse, self.last_coarse)) > self.scene_bits
            ):
                self.cut_pending = True
                take = take or t - self.last_t >= self.min_scene_gap - 1e-6
            if (
                not take
                and self.motion_bits is not None
                and self.taken_coarse is not None
                and int(hamming(coarse, self.taken_coarse)) > self.motion_bits
            ):
                take = True
            self.last_coarse = coarse
            if take:
                self.taken_coarse = coarse
        if take:
            self.last_t = t
            if not self.every:
                fps = float(self.sample_fps or 1.0)
                self.next_t = (math.floor(t * fps + 1e-6) + 1) / fps
        return take

    def pop_cut(self) -> bool:
        """Whether a scene change came since the previous sample (and forget it)."""
        cut, self.cut_pending = self.cut_pending, False
        return cut


class _Batcher:
    """Stage 2: sampled frames' luminance in a reused ``(batch, h, w)`` buffer, hashed by
    :func:`_hash_batch` when full (or when the frame size changes) and collected.

    A batch holds frames of one size and at most :data:`BATCH_BYTES` of them, so 4K video
    stays bounded too.
    """

    def __init__(self, batch_size: int, is_av: bool, **hash_options: Any) -> None:
        self.batch_size, self.is_av, self.hash_options = batch_size, is_av, hash_options
        self.buf: npt.NDArray[np.float32] | None = None
        self.count = 0
        self.times: list[float] = []
        self.cuts: list[bool] = []
        self.done: list[tuple[list[float], _Hashed]] = []

    def add(self, t: float, frame: Any, cut: bool) -> None:
        """Add one sampled frame (a PyAV frame or an array)."""
        array_luma = None
        if self.is_av:
            _check_size(frame.width, frame.height)
            shape = (int(frame.height), int(frame.width))
        else:
            array_luma = _array_luma(frame)
            shape = (int(array_luma.shape[0]), int(array_luma.shape[1]))
        if self.buf is None or self.buf.shape[1:] != shape:
            self.flush()
            rows = max(1, min(self.batch_size, BATCH_BYTES // (4 * shape[0] * shape[1])))
            self.buf = np.empty((rows, *shape), dtype=np.float32)
        if array_luma is None:
            _luma_of_frame(frame, out=self.buf[self.count])
        else:
            self.buf[self.count] = array_luma
        self.count += 1
        self.times.append(t)
        self.cuts.append(cut)
        if self.count >= len(self.buf):
            self.flush()

    def flush(self) -> None:
        """Hash the frames held (if any)."""
        if not self.count or self.buf is None:
            return
        cuts = np.asarray(self.cuts, dtype=bool) if self.hash_options["scene_cuts"] else None
        opts = {k: v for k, v in self.hash_options.items() if k != "scene_cuts"}
        self.done.append((list(self.times), _hash_batch(self.buf[: self.count], cuts=cuts, **opts)))
        self.times.clear()
        self.cuts.clear()
        self.count = 0


def _assemble(
    done: list[tuple[list[float], _Hashed]],
    duration: float,
    decoded: int,
    crop_hashes: bool,
    fill_overlays: bool,
    windows: bool,
) -> VideoFingerprint:
    """Stage 3: the hashed batches as one fingerprint (frame rows, then the query's extra rows)."""
    empty = np.zeros((0, HASH_BYTES), np.uint8)

    def cat(arrays: list[Any], fallback: Any) -> Any:
        return np.concatenate(arrays) if arrays else fallback

    batches = [b for _, b in done]
    times = np.asarray([t for ts, _ in done for t in ts], dtype=np.float64)
    hashes = cat([b.hashes for b in batches], empty)
    quality = cat([b.quality for b in batches], np.zeros(0, np.int32))
    mirror = cat([b.mirror for b in batches], empty)
    crop = cat([b.crop for b in batches], empty)
    filled = cat([b.filled for b in batches], empty)
    wins = cat(
        [b.windows for b in batches if b.windows is not None],
        np.zeros((0, len(WINDOWS), HASH_BYTES), np.uint8),
    )
    region = np.zeros(len(hashes), np.int8)
    extra_h, extra_q, extra_m, extra_t, extra_r = [], [], [], [], []
    start = 0
    for ts, b in done:
        for idx, eh, eq, em, label in b.extra:
            extra_h.append(eh)
            extra_q.append(eq)
            extra_m.append(em)
            extra_t.append(times[start + idx])
            extra_r.append(np.full(len(idx), label, np.int8))
        start += len(ts)
    has_extra = bool(extra_h)
    if has_extra:
        hashes = np.concatenate([hashes, *extra_h])
        quality = np.concatenate([quality, *extra_q])
        mirror = np.concatenate([mirror, *extra_m])
        filled = np.concatenate([filled, *extra_h])
        times = np.concatenate([times, *extra_t])
        region = np.concatenate([region, *extra_r])
    return VideoFingerprint(
        hashes,
        times,
        quality,
        mirror=mirror,
        duration=float(duration),
        crop=crop if crop_hashes and not has_extra else None,
        frames_decoded=decoded,
        filled=filled if fill_overlays else None,
        windows=wins if windows and not has_extra else None,
        region=region if has_extra else None,
    )


@on_one_blas_thread
def fingerprint_video(
    source: str | os.PathLike[str] | Iterable[npt.NDArray[np.uint8]],
    *,
    sample_fps: float | None = 1.0,
    scene_bits: int | None = 80,
    min_scene_gap: float = 0.2,
    remove_bars: bool = True,
    fill_overlays: bool = False,
    min_quality: int = 50,
    frame_rate: float = 30.0,
    batch_size: int = 32,
    threads: int = 1,
    skip_nonref: bool = True,
    skip_loop_filter: bool = False,
    keyframes_only: bool = False,
    max_seconds: float | None = None,
    motion_bits: int | None = None,
    crop_hashes: bool = True,
    max_decode_seconds: float | None = None,
    max_frame_pixels: int | None = None,
    window_hashes: bool = True,
    regions: bool = False,
) -> VideoFingerprint:
    """Fingerprint a video file, or a sequence of frames, into per-frame PDQ hashes.

    Matrix products run on one BLAS thread (see :mod:`provenance.fingerprint._blas`).
    ``source`` is a path to anything FFmpeg decodes, or an iterable of RGB ``(h, w, 3)`` / grey
    ``(h, w)`` uint8 frames at ``frame_rate``. Frames are sampled at ``sample_fps`` on the grid
    ``k / sample_fps`` (``None`` or 0: every frame), plus scene changes: every frame whose coarse
    hash (PDQ of a small thumbnail) is more than ``scene_bits`` bits from the previous decoded
    frame's (``None`` disables), at least ``min_scene_gap`` seconds after the previous sample.
    Letterbox/pillarbox bars are cropped when ``remove_bars``, judged per shot (between scene
    changes) within a batch. With ``fill_overlays`` (for queries), static overlays over moving
    content (logos) are detected per batch and ``filled`` holds the hashes of the frames with
    them painted over. Frames with quality below ``min_quality`` are dropped. ``threads`` is the
    decoder's thread count (0: FFmpeg decides; the default 1 does the most work per CPU second,
    which is what a busy server wants). With ``skip_nonref`` (and sampling) the decoder
    skips the frames no other frame refers to, which roughly doubles decoding speed; the sampled
    frames then fall up to a few frames after the grid point, and their true times are kept.
    ``skip_loop_filter`` also skips H.264/HEVC deblocking (about 25 % less decoding work, at
    about 3 bits of extra distance per hash on re-encoded video). ``keyframes_only`` (files only)
    decodes and hashes the key frames alone, whatever their spacing: a cheap look at a video,
    for example to confirm a source that another signal already named.
    ``max_seconds`` stops after that much of the video. With ``motion_bits``, a frame is also
    sampled whenever its coarse hash is more than that many bits from the last sampled frame's
    (dense sampling where the picture moves fast, for queries). Raises
    :class:`FingerprintError` on bad input. ``crop_hashes`` computes the central-region hashes
    (``crop``) and, unless ``window_hashes`` is false, the reference windows (``windows``),
    which only registration uses; queries skip them. ``regions`` (queries) adds a row per
    frame for the picture's central crop and per detected content region (see
    :mod:`provenance.fingerprint.regions`).

    Caps for untrusted files, counted on what is **decoded**, not on what the container claims:
    ``max_decode_seconds`` bounds the media time decoded (by the frames' timestamps, and by the
    decoded frame count at :data:`MAX_DECODE_FPS` where timestamps stall or are absent, as in a
    raw stream); ``max_frame_pixels`` bounds every decoded frame, including frames of a stream
    that changes resolution midway. Either raises :class:`DecodeLimitError` (which carries the
    media time decoded so far) as soon as it is passed.
    """
    if sample_fps is not None and sample_fps < 0:
        raise FingerprintError("sample_fps must be positive (or None for every frame)")
    if batch_size < 1:
        raise FingerprintError("batch_size must be at least 1")
    every = not sample_fps or keyframes_only
    duration = 0.0
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FingerprintError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise FingerprintError(f"{path.name}: empty file")
        skip: _Skip | None = (
            "NONKEY" if keyframes_only else "NONREF" if skip_nonref and not every else None
        )
        frames_iter, _, duration = _frames_from_path(path, threads, skip, skip_loop_filter)
        is_av = True
    else:
        if keyframes_only:
            raise FingerprintError("keyframes_only needs a file: frame arrays have no key frames")
        frames_iter = _frames_from_arrays(source, frame_rate)
        is_av = False

    windows = crop_hashes and window_hashes
    sampler = _Sampler(sample_fps, every, scene_bits, min_scene_gap, motion_bits, is_av)
    batcher = _Batcher(
        batch_size,
        is_av,
        remove_bars=remove_bars,
        fill_overlays=fill_overlays,
        crop_hashes=crop_hashes,
        windows=windows,
        regions=regions,
        scene_cuts=scene_bits is not None,
    )
    decoded = 0
    last_frame_t = 0.0
    first_t: float | None = None
    latest_t = -math.inf
    for t, frame in frames_iter:
        if max_seconds is not None and t >= max_seconds and decoded:
            frames_iter.close()
            break
        decoded += 1
        last_frame_t = t
        if max_decode_seconds is not None or max_frame_pixels is not None:
            first_t = t if first_t is None else first_t
            latest_t = max(latest_t, t)
            seconds = max(latest_t - first_t, decoded / MAX_DECODE_FPS)
            try:
                _check_decode_caps(frame, is_av, seconds, max_decode_seconds, max_frame_pixels)
            except DecodeLimitError:
                if is_av:
                    frames_iter.close()
                raise
        if sampler.take(t, frame):
            batcher.add(t, frame, sampler.pop_cut())
    batcher.flush()
    if decoded == 0:
        raise FingerprintError("no decodable video frames")
    if duration <= 0:
        duration = last_frame_t + (1.0 / frame_rate if not is_av else 0.0)
    fp = _assemble(batcher.done, duration, decoded, crop_hashes, fill_overlays, windows)
    if min_quality > 0:
        fp = fp.select(fp.quality >= min_quality)
    return fp


#: Coarse-hash bits a query's picture may move before another frame is sampled (see
#: :func:`fingerprint_query`).
QUERY_MOTION_BITS = 48


#: Least PDQ quality of a query row. Lower than registration's 50: a 9:16 re-cut of smooth
#: footage often hashes at quality 30–40, and the registered window it matches was stored
#: with its frame's (higher) quality; a match still needs a hash within 31 bits and the vote.
QUERY_MIN_QUALITY = 30


def fingerprint_query(
    source: str | os.PathLike[str] | Iterable[npt.NDArray[np.uint8]],
    *,
    sample_fps: float = 4.0,
    motion_bits: int | None = QUERY_MOTION_BITS,
    **options: Any,
) -> VideoFingerprint:
    """Fingerprint a query video the way search works best: 4 frames/s and overlays filled.

    Between grid points, a frame is also sampled whenever the picture moved more than
    ``motion_bits`` (coarse-hash bits) since the last sampled one: in shaky or fast footage PDQ
    hashes change within a few frames, and registration's 1 frame/s samples are only found by
    a query frame close to them in time. The central-region hashes and reference windows,
    which only registration uses, are not computed (``crop`` and ``windows`` are ``None``).
    Each frame also gets a row for its central crop and one per content region found
    (picture-in-picture, split screen, padding: ``region`` labels the rows), and rows down to
    :data:`QUERY_MIN_QUALITY` are kept.
    """
    options.setdefault("crop_hashes", False)
    options.setdefault("regions", True)
    options.setdefault("min_quality", QUERY_MIN_QUALITY)
    return fingerprint_video(
        source, sample_fps=sample_fps, fill_overlays=True, motion_bits=motion_bits, **options
    )
