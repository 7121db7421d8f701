"""Video fingerprints: sampling, bars, quality filter, streaming decode and bad input."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.fingerprint import FingerprintError, fingerprint_video, hamming
from provenance.fingerprint.video import VideoFingerprint, bar_crop

from .conftest import FPS, Frames, write_frames


def test_samples_one_frame_per_second_plus_scene_changes(
    source_video: Callable[[int], Path],
) -> None:
    fp = fingerprint_video(source_video(1))
    assert isinstance(fp, VideoFingerprint)
    assert fp.hashes.shape == (len(fp), 32) and fp.hashes.dtype == np.uint8
    assert fp.frames_decoded == 16 * FPS
    assert abs(fp.duration - 16.0) < 0.2
    grid = np.arange(16.0)
    # every grid second is sampled (the synthetic texture is always good quality)
    assert all(np.isclose(fp.times, g, atol=1 / FPS).any() for g in grid)
    # scene changes every 4 s add nothing new here (they fall on the grid); no frame is sampled
    # twice within the minimum gap
    assert np.all(np.diff(fp.times) > 0.19)
    assert (fp.quality >= 50).all()
    every = fingerprint_video(source_video(1), sample_fps=None, min_quality=0)
    assert len(every) == 16 * FPS


def test_scene_change_between_grid_points_is_sampled(
    tmp_path: Path, source_frames: Callable[[int, float], Frames]
) -> None:
    # cut from video 2 to video 3 at 2.5 s: a frame at the cut is sampled besides the grid
    frames = source_frames(2, 16.0)[: int(2.5 * FPS)] + source_frames(3, 16.0)[: 2 * FPS]
    fp = fingerprint_video(frames, frame_rate=FPS)
    cut = int(2.5 * FPS) / FPS
    assert np.isclose(fp.times, cut, atol=1e-6).any()
    off = fingerprint_video(frames, frame_rate=FPS, scene_bits=None)
    assert not np.isclose(off.times, cut, atol=1e-6).any()


def test_file_and_frames_give_close_hashes(
    source_video: Callable[[int], Path], source_frames: Callable[[int, float], Frames]
) -> None:
    a = fingerprint_video(source_video(1), scene_bits=None)
    b = fingerprint_video(source_frames(1, 16.0), frame_rate=FPS, scene_bits=None)
    assert len(a) == len(b)
    assert np.median(hamming(a.hashes, b.hashes)) <= 12


@given(
    st.integers(min_value=4, max_value=30),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=3),
)
@settings(max_examples=12)
def test_letterbox_and_pillarbox_bars_are_removed(top: int, side: int, seed: int) -> None:
    from provenance.fingerprint.synthetic import synthetic_frames

    frames = list(synthetic_frames(2.0, width=160, height=96, fps=4, seed=seed))
    padded = [np.pad(f, ((top, top), (side, side), (0, 0))) for f in frames]
    crop = bar_crop(np.stack([f.mean(axis=2) for f in padded]).astype(np.float32))
    assert crop[0] == crop[1] == top
    assert crop[2] == crop[3] == side
    a = fingerprint_video(frames, frame_rate=4, min_quality=0)
    b = fingerprint_video(padded, frame_rate=4, min_quality=0)
    assert hamming(a.hashes, b.hashes).max() <= 16
    kept = fingerprint_video(padded, frame_rate=4, min_quality=0, remove_bars=False)
    if top + side >= 10:
        assert hamming(a.hashes, kept.hashes).mean() > hamming(a.hashes, b.hashes).mean()


def test_dark_video_is_not_cropped_away() -> None:
    dark = [np.full((90, 160, 3), 5, np.uint8) for _ in range(8)]
    assert bar_crop(np.stack([f[..., 0] for f in dark]).astype(np.float32)) == (0, 0, 0, 0)
    fp = fingerprint_video(dark, frame_rate=4)
    assert len(fp) == 0  # flat frames have no quality: all dropped
    assert fingerprint_video(dark, frame_rate=4, min_quality=0).quality.max() == 0


def test_mirror_hashes_are_those_of_flipped_frames(
    source_frames: Callable[[int, float], Frames],
) -> None:
    frames = source_frames(4, 16.0)[: 3 * FPS]
    a = fingerprint_video(frames, frame_rate=FPS)
    b = fingerprint_video([f[:, ::-1] for f in frames], frame_rate=FPS)
    assert a.mirror is not None and b.mirror is not None
    assert hamming(a.mirror, b.hashes).max() == 0
    assert hamming(a.hashes, b.hashes).mean() > 40


def test_lines_format(source_video: Callable[[int], Path]) -> None:
    fp = fingerprint_video(source_video(1))
    t, q, h = fp.lines()[0].split(",")
    assert float(t) == pytest.approx(fp.times[0], abs=1e-3)
    assert int(q) == fp.quality[0] and len(h) == 64


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(FingerprintError, match="no such file"):
        fingerprint_video(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(FingerprintError, match="empty"):
        fingerprint_video(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01garbage" * 500)
    with pytest.raises(FingerprintError):
        fingerprint_video(junk)
    with pytest.raises(FingerprintError, match="no decodable"):
        fingerprint_video([], frame_rate=10)
    with pytest.raises(FingerprintError, match="too small"):
        fingerprint_video([np.zeros((4, 4, 3), np.uint8)])
    with pytest.raises(FingerprintError, match="too large"):
        fingerprint_video([np.zeros((8, 20_000), np.uint8)])
    with pytest.raises(FingerprintError):
        fingerprint_video([np.zeros((8, 8, 8, 8), np.uint8)])


def test_audio_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    with av.open(str(path), mode="w") as c:
        stream = c.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        samples = (np.sin(np.arange(8000) * 0.1) * 8000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        frame.time_base = Fraction(1, 8000)
        frame.pts = 0
        for p in stream.encode(frame):
            c.mux(p)
        for p in stream.encode():
            c.mux(p)
    with pytest.raises(FingerprintError, match="no video stream"):
        fingerprint_video(path)


def test_truncated_video_keeps_decodable_frames_or_fails_cleanly(
    tmp_path: Path, source_frames: Callable[[int, float], Frames]
) -> None:
    path = write_frames(tmp_path / "v.mp4", source_frames(5, 16.0)[: 4 * FPS])
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    try:
        fp = fingerprint_video(cut)
    except FingerprintError:
        return
    assert len(fp) <= 5


def test_static_overlay_is_detected_and_filled(
    source_frames: Callable[[int, float], Frames],
) -> None:
    from provenance.fingerprint import fingerprint_query
    from provenance.fingerprint.video import overlay_mask

    frames = [f.copy() for f in source_frames(6, 16.0)[: 8 * FPS]]
    rng = np.random.default_rng(0)
    logo = rng.integers(0, 255, (30, 60, 3), dtype=np.uint8)
    for f in frames:
        f[4:34, -64:-4] = logo
    luma = np.stack([f.mean(axis=2) for f in frames[:: FPS // 4]]).astype(np.float32)
    mask = overlay_mask(luma)
    assert mask is not None
    assert mask[10:28, -55:-10].mean() > 0.8  # the logo
    assert mask[50:, :100].mean() < 0.15  # moving content (a slow, smooth pan may be still)
    # the picture with the logo left out hashes closer to the picture without it
    from provenance.fingerprint.pdq import pdq_hash
    from provenance.fingerprint.video import masked_pdq

    clean = source_frames(6, 16.0)[: 8 * FPS : FPS // 4]
    source = pdq_hash(np.stack([f.mean(axis=2) for f in clean]).astype(np.float32))[0]
    plain_d = hamming(pdq_hash(luma)[0], source).mean()
    assert hamming(masked_pdq(luma, mask), source).mean() <= plain_d - 5
    fp = fingerprint_query(frames, frame_rate=FPS)
    assert fp.filled is not None and fp.region is not None
    whole = fp.region == 0  # the frames' own rows (the query's extra rows are not filled)
    assert (hamming(fp.filled[whole], fp.hashes[whole]) > 0).mean() > 0.5
    assert (fp.region <= 1).all()  # a static logo is not a content region
    # no overlay: nothing is filled
    plain = fingerprint_query(source_frames(6, 16.0)[: 8 * FPS], frame_rate=FPS)
    assert plain.filled is not None and (plain.filled == plain.hashes).all()
    assert overlay_mask(luma[:2]) is None


def test_keyframes_only_hashes_the_key_frames_alone(
    tmp_path: Path, source_frames: Callable[[int, float], Frames]
) -> None:
    frames = source_frames(1, 16.0)
    path = tmp_path / "gop.mp4"
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        # a key frame every 2 s exactly, nothing else
        stream.options = {"crf": "26", "preset": "ultrafast", "g": str(2 * FPS),
                          "keyint_min": str(2 * FPS), "sc_threshold": "0"}  # fmt: skip
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    keys = fingerprint_video(path, keyframes_only=True, min_quality=0)
    assert keys.frames_decoded == 8
    np.testing.assert_allclose(keys.times, np.arange(0.0, 16.0, 2.0), atol=1e-6)
    full = fingerprint_video(path, sample_fps=None, min_quality=0)
    # the key frames hash exactly like the same frames of a full decode
    same = np.searchsorted(full.times, keys.times)
    assert (hamming(keys.hashes, full.hashes[same]) == 0).all()
    with pytest.raises(FingerprintError, match="needs a file"):
        fingerprint_video(frames[:4], keyframes_only=True)


def test_batches_stay_within_the_memory_bound(
    monkeypatch: pytest.MonkeyPatch, source_frames: Callable[[int, float], Frames]
) -> None:
    from provenance.fingerprint import video

    frames = source_frames(2, 16.0)
    whole = fingerprint_video(frames, frame_rate=FPS, scene_bits=None, remove_bars=False)
    h, w = frames[0].shape[:2]
    # room for 3 frames per batch instead of 32: same hashes, smaller buffers
    monkeypatch.setattr(video, "BATCH_BYTES", 3 * 4 * h * w)
    sizes: list[int] = []
    real = video._hash_batch

    def spy(luma: np.ndarray, *args: object, **kw: object) -> object:
        sizes.append(len(luma))
        return real(luma, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(video, "_hash_batch", spy)
    small = fingerprint_video(frames, frame_rate=FPS, scene_bits=None, remove_bars=False)
    assert max(sizes) == 3 and sum(sizes) == len(small)
    np.testing.assert_array_equal(small.hashes, whole.hashes)
    np.testing.assert_array_equal(small.times, whole.times)


@given(st.integers(0, 255))
def test_limited_range_table_matches_the_formula(v: int) -> None:
    from provenance.fingerprint.video import _LIMITED_TO_FULL

    want = min(max((v - 16.0) * 255.0 / 219.0, 0.0), 255.0)
    assert abs(float(_LIMITED_TO_FULL[v]) - want) < 1e-3


def test_queries_skip_the_central_region_hashes(source_video: Callable[[int], Path]) -> None:
    from provenance.fingerprint import fingerprint_query

    reg = fingerprint_video(source_video(1))
    q = fingerprint_query(source_video(1))
    assert reg.crop is not None and q.crop is None
    # the rest is computed the same way: the registration's frames are among the query's
    assert q.region is not None and q.windows is None and reg.windows is not None
    same = np.isin(np.round(q.times, 6), np.round(reg.times, 6)) & (q.region == 0)
    assert same.sum() == len(reg)
    np.testing.assert_array_equal(q.hashes[same], reg.hashes)
