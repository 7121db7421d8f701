"""Reframed copies are traced: border crops, aspect re-cuts, picture-in-picture, split screens.

Each transform is applied to the frames of a generated 320x180 clip (no codec in between, so the
test is about geometry), and the copy must be found as its source at the right offset. Another
generated clip, never registered, plays the unrelated video beside or behind the copy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from provenance.fingerprint import FingerprintIndex, fingerprint_query, fingerprint_video
from provenance.fingerprint.regions import content_regions
from provenance.fingerprint.synthetic import _upsample, synthetic_frames
from provenance.fingerprint.video import _clear_windows
from provenance.fingerprint.windows import WINDOWS, window_box

W, H, RATE = 320, 180, 8
START = 3.0  # the copy starts this far into its source
Frame = npt.NDArray[np.uint8]


@functools.cache
def _clip(seed: int, seconds: float) -> list[Frame]:
    return list(synthetic_frames(seconds, width=W, height=H, fps=RATE, seed=seed, scene_s=5.0))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> FingerprintIndex:
    from provenance.registry.migrate import upgrade

    folder = tmp_path_factory.mktemp("reframe")
    url = f"sqlite:///{folder / 'fp.db'}"
    upgrade(url)
    idx = FingerprintIndex(url, None, autosave=False)
    idx.add("s31", fingerprint_video(_clip(31, 10.0), frame_rate=RATE))
    idx.add("s32", fingerprint_video(_clip(32, 6.0), frame_rate=RATE))
    idx.add("p33", fingerprint_video(_portrait(), frame_rate=RATE))
    return idx


@functools.cache
def _portrait() -> list[Frame]:
    """A portrait 180x320 clip with black pillarbox bars of 18 px (the picture is 144 wide)."""
    frames = synthetic_frames(10.0, width=144, height=320, fps=RATE, seed=33, scene_s=5.0)
    return [np.pad(f, ((0, 0), (18, 18), (0, 0))) for f in frames]


def _excerpt() -> list[Frame]:
    return _clip(31, 10.0)[int(START * RATE) : int((START + 6.0) * RATE)]


def _other() -> list[Frame]:
    return _clip(77, 6.0)


def _scale(frame: Frame, s: float) -> Frame:
    h, w = round(frame.shape[0] * s / 2) * 2, round(frame.shape[1] * s / 2) * 2
    # average 2x2 blocks first (no aliasing), then resize bilinearly
    half = frame.reshape(frame.shape[0] // 2, 2, frame.shape[1] // 2, 2, 3).mean(axis=(1, 3))
    return np.clip(_upsample(half.astype(np.float32), h, w), 0, 255).astype(np.uint8)


def _crop(p: float) -> Callable[[Frame], Frame]:
    def f(x: Frame) -> Frame:
        dh, dw = round(H * p), round(W * p)
        return x[dh : H - dh, dw : W - dw]

    return f


def _recut(aspect: float, shift: float = 0.0) -> Callable[[Frame], Frame]:
    def f(x: Frame) -> Frame:
        w = round(H * aspect)
        x0 = round((W - w) / 2 + shift * W)
        return x[:, x0 : x0 + w]

    return f


def _pip(s: float, background: str) -> Callable[[Frame, Frame], Frame]:
    def f(x: Frame, other: Frame) -> Frame:
        small = _scale(x, s)
        out = other.copy() if background == "video" else np.full_like(x, 96)
        h, w = small.shape[:2]
        y0, x0 = H - h - 10, W - w - 12
        out[y0 : y0 + h, x0 : x0 + w] = small
        return out

    return f


def _split(axis: int) -> Callable[[Frame, Frame], Frame]:
    def f(x: Frame, other: Frame) -> Frame:
        return np.concatenate([_scale(x, 0.5), _scale(other, 0.5)], axis=axis)

    return f


SINGLE = {
    "crop 5 %": _crop(0.05),
    "crop 7.5 %": _crop(0.075),
    "crop 15 %": _crop(0.15),
    "crop 20 %": _crop(0.2),
    "9:16 centred": _recut(9 / 16),
    "1:1 centred": _recut(1.0),
    "4:5 centred": _recut(4 / 5),
    "9:16 15 % left": _recut(9 / 16, -0.15),
    "9:16 15 % right": _recut(9 / 16, 0.15),
}


def _caption(frac: float, top: bool = False) -> Callable[[Frame], Frame]:
    def f(x: Frame) -> Frame:
        out = x.copy()
        if top:
            out[: round(H * frac)] = 24
        else:
            out[H - round(H * frac) :] = 24
        return out

    return f


#: a still logo: four saturated colour bars (and a white line), stretched to the logo's size
_LOGO = np.array([[[230, 40, 40], [40, 230, 40], [240, 240, 30], [30, 30, 230]]], np.uint8)


def _logo(frac: float) -> Callable[[Frame], Frame]:
    def f(x: Frame) -> Frame:
        h, w = round(H * frac), round(W * frac)
        bars = np.repeat(np.repeat(_LOGO, h, axis=0), -(-w // 4), axis=1)[:, :w]
        bars[h // 2 - 2 : h // 2 + 2] = 250
        out = x.copy()
        y0, x0 = round(H * 0.04), W - w - round(W * 0.03)
        out[y0 : y0 + h, x0 : x0 + w] = bars
        return out

    return f


def _strokes(x: Frame) -> Frame:
    """A line drawing over the middle of the frame (rings and a bar, 3 px strokes)."""
    yy, xx = np.mgrid[:H, :W]
    ring = lambda cy, cx, r: np.abs(np.hypot(yy - cy, xx - cx) - r) < 1.5  # noqa: E731
    lines = ring(60, 130, 14) | ring(60, 190, 14) | ring(100, 160, 34)
    lines[120:123, 120:200] = True
    out = x.copy()
    out[lines] = 10
    return out


OVERLAID = {
    "caption bar 25 % of the height": _caption(0.25),
    "caption bar 15 % of the height": _caption(0.15),
    "caption bar 25 % at the top": _caption(0.25, top=True),
    "caption bar 15 % at the top": _caption(0.15, top=True),
    "logo 25 % of the frame": _logo(0.5),
    "drawn strokes": _strokes,
}
PAIRED = {
    "picture-in-picture 50 % over video": _pip(0.5, "video"),
    "picture-in-picture 50 % over flat": _pip(0.5, "flat"),
    "side-by-side": _split(1),
    "top-bottom": _split(0),
}


@pytest.mark.parametrize("name", list(SINGLE))
def test_cropped_and_recut_copies_are_found(index: FingerprintIndex, name: str) -> None:
    frames = [np.ascontiguousarray(SINGLE[name](f)) for f in _excerpt()]
    matches = index.search(fingerprint_query(frames, frame_rate=RATE))
    assert matches, name
    assert matches[0].video_id == "s31", (name, matches[0])
    assert abs(matches[0].offset_s - START) <= 0.5, (name, matches[0])


@pytest.mark.parametrize("name", list(PAIRED))
def test_composited_copies_are_found(index: FingerprintIndex, name: str) -> None:
    frames = [PAIRED[name](f, o) for f, o in zip(_excerpt(), _other(), strict=False)]
    matches = index.search(fingerprint_query(frames, frame_rate=RATE))
    assert matches, name
    assert matches[0].video_id == "s31", (name, matches[0])
    assert abs(matches[0].offset_s - START) <= 0.5, (name, matches[0])


@pytest.mark.parametrize("name", list(OVERLAID))
def test_copies_under_large_overlays_are_found(index: FingerprintIndex, name: str) -> None:
    frames = [OVERLAID[name](f) for f in _excerpt()]
    matches = index.search(fingerprint_query(frames, frame_rate=RATE))
    assert matches, name
    assert matches[0].video_id == "s31", (name, matches[0])
    assert abs(matches[0].offset_s - START) <= 0.5, (name, matches[0])


def test_quarter_frame_logo_is_found_through_a_codec(
    index: FingerprintIndex, tmp_path: Path
) -> None:
    # re-encoded, the windows beside the logo must be wholly clear of it: a strip of a few per
    # cent of a window left out and filled moves its hash by tens of bits
    from .conftest import write_frames

    clip = write_frames(tmp_path / "logo.mp4", [_logo(0.5)(f) for f in _excerpt()], fps=RATE)
    matches = index.search(fingerprint_query(clip))
    assert matches and matches[0].video_id == "s31", matches
    assert abs(matches[0].offset_s - START) <= 0.5, matches[0]


def test_a_quarter_frame_logo_leaves_the_other_45_percent_clear() -> None:
    # half the frame's width and height, 3 % from the right border: it reaches past the middle
    mask = np.zeros((H, W), bool)
    mask[7:97, W - 160 - 10 : W - 10] = True
    boxes = _clear_windows(H, W, (0, H, 0, W), mask)
    l45 = next(w for w in WINDOWS if w.name == "l45")
    assert boxes[0] == window_box(l45, H, W, (0, H, 0, W))  # wholly clear windows come first
    y0, y1, x0, x1 = boxes[0]
    assert not mask[y0:y1, x0:x1].any()


def test_portrait_source_with_bars_is_found_from_its_16x9_recut(index: FingerprintIndex) -> None:
    top = (320 - round(180 * 9 / 16)) // 2
    frames = [f[top : top + round(180 * 9 / 16)] for f in _portrait()[24:72]]
    matches = index.search(fingerprint_query(frames, frame_rate=RATE))
    assert matches and matches[0].video_id == "p33", matches
    assert abs(matches[0].offset_s - 3.0) <= 0.5, matches[0]


def test_unrelated_composite_finds_nothing(index: FingerprintIndex) -> None:
    frames = [_split(1)(o, x) for o, x in zip(_other(), _clip(78, 6.0), strict=True)]
    assert index.search(fingerprint_query(frames, frame_rate=RATE)) == []


def test_content_regions_find_the_inset_and_the_halves() -> None:
    luma = lambda fs: np.stack([f.mean(axis=2) for f in fs]).astype(np.float32)  # noqa: E731
    pip = luma([_pip(0.5, "video")(f, o) for f, o in zip(_excerpt(), _other(), strict=False)])
    y0, y1, x0, x1 = content_regions(pip[:32])[0]
    assert abs(y0 - (H - 90 - 10)) <= 2 and abs(x0 - (W - 160 - 12)) <= 2
    assert abs(y1 - (H - 10)) <= 2 and abs(x1 - (W - 12)) <= 2
    split = luma([_split(1)(f, o) for f, o in zip(_excerpt(), _other(), strict=False)])
    assert (0, 90, 0, 160) in content_regions(split[:32])
    # a plain clip has no regions
    assert content_regions(luma(_excerpt())[:32]) == []


def test_windows_that_do_not_apply_are_skipped() -> None:
    boxes = {w.name: window_box(w, 180, 320, (0, 180, 0, 320)) for w in WINDOWS}
    assert boxes["a16x9"] is None  # landscape: no 16:9 window
    assert boxes["a9x16"] == (0, 180, 110, 211)
    portrait = {w.name: window_box(w, 320, 180, (0, 320, 0, 180)) for w in WINDOWS}
    assert portrait["a9x16"] is None and portrait["a16x9"] == (110, 211, 0, 180)
    # a re-cut is of the frame as posted: with pillarbox bars its height still comes from the
    # frame's width, and it keeps the picture's width
    barred = {w.name: window_box(w, 320, 180, (0, 320, 18, 162)) for w in WINDOWS}
    assert barred["a16x9"] == (110, 211, 18, 162)
    assert boxes["t75"] == (0, 135, 0, 320) and boxes["b75"] == (45, 180, 0, 320)
    assert boxes["l45"] == (0, 180, 0, 144) and boxes["r45"] == (0, 180, 176, 320)


def test_windows_are_stored_as_extra_rows(tmp_path: Path) -> None:
    from provenance.fingerprint.index import WINDOW_VARIANT, _frame_rows

    fp = fingerprint_video(_clip(31, 4.0), frame_rate=RATE)
    assert fp.windows is not None and fp.windows.shape == (len(fp), len(WINDOWS), 32)
    hashes, _, _, variant = _frame_rows(fp)
    applying = [k for k, w in enumerate(WINDOWS) if window_box(w, H, W, (0, H, 0, W)) is not None]
    assert len(hashes) == len(fp) * (2 + len(applying))
    assert set(np.unique(variant)) == {0, 1, *(WINDOW_VARIANT + k for k in applying)}
