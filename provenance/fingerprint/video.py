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
    quality_of,
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
    overlay such as a logo left out (:func:`masked_pdq`). ``duration`` is the video's
    duration in seconds (0 when unknown). ``windows`` (registration) holds ``(n, k, 32)`` hashes
    of the reference windows :data:`~provenance.fingerprint.windows.WINDOWS` (a window that does
    not apply to a frame repeats the full-frame hash). ``region`` (queries) labels each row: 0
    the whole picture, 1 a part of the picture (its central crop; beside a large static
    overlay, the reference windows it leaves clear and the 75 % a caption bar leaves), 2 and
    up a detected content region; rows of one frame share its time.
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


def _coarse_hash(frame: Any, is_av: bool, parts: bool = False) -> npt.NDArray[np.uint8]:
    """A cheap PDQ hash of a strided ~96-pixel thumbnail, to measure how much the picture moved:
    ``(32,)``, or with ``parts`` ``(5, 32)``: the whole thumbnail, then its four quarters (a
    picture-in-picture inset or one side of a split screen moves its quarter's hash, hardly
    the whole frame's)."""
    if is_av:
        view = _y_plane(frame)
        y = view[0] if view is not None else _luma_of_frame(frame)
    else:
        y = _array_luma(frame)
    step = max(1, min(y.shape) // 96)
    thumb = np.asarray(y[::step, ::step], dtype=np.float32)
    if not parts:
        return bits_from_coeffs(dct16(downsample64(thumb[None])))[0]
    th, tw = thumb.shape[0] // 2, thumb.shape[1] // 2
    quarters = thumb[: 2 * th, : 2 * tw].reshape(2, th, 2, tw).transpose(0, 2, 1, 3)
    whole = bits_from_coeffs(dct16(downsample64(thumb[None])))
    if th < 4 or tw < 4:
        return np.concatenate([whole, np.repeat(whole, 4, axis=0)])
    return np.concatenate(
        [whole, bits_from_coeffs(dct16(downsample64(quarters.reshape(4, th, tw))))]
    )


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


#: A pixel is still when its luminance's standard deviation over the batch is below this.
STILL_LEVEL = 2.5
#: Least and most of the picture a static overlay may cover (share of its pixels).
OVERLAY_SHARE = (0.003, 0.4)
#: A 64×64 cell of the masked PDQ block needs this much unmasked filter weight to keep its own
#: value; lighter cells are filled from their neighbours.
MIN_CELL_WEIGHT = 0.25


def overlay_mask(luma: npt.NDArray[np.float32], grid: int = 16) -> npt.NDArray[np.bool_] | None:
    """Pixels of a static overlay (a logo, a caption box, drawn strokes) over moving content, or
    ``None``.

    The picture must move: on a ``grid``×``grid`` raster of cells, the median cell's mean
    luminance changes over the batch ``(n, h, w)``. A pixel is then static when its own
    luminance barely changes (:data:`STILL_LEVEL`, judged on every second pixel and grown by
    one, so anti-aliased edges are included); thin strokes are found as well as solid boxes.
    Only still pixels near still edges count (a smooth, slowly panning patch of the picture is
    still, but has no edges). Returns a pixel mask when it covers a share
    :data:`OVERLAY_SHARE` of the frame, else ``None``.
    """
    y = np.asarray(luma, dtype=np.float32)
    n, h, w = y.shape
    if n < 4 or h < grid or w < grid:
        return None
    ch, cw = h // grid, w // grid
    cells = y[:, : ch * grid, : cw * grid].reshape(n, grid, ch, grid, cw).mean(axis=(2, 4))
    if float(np.median(cells.std(axis=0))) < 4.0:
        return None
    s = y[:, ::2, ::2]
    still = s.std(axis=0) < STILL_LEVEL
    share = float(still.mean())
    if not OVERLAY_SHARE[0] <= share <= OVERLAY_SHARE[1]:
        return None
    # an overlay has edges of its own (a still pixel with a strong step to a neighbour), and
    # its pixels lie near them: a smooth, slowly panning patch of the picture is still too,
    # but has no such edges
    mean = s.mean(axis=0)
    step = np.zeros_like(still)
    step[:, 1:] |= np.abs(np.diff(mean, axis=1)) > 16.0
    step[1:, :] |= np.abs(np.diff(mean, axis=0)) > 16.0
    edges = step & still
    if float(edges.mean()) < 0.001:
        return None
    near = _grow(edges, max(4, min(still.shape) // 24))
    wide = _grow(still & near, 1)
    mask: npt.NDArray[np.bool_] = np.repeat(np.repeat(wide, 2, axis=0), 2, axis=1)[:h, :w]
    share = float(mask.mean())
    return mask if OVERLAY_SHARE[0] <= share <= OVERLAY_SHARE[1] else None


def _grow(mask: npt.NDArray[np.bool_], r: int) -> npt.NDArray[np.bool_]:
    """``mask`` grown by ``r`` pixels in every direction (a square box, by summed areas)."""
    h, w = mask.shape
    c = np.zeros((h + 1, w + 1), np.int32)
    c[1:, 1:] = mask.cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
    y0, y1 = np.clip(np.arange(h) - r, 0, h), np.clip(np.arange(h) + r + 1, 0, h)
    x0, x1 = np.clip(np.arange(w) - r, 0, w), np.clip(np.arange(w) + r + 1, 0, w)
    total = c[y1][:, x1] - c[y0][:, x1] - c[y1][:, x0] + c[y0][:, x0]
    out: npt.NDArray[np.bool_] = total > 0
    return out


def _masked_block(frames: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]) -> Any:
    """PDQ's 64×64 blocks of frames ``(n, h, w)`` with the ``mask``ed pixels left out (see
    :func:`masked_pdq`)."""
    keep = (~mask).astype(np.float32)
    num = downsample64(frames * keep)
    den = downsample64(keep[None])[0]
    block = num / np.maximum(den, 1e-6)
    known = den >= MIN_CELL_WEIGHT
    value = np.where(known, block, 0.0).astype(np.float32)
    weight = known.astype(np.float32)
    for _ in range(64):
        if bool(weight.all()):
            break
        pv = np.pad(value * weight, ((0, 0), (1, 1), (1, 1)))
        pw = np.pad(weight, 1)
        sv = sum(pv[:, i : i + 64, j : j + 64] for i in range(3) for j in range(3))
        sw = sum(pw[i : i + 64, j : j + 64] for i in range(3) for j in range(3))
        new = (weight == 0) & (sw > 0)
        value = np.where(new, sv / np.maximum(sw, 1e-6), value).astype(np.float32)
        weight = np.where(new, 1.0, weight).astype(np.float32)
    return value


def masked_pdq(frames: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]) -> Any:
    """PDQ hashes of frames ``(n, h, w)`` with the ``mask``ed pixels (an overlay) left out.

    PDQ's decimation to 64×64 is linear, so each cell is the filter-weighted mean of the
    unmasked pixels alone (filter(frame × keep) / filter(keep)); cells with less than
    :data:`MIN_CELL_WEIGHT` of their weight left (under a solid logo) take the mean of their
    already filled neighbours, growing inwards from the overlay's border.
    """
    return bits_from_coeffs(dct16(_masked_block(frames, mask)))


#: A band (caption bar) of this share of the picture's height along its bottom or top, dark bar
#: or still overlay, gets the query a row for the 75 % of the picture it leaves (the reference
#: window ``t75`` or ``b75``).
CAPTION_BAND = (0.05, 0.3)


def _caption_box(
    h: int,
    pic: tuple[int, int, int, int],
    mask: npt.NDArray[np.bool_] | None,
) -> tuple[int, int, int, int] | None:
    """The part of the picture a caption bar over its bottom (top) leaves: its top (bottom)
    75 %, measured on the picture as it was before the bar; or ``None``.

    A caption bar shows either as a one-sided dark bar (cut off with the bars: the picture
    then ends above it, or starts below it) or as a still band along the bottom or the top of
    the picture (``mask``).
    """
    y0, y1, x0, x1 = pic
    lo, hi = CAPTION_BAND[0] * h, CAPTION_BAND[1] * h
    if y0 == 0 and lo <= h - y1 <= hi:  # a one-sided bar at the bottom: the picture went on
        box = (0, round(h * 0.75), x0, x1)
    elif y1 == h and lo <= y0 <= hi:  # a one-sided bar at the top
        box = (round(h * 0.25), h, x0, x1)
    elif mask is not None:
        rows = mask.mean(axis=1) >= 0.7
        n = len(rows)

        def run(r: npt.NDArray[np.bool_]) -> int:
            return n if r.all() else int(np.argmax(~r))

        bottom, top = run(rows[::-1]), run(rows)
        if CAPTION_BAND[0] * n <= bottom <= CAPTION_BAND[1] * n:
            box = (y0, y0 + round((y1 - y0) * 0.75), x0, x1)
        elif CAPTION_BAND[0] * n <= top <= CAPTION_BAND[1] * n:
            box = (y0 + round((y1 - y0) * 0.25), y1, x0, x1)
        else:
            return None
    else:
        return None
    return box if box[1] - box[0] >= 8 else None


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
            painted_hashes.append((idx, masked_pdq(p, mask)))
        if regions:
            cap = _caption_box(h, pic, mask)
            if cap is not None and cap != pic:  # (a bar of 25 %: the picture is the window)
                out.extra.append((idx, *_hash_region(sel, cap), 1))
            for wb in _clear_windows(h, w, pic, mask):
                assert mask is not None
                out.extra.append((idx, *_hash_masked(sel, wb, pic, mask), 1))
    if regions:
        for k, rb in enumerate(content_regions(y)):
            # an inset of a letterboxed video brings its bars along: they go, as for a frame
            top, bottom, left, right = bar_crop(y[:, rb[0] : rb[1], rb[2] : rb[3]])
            rb = (rb[0] + top, rb[1] - bottom, rb[2] + left, rb[3] - right)
            out.extra.append((np.arange(n), *_hash_region(y, rb), 2 + k))
    out.filled = out.hashes
    if painted_hashes:
        out.filled = out.hashes.copy()
        for idx, ph in painted_hashes:
            out.filled[idx] = ph
    return out


#: Most reference windows a query hashes beside a large static overlay, and the largest share
#: of such a window the overlay's box may cover (that part is left out, see :func:`masked_pdq`).
MAX_CLEAR_WINDOWS, MAX_WINDOW_OVERLAP = 2, 0.15


def _clear_windows(
    h: int, w: int, pic: tuple[int, int, int, int], mask: npt.NDArray[np.bool_] | None
) -> list[tuple[int, int, int, int]]:
    """The largest reference windows (at most :data:`MAX_CLEAR_WINDOWS`) that a large static
    overlay in the picture ``pic`` leaves (nearly) clear, for the query to hash.

    The overlay's box is where ``mask`` (of the picture) covers a quarter of the rows and
    columns; a logo of thin strokes has no such box and is left to :func:`masked_pdq` alone.
    """
    if mask is None:
        return []
    rows = np.nonzero(mask.mean(axis=1) >= 0.25)[0]
    cols = np.nonzero(mask.mean(axis=0) >= 0.25)[0]
    if not len(rows) or not len(cols):
        return []
    oy0, oy1 = pic[0] + int(rows[0]), pic[0] + int(rows[-1]) + 1
    ox0, ox1 = pic[2] + int(cols[0]), pic[2] + int(cols[-1]) + 1
    if (oy1 - oy0) * (ox1 - ox0) < 0.02 * (pic[1] - pic[0]) * (pic[3] - pic[2]):
        return []
    clear = []
    for win in WINDOWS:
        wb = window_box(win, h, w, pic)
        if wb is None:
            continue
        over = max(0, min(wb[1], oy1) - max(wb[0], oy0)) * max(0, min(wb[3], ox1) - max(wb[2], ox0))
        area = (wb[1] - wb[0]) * (wb[3] - wb[2])
        if over <= MAX_WINDOW_OVERLAP * area:
            clear.append((over > 0, -area, wb))
    # wholly clear windows first: on smooth footage, even a strip of a few per cent of a
    # window left out (filled from its neighbours) moves its hash by 20-60 bits
    clear.sort()
    return [wb for _, _, wb in clear[:MAX_CLEAR_WINDOWS]]


def _hash_masked(
    frames: npt.NDArray[np.float32],
    box: tuple[int, int, int, int],
    pic: tuple[int, int, int, int],
    mask: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    """Hashes, qualities and mirror hashes of the box of frames, the overlay (``mask`` of the
    picture ``pic``) left out."""
    y0, y1, x0, x1 = box
    sub = mask[y0 - pic[0] : y1 - pic[0], x0 - pic[2] : x1 - pic[2]]
    if not sub.any():  # a window wholly clear of the overlay: a plain hash, at a third the cost
        return _hash_region(frames, box)
    block = _masked_block(frames[:, y0:y1, x0:x1], sub)
    return (
        bits_from_coeffs(dct16(block)),
        quality_of(block),
        bits_from_coeffs(dct16(block[:, :, ::-1])),
    )


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


#: How many more coarse-hash bits a quarter of the picture must move than the whole one before
#: a query samples another frame (a quarter's small thumbnail is noisier).
PART_MOTION_BITS = 32


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
            # with motion sampling, the quarters' hashes too: an inset that changes fast (hand-
            # held footage in a picture-in-picture) is sampled as densely as a full frame would be
            coarse = _coarse_hash(frame, self.is_av, parts=self.motion_bits is not None)
            if (
                self.scene_bits is not None
                and self.last_coarse is not None
                and int(hamming(coarse.reshape(-1, 32)[0], self.last_coarse.reshape(-1, 32)[0]))
                > self.scene_bits
            ):
                self.cut_pending = True
                take = take or t - self.last_t >= self.min_scene_gap - 1e-6
            if (
                not take
                and self.motion_bits is not None
                and self.taken_coarse is not None
                and self._moved(hamming(coarse, self.taken_coarse))
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

    def _moved(self, bits: npt.NDArray[np.int32]) -> bool:
        """Whether the coarse hash (or, when ``bits`` holds the quarters' too, one quarter's
        by :data:`PART_MOTION_BITS`) moved past ``motion_bits`` since the last sample."""
        assert self.motion_bits is not None
        if int(bits.reshape(-1)[0]) > self.motion_bits:
            return True
        return (
            bits.size > 1 and int(bits.reshape(-1)[1:].max()) > self.motion_bits + PART_MOTION_BITS
        )

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
    them left out (:func:`masked_pdq`). Frames with quality below ``min_quality`` are dropped. ``threads`` is the
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
