"""Robustness regressions: shaky footage, bars beside overlays, compilations, cropped letterbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprint import FingerprintIndex, fingerprint_query, fingerprint_video, hamming
from provenance.fingerprint.synthetic import _upsample, synthetic_frames
from provenance.fingerprint.video import CROP, _crop_box, bar_crop

from .conftest import FPS, Frames, H, W, write_frames


def _decode(path: Path, start_frame: int, step: int) -> Frames:
    """RGB frames from ``start_frame`` on, every ``step``-th pixel, at a quarter of the size."""
    with av.open(str(path)) as c:
        return [
            np.ascontiguousarray(f.to_ndarray(format="rgb24")[::step, ::step])
            for i, f in enumerate(c.decode(video=0))
            if i >= start_frame
        ]


def test_excerpt_of_hand_held_footage_is_found_off_the_sampling_grid(
    sqlite_db_url: str, tmp_path: Path, shared_data: Path, source_video: Callable[[int], Path]
) -> None:
    # the upstream "pattern" clip is hand-held: its PDQ hashes drift by ~40 bits a frame, so
    # registration's 1 frame/s samples are only found by query frames within a frame or two of
    # them. An excerpt starting 0.4 s in puts the 4 frames/s grid 0.1 s away from them: only
    # the frames sampled where the picture moves find it.
    src = shared_data / "threatexchange" / "videos" / "pattern-hd-no-bar.mp4"
    index = FingerprintIndex(sqlite_db_url, tmp_path / "fp.npz")
    index.add("pattern", fingerprint_video(src))
    index.add("other", fingerprint_video(source_video(1)))
    frames = _decode(src, 12, 4)  # from 0.4 s on, 180x320
    clip = write_frames(tmp_path / "clip.mp4", frames, fps=30)
    q = fingerprint_query(clip)
    grid = fingerprint_query(clip, motion_bits=None)
    assert len(q) > 2 * len(grid)
    matches = index.search(q)
    assert matches and matches[0].video_id == "pattern"
    assert abs(matches[0].offset_s - 0.4) <= 0.1
    assert matches[0].score >= 0.8
    # a video whose picture moves smoothly gains few frames
    calm = fingerprint_query(source_video(1))
    assert len(calm) <= 1.3 * len(fingerprint_query(source_video(1), motion_bits=None))


def test_inset_of_hand_held_footage_is_sampled_where_it_moves(
    sqlite_db_url: str, tmp_path: Path, shared_data: Path
) -> None:
    # the hand-held clip small in a corner of another video (picture-in-picture, 35 %): the
    # inset hardly moves the whole frame's coarse hash, so only the quarters' hashes sample the
    # query densely enough to meet registration's 1 frame/s samples (the excerpt starts 0.4 s in)
    src = shared_data / "threatexchange" / "videos" / "pattern-hd-no-bar.mp4"
    index = FingerprintIndex(sqlite_db_url, tmp_path / "fp.npz")
    index.add("pattern", fingerprint_video(src))
    inset = [
        np.clip(_upsample(f.astype(np.float32), 224, 126), 0, 255).astype(np.uint8)
        for f in _decode(src, 12, 4)
    ]
    background = synthetic_frames(len(inset) / 30, width=360, height=640, fps=30, seed=99)
    frames = []
    for f, bg in zip(inset, background, strict=True):
        bg[640 - 224 - 36 : 640 - 36, 360 - 126 - 14 : 360 - 14] = f
        frames.append(bg)
    clip = write_frames(tmp_path / "pip.mp4", frames, fps=30)
    q = fingerprint_query(clip)
    assert q.n_frames > 1.5 * fingerprint_query(clip, motion_bits=None).n_frames
    matches = index.search(q)
    assert matches and matches[0].video_id == "pattern", matches
    assert abs(matches[0].offset_s - 0.4) <= 0.2


def _luma(frames: Frames) -> npt.NDArray[np.float32]:
    return np.stack([f.mean(axis=2) for f in frames]).astype(np.float32)


@given(
    st.integers(min_value=8, max_value=40),
    st.sampled_from(["left", "right", "top", "bottom"]),
    st.integers(min_value=0, max_value=3),
)
@settings(max_examples=12, deadline=None)
def test_a_logo_drawn_over_one_bar_does_not_hide_it(bar: int, side: str, seed: int) -> None:
    frames = list(synthetic_frames(1.0, width=320, height=192, fps=4, seed=seed))
    horizontal = side in ("left", "right")
    pad = ((0, 0), (bar, bar), (0, 0)) if horizontal else ((bar, bar), (0, 0), (0, 0))
    padded = [np.pad(f, pad) for f in frames]
    logo = np.random.default_rng(seed).integers(0, 255, (24, 24, 3), dtype=np.uint8)
    a = bar // 2  # the logo covers the inner half of the bar and some of the picture
    for f in padded:
        if side == "left":
            f[12:36, a : a + 24] = logo
        elif side == "right":
            f[12:36, -a - 24 : -a] = logo
        elif side == "top":
            f[a : a + 24, 200:224] = logo
        else:
            f[-a - 24 : -a, 200:224] = logo
    want = (0, 0, bar, bar) if horizontal else (bar, bar, 0, 0)
    assert bar_crop(_luma(padded)) == want


def test_letterboxed_part_of_a_compilation_loses_its_bars(
    source_frames: Callable[[int, float], Frames],
) -> None:
    # bars are judged per shot: the full-frame part of the batch does not keep the
    # letterboxed part's bars in its hashes
    a = source_frames(4, 16.0)[FPS : 5 * FPS]
    boxed = [np.pad(f, ((14, 14), (0, 0), (0, 0))) for f in a]
    full = list(synthetic_frames(4.0, width=W, height=H + 28, fps=FPS, seed=5))
    comp = fingerprint_video(boxed + full, frame_rate=FPS, min_quality=0)
    alone = fingerprint_video(a, frame_rate=FPS, min_quality=0)
    first = comp.times < 4.0 - 1e-6
    same = np.searchsorted(alone.times, comp.times[first])
    assert first.sum() >= 4
    assert hamming(comp.hashes[first], alone.hashes[same]).max() <= 16
    # per batch (no scene changes known), the full-frame part vetoes the bars
    veto = fingerprint_video(boxed + full, frame_rate=FPS, min_quality=0, scene_bits=None)
    first = veto.times < 4.0 - 1e-6
    same = np.searchsorted(alone.times, veto.times[first])
    assert hamming(veto.hashes[first], alone.hashes[same]).mean() > 20


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=30))
def test_central_region_is_the_frame_cut_at_its_borders(side: int, top: int) -> None:
    h, w = 360, 480
    pic, box = _crop_box(h, w, (top, top, side, side))
    assert pic == (top, h - top, side, w - side)
    dh, dw = round(h * CROP), round(w * CROP)
    if top < dh or side < dw:
        # what a copy cropped by CROP at each border shows, less what is left of the bars
        assert box == (max(top, dh), h - max(top, dh), max(side, dw), w - max(side, dw))
    else:
        # bars as wide as the cut on every side: the picture's own centre
        ph, pw = h - 2 * top, w - 2 * side
        assert box == (
            top + round(ph * CROP),
            h - top - round(ph * CROP),
            side + round(pw * CROP),
            w - side - round(pw * CROP),
        )
    assert _crop_box(h, w, (0, 0, 0, 0))[1] == (dh, h - dh, dw, w - dw)


@pytest.mark.parametrize("seed", [3, 8])
def test_crop_of_a_letterboxed_video_matches_its_central_hash(
    seed: int, source_frames: Callable[[int, float], Frames]
) -> None:
    frames = source_frames(seed, 16.0)[: 4 * FPS]
    boxed = [np.pad(f, ((0, 0), (12, 12), (0, 0))) for f in frames]  # pillarbox, < 10 %
    src = fingerprint_video(boxed, frame_rate=FPS, min_quality=0)
    hh, ww = boxed[0].shape[:2]
    dh, dw = round(hh * CROP), round(ww * CROP)
    cropped = [np.ascontiguousarray(f[dh : hh - dh, dw : ww - dw]) for f in boxed]
    q = fingerprint_video(cropped, frame_rate=FPS, min_quality=0)
    assert src.crop is not None
    assert np.median(hamming(q.hashes, src.crop)) <= 8
