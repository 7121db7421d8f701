"""Capped probing/decoding of untrusted media and safe upload names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from service.generator import GenerationRequest, ReferenceGenerator
from service.media import MediaError, MediaLimits, decode_audio, probe
from service.media.encode import write_mp4
from service.uploads import safe_name


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    media = ReferenceGenerator().generate(
        GenerationRequest("x", duration_s=2, width=128, height=72, fps=10)
    )
    assert media.video is not None
    write_mp4(path, media.video, media.audio[0])
    return path


def test_probe_video(clip: Path) -> None:
    info = probe(clip)
    assert info.has_video
    assert info.has_audio
    assert (info.width, info.height) == (128, 72)
    assert info.sample_rate == 48_000
    assert info.channels == 2
    assert 1.9 < info.duration_s < 2.2


def test_decode_audio_from_mp4_and_wav(clip: Path, tmp_path: Path) -> None:
    samples, rate = decode_audio(clip)
    assert rate == 48_000
    assert samples.dtype == np.float32
    assert samples.shape[1] == 2
    assert abs(samples.shape[0] - 96_000) < 4096
    wav = tmp_path / "a.wav"
    x = (np.random.default_rng(0).standard_normal((4800, 3)) * 0.1).astype(np.float32)
    sf.write(str(wav), x, 44_100, subtype="PCM_16")
    y, r = decode_audio(wav)
    assert r == 44_100
    assert y.shape == (4800, 3)
    assert np.max(np.abs(y - x)) < 1e-3
    info = probe(wav)
    assert info.has_audio
    assert not info.has_video


def test_caps(clip: Path) -> None:
    with pytest.raises(MediaError, match="cap"):
        probe(clip, MediaLimits(max_duration_s=1.0))
    with pytest.raises(MediaError, match="pixel"):
        probe(clip, MediaLimits(max_pixels=100 * 50))
    with pytest.raises(MediaError, match="cap"):
        decode_audio(clip, MediaLimits(max_duration_s=1.0))
    with pytest.raises(MediaError, match="channels"):
        probe(clip, MediaLimits(max_channels=1))


@pytest.mark.parametrize("content", [b"", b"hello world, not media", bytes(range(256)) * 40])
def test_junk_is_a_media_error(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "junk.mp4"
    p.write_bytes(content)
    with pytest.raises(MediaError):
        probe(p)
    with pytest.raises(MediaError):
        decode_audio(p)


def test_truncated_file(clip: Path, tmp_path: Path) -> None:
    p = tmp_path / "cut.mp4"
    p.write_bytes(clip.read_bytes()[:2000])
    with pytest.raises(MediaError):
        decode_audio(p)


@given(st.text(max_size=300))
def test_safe_name_never_escapes(name: str) -> None:
    out = safe_name(name)
    assert out
    assert "/" not in out
    assert "\\" not in out
    assert not out.startswith(".")
    assert len(out) <= 120


def test_safe_name_examples() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\clip.mp4") == "clip.mp4"
    assert safe_name("..") == "upload"
    assert safe_name("my video (1).mp4") == "my_video_1_.mp4"
