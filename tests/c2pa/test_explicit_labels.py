"""Explicit labels: the Morse "AI" cue and the on-screen "AI", alone and through generation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from provenance.labels.explicit import MORSE_AI, mix_cue, morse_ai_cue, overlay_ai, overlay_frames

RATE = 48_000


def _bursts(x: np.ndarray, rate: int) -> list[float]:
    """Durations (s) of the tone bursts in a mono signal (5 ms RMS envelope)."""
    win = rate // 200
    env = np.sqrt(np.convolve(x**2, np.ones(win) / win, mode="same"))
    on = env > 0.5 * env.max()
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    return [float(e - s) / rate for s, e in zip(starts, ends, strict=True)]


def test_the_cue_is_morse_ai() -> None:
    cue = morse_ai_cue(RATE, 2, unit_s=0.08)
    assert cue.shape == (round(11 * 0.08 * RATE), 2) and cue.dtype == np.float32
    durations = _bursts(cue[:, 0].astype(np.float64), RATE)
    # dot dash | dot dot, in units of 80 ms
    assert [round(d / 0.08) for d in durations] == [on for on, _ in MORSE_AI]
    assert np.abs(cue).max() <= 0.25 + 1e-6


def test_mixing_keeps_length_and_ducks() -> None:
    track = np.full((RATE * 2, 2), 0.5, np.float32)
    cue = morse_ai_cue(RATE, 2)
    out = mix_cue(track, cue)
    assert out.shape == track.shape
    assert np.allclose(out[len(cue) :], 0.5)  # after the cue: untouched
    assert np.isclose(out[len(cue) - 1, 0], 0.15)  # under the (silent end of the) cue: ducked
    short = mix_cue(track[:100], cue)
    assert short.shape == (100, 2)
    with pytest.raises(ValueError, match="channels"):
        mix_cue(track, morse_ai_cue(RATE, 1))


def test_overlay_is_readable_and_big_enough() -> None:
    frame = np.full((360, 640, 3), 200, np.uint8)
    out = overlay_ai(frame)
    white = np.argwhere((out == 255).all(axis=2))
    height = white[:, 0].max() - white[:, 0].min() + 1
    assert height >= 0.05 * 360
    assert white[:, 1].max() < 640 // 4 and white[:, 0].max() < 360 // 4  # top-left corner
    assert (out[200:, 300:] == frame[200:, 300:]).all()
    with pytest.raises(ValueError, match="too small"):
        overlay_ai(np.zeros((8, 8, 3), np.uint8))


def test_overlay_lasts_the_given_seconds() -> None:
    frames = [np.zeros((90, 160, 3), np.uint8) for _ in range(60)]
    out = list(overlay_frames(iter(frames), fps=15, seconds=2.0))
    changed = [bool((o != f).any()) for o, f in zip(out, frames, strict=True)]
    assert changed == [True] * 30 + [False] * 30


def test_generation_with_chinese_labelling_rules(tmp_path: Path) -> None:
    """aigc_region=cn: the video shows "AI" for 2 s, the audio starts with the cue, and the
    watermark still names the generation."""
    import av

    from service import pipeline
    from service.context import Services
    from service.requests import GenerateRequest
    from service.schema import upgrade
    from service.settings import Settings

    s = Settings(data_dir=tmp_path / "var", aigc_region="cn")
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    svc = Services(s)
    req = GenerateRequest(
        prompt="a slow pan", duration_s=4, width=320, height=180, fps=15, seed=2, user_id="u"
    )
    res = pipeline.generate(svc, req)
    assert res.facts["label"]["explicit"] == {"audio_cue": "morse-ai", "video_seconds": 2.0}
    video = res.files[0]
    with av.open(str(video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    corner = [bool((f[:40, :60] > 240).all(axis=2).sum() > 20) for f in frames]
    assert all(corner[:28]) and not any(corner[32:])
    with av.open(str(video)) as c:
        pcm = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
        rate = c.streams.audio[0].rate
    head = pcm[: int(0.9 * rate)]
    spectrum = np.abs(np.fft.rfft(head))
    freqs = np.fft.rfftfreq(len(head), 1 / rate)
    assert freqs[np.argmax(spectrum[freqs > 200]) + np.argmax(freqs > 200)] == pytest.approx(
        1000, abs=5
    )
    out = pipeline.verify(svc, video)
    assert out["verdict"] == "generated"
    assert out["signals"]["watermark"]["outcome"] == "pass"
