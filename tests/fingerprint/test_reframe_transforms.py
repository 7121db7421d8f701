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
    return idx


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


def test_windows_are_stored_as_extra_rows(tmp_path: Path) -> None:
    from provenance.fingerprint.index import WINDOW_VARIANT, _frame_rows

    fp = fingerprint_video(_clip(31, 4.0), frame_rate=RATE)
    assert fp.windows is not None and fp.windows.shape == (len(fp), len(WINDOWS), 32)
    hashes, _, _, variant = _frame_rows(fp)
    applying = sum(window_box(w, H, W, (0, H, 0, W)) is not None for w in WINDOWS)
    assert len(hashes) == len(fp) * (2 + applying)
    assert set(np.unique(variant)) == {0, 1, *range(WINDOW_VARIANT, WINDOW_VARIANT + applying)}
