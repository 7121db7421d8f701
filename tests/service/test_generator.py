"""The reference generation core and the Generator plug-in loader."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from service.generator import (
    GenerationRequest,
    Generator,
    GeneratorError,
    ReferenceGenerator,
    load_generator,
)
from service.media import MediaError
from service.media.encode import write_audio, write_mp4


def test_reference_generator_is_deterministic_and_varied() -> None:
    g = ReferenceGenerator()
    a = g.generate(GenerationRequest("rain on a tin roof", kind="audio", duration_s=2))
    b = g.generate(GenerationRequest("rain on a tin roof", kind="audio", duration_s=2))
    c = g.generate(GenerationRequest("birds at dawn", kind="audio", duration_s=2))
    assert a.video is None
    x = a.audio[0].samples
    assert x.shape == (96_000, 2)
    assert x.dtype == np.float32
    assert np.array_equal(x, b.audio[0].samples)
    assert not np.array_equal(x, c.audio[0].samples)
    assert 0.1 < float(np.max(np.abs(x))) <= 1.0


def test_video_frames_move_and_cut() -> None:
    req = GenerationRequest("city", duration_s=4, width=160, height=96, fps=10, seed=7)
    media = ReferenceGenerator(scene_seconds=2).generate(req)
    assert media.video is not None
    frames = np.stack(list(media.video.frames()))
    assert frames.shape == (40, 96, 160, 3)
    assert frames.dtype == np.uint8
    diffs = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert np.all(diffs[:19] > 0.1), "frames within a scene must move"
    assert diffs[19] > 3 * np.median(diffs), "a scene cut is a big change"


def test_mp4_and_audio_files(tmp_path: Path) -> None:
    req = GenerationRequest("x", duration_s=2, width=128, height=72, fps=15)
    media = ReferenceGenerator().generate(req)
    assert media.video is not None
    out = tmp_path / "clip.mp4"
    write_mp4(out, media.video, media.audio[0])
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].rate == 48_000
        n = sum(1 for _ in c.decode(video=0))
    assert n == 30
    wav, flac = tmp_path / "a.wav", tmp_path / "a.flac"
    write_audio(wav, media.audio[0])
    write_audio(flac, media.audio[0])
    data, sr = sf.read(str(flac), dtype="float32")
    assert sr == 48_000
    assert np.max(np.abs(data - media.audio[0].samples)) < 1e-5
    with pytest.raises(MediaError):
        write_audio(tmp_path / "a.mp3", media.audio[0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prompt": "  "},
        {"prompt": "x", "duration_s": 0},
        {"prompt": "x", "duration_s": 10_000},
        {"prompt": "x", "width": 99_999},
        {"prompt": "x", "width": 101},
        {"prompt": "x", "fps": 0},
        {"prompt": "x", "sample_rate": 16_000},
        {"prompt": "x", "kind": "hologram"},
    ],
)
def test_bad_requests(kwargs: dict[str, object]) -> None:
    with pytest.raises(GeneratorError):
        ReferenceGenerator().generate(GenerationRequest(**kwargs))  # type: ignore[arg-type]


@settings(max_examples=15)
@given(
    st.floats(min_value=0.5, max_value=3.0),
    st.sampled_from([44_100, 48_000, 96_000]),
)
def test_audio_length_matches_request(duration: float, rate: int) -> None:
    req = GenerationRequest("p", kind="audio", duration_s=duration, sample_rate=rate)
    track = ReferenceGenerator().generate(req).audio[0]
    assert track.samples.shape[0] == round(duration * rate)
    assert np.isfinite(track.samples).all()


def test_load_generator() -> None:
    g = load_generator("service.generator:ReferenceGenerator")
    assert isinstance(g, Generator)
    for bad in ("nocolon", "no.such.module:X", "service.generator:nothing", "json:dumps"):
        with pytest.raises(GeneratorError):
            load_generator(bad)
