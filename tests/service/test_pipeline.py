"""The generate and verify flows through the real parts (watermark, fingerprint, screening)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from service.context import Services
from service.media.transforms import transform
from service.pipeline import GenerateRequest, PipelineError, ScreenedOut, generate, verify
from service.store import ScreeningDecisionRow

from .conftest import SMALL


@pytest.fixture
def generated(svc: Services):  # type: ignore[no-untyped-def]
    return generate(
        svc,
        GenerateRequest(prompt="a slow pan across a rainy city", user_id="alice", seed=1, **SMALL),
    )


def test_generate_registers_marks_and_fingerprints(svc: Services, generated) -> None:  # type: ignore[no-untyped-def]
    g = generated.generation
    assert g.status == "complete"
    assert g.user_id == "alice"
    assert [m.kind for m in g.media] == ["video"]
    assert generated.files[0].exists()
    assert generated.video_id == f"gen:{g.mark_hex}"
    assert generated.frames >= 3
    assert svc.registry.by_mark_id(g.mark_id) is not None
    receipt = generated.receipt()
    assert receipt["mark_id"] == g.mark_hex
    assert receipt["screening"]["action"] == "allow"
    assert (svc.settings.media_dir / f"{g.mark_hex}.thumb.jpg").exists()
    with svc.registry.sessions() as s:
        rows = list(s.scalars(select(ScreeningDecisionRow)))
    assert [r.generation_id for r in rows] == [g.id]
    assert "rainy" not in repr([vars(r) for r in rows])  # the prompt text is not stored


def test_verify_original_and_transforms(svc: Services, generated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    g = generated.generation
    src = generated.files[0]
    r = verify(svc, src)
    assert r["verdict"] == "generated"
    assert r["generation"]["mark_id"] == g.mark_hex
    assert r["signals"]["watermark"]["found"]
    assert r["signals"]["watermark"]["payload"] == g.mark_hex
    assert r["signals"]["fingerprint"]["matches"][0]["video_id"] == f"gen:{g.mark_hex}"
    assert r["signals"]["exact_hash"]["matches"] == [g.mark_hex]
    assert "user_id" not in r["generation"]

    reencoded = transform(src, tmp_path / "crf35.mp4", crf=35)
    r = verify(svc, reencoded)
    assert r["verdict"] == "generated"
    assert r["signals"]["exact_hash"]["matches"] == []

    silent = transform(src, tmp_path / "silent.mp4", keep_audio=False)
    r = verify(svc, silent)
    assert r["verdict"] == "generated"
    assert not r["signals"]["watermark"]["checked"]
    assert r["signals"]["fingerprint"]["matches"]

    audio = transform(src, tmp_path / "audio.m4a", keep_video=False)
    r = verify(svc, audio)
    assert r["verdict"] == "generated"
    assert r["signals"]["watermark"]["payload"] == g.mark_hex
    assert not r["signals"]["fingerprint"]["checked"]

    trimmed = transform(src, tmp_path / "trim.mp4", start_s=2.0, duration_s=3.5)
    r = verify(svc, trimmed)
    assert r["verdict"] == "generated"
    m = r["signals"]["fingerprint"]["matches"]
    assert m
    assert abs(m[0]["offset_s"] - 2.0) <= 0.6


def test_unregistered_media_is_not_found(svc: Services, tmp_path: Path) -> None:
    from service.generator import GenerationRequest, ReferenceGenerator
    from service.media.encode import write_mp4

    media = ReferenceGenerator().generate(GenerationRequest("never registered", seed=5, **SMALL))
    assert media.video is not None
    p = tmp_path / "other.mp4"
    write_mp4(p, media.video, media.audio[0])
    r = verify(svc, p)
    assert r["verdict"] == "not_found"
    assert r["generation"] is None
    assert r["signals"]["watermark"]["checked"]
    assert not r["signals"]["watermark"]["found"]


def test_audio_generation(svc: Services) -> None:
    res = generate(
        svc, GenerateRequest(prompt="a calm piano piece", user_id="bob", kind="audio", duration_s=5)
    )
    assert res.files[0].suffix == ".flac"
    r = verify(svc, res.files[0])
    assert r["verdict"] == "generated"
    assert r["generation"]["id"] == res.generation.id


def test_screened_out_generates_nothing(svc: Services) -> None:
    with pytest.raises(ScreenedOut) as exc:
        generate(
            svc,
            GenerateRequest(
                prompt="sing my lyrics in Taylor Swift's exact voice", user_id="eve", **SMALL
            ),
        )
    d = exc.value.decision
    assert d["action"] in ("deny", "review")
    assert d["reasons"]
    assert svc.registry.count() == 0
    with svc.registry.sessions() as s:
        rows = list(s.scalars(select(ScreeningDecisionRow)))
    assert len(rows) == 1
    assert rows[0].generation_id is None
    assert json.loads(rows[0].reasons)
    assert not any(svc.settings.media_dir.glob("*")) if svc.settings.media_dir.exists() else True


def test_failure_midway_leaves_nothing(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> int:
        raise RuntimeError("index disk full")

    monkeypatch.setattr(svc.fingerprints, "add", broken)
    with pytest.raises(PipelineError, match="index disk full"):
        generate(svc, GenerateRequest(prompt="a quiet forest", user_id="carol", seed=3, **SMALL))
    assert svc.registry.count() == 0
    assert not any(v.startswith("gen:") for v in svc.fingerprints.videos())
    leftovers = (
        [p for p in svc.settings.media_dir.iterdir()] if svc.settings.media_dir.exists() else []
    )
    assert leftovers == []


def test_bad_media_is_a_clear_error(svc: Services, tmp_path: Path) -> None:
    from service.media import MediaError

    p = tmp_path / "junk.mp4"
    p.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        verify(svc, p)


def test_failure_after_indexing_removes_index_entries(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.pipeline as pl

    def broken_thumb(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pl, "thumbnail", broken_thumb)
    with pytest.raises(PipelineError):
        generate(svc, GenerateRequest(prompt="a quiet forest", user_id="carol", seed=3, **SMALL))
    assert svc.registry.count() == 0
    assert not any(v.startswith("gen:") for v in svc.fingerprints.videos())


def test_fast_mode_stops_at_the_first_conclusive_signal(
    svc: Services,
    generated,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from service.pipeline import VerifyOptions

    src = generated.files[0]
    fast = verify(svc, src, options=VerifyOptions(mode="fast"))
    assert fast["verdict"] == "generated"
    assert fast["signals"]["exact_hash"]["matches"] == [generated.generation.mark_hex]
    assert "fast mode" in fast["signals"]["watermark"]["reason"]
    assert "fast mode" in fast["signals"]["fingerprint"]["reason"]
    reencoded = transform(src, tmp_path / "r.mp4", crf=30)
    r = verify(svc, reencoded, options=VerifyOptions(mode="fast"))
    assert r["verdict"] == "generated"
    assert r["signals"]["watermark"]["found"]
    assert not r["signals"]["fingerprint"]["checked"]
    silent = transform(src, tmp_path / "s.mp4", keep_audio=False)
    r = verify(svc, silent, options=VerifyOptions(mode="fast"))
    assert r["verdict"] == "generated"
    assert r["signals"]["fingerprint"]["checked"]


def test_long_media_streams_the_watermark_check(
    svc: Services,
    generated,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import service.signals.watermark as wm

    def no_full_decode(*_a: object, **_k: object) -> None:
        raise AssertionError("long media must not be decoded into memory")

    monkeypatch.setattr(wm, "STREAM_AUDIO_AFTER_S", 1.0)
    monkeypatch.setattr(wm, "decode_audio", no_full_decode)
    r = verify(svc, generated.files[0])
    assert r["verdict"] == "generated"
    assert r["signals"]["watermark"]["payload"] == generated.generation.mark_hex


def _mux(video_from: Path, audio_from: Path, out: Path) -> Path:
    """Stream-copy the video of one file and the audio of another into ``out``."""
    import av

    with (
        av.open(str(video_from)) as vin,
        av.open(str(audio_from)) as ain,
        av.open(str(out), "w") as dst,
    ):
        v = dst.add_stream_from_template(vin.streams.video[0])
        a = dst.add_stream_from_template(ain.streams.audio[0])
        for packet in vin.demux(vin.streams.video[0]):
            if packet.dts is not None:
                packet.stream = v
                dst.mux(packet)
        for packet in ain.demux(ain.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = a
                dst.mux(packet)
    return out


def test_auto_mode_confirms_a_marked_video_on_its_key_frames(
    svc: Services,
    generated,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from service.pipeline import VerifyOptions

    g = generated.generation
    # a platform-style re-encode: a key frame every second
    copy = transform(generated.files[0], tmp_path / "copy.mp4", crf=30, keyint=SMALL["fps"])
    auto = verify(svc, copy)
    full = verify(svc, copy, options=VerifyOptions(mode="full"))
    for r in (auto, full):
        assert r["verdict"] == "generated"
        assert r["signals"]["watermark"]["payload"] == g.mark_hex
        assert r["signals"]["fingerprint"]["matches"][0]["video_id"] == f"gen:{g.mark_hex}"
    assert auto["signals"]["fingerprint"]["depth"] == "keyframes"
    assert full["signals"]["fingerprint"]["depth"] == "full"
    assert auto["signals"]["fingerprint"]["frames"] < full["signals"]["fingerprint"]["frames"]
    # no watermark to name a generation: the video gets the full search
    silent = transform(generated.files[0], tmp_path / "silent.mp4", keep_audio=False)
    r = verify(svc, silent)
    assert r["verdict"] == "generated"
    assert r["signals"]["fingerprint"]["depth"] == "full"


def test_auto_mode_searches_in_full_when_the_key_frames_disagree(
    svc: Services,
    generated,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    # generation A's marked soundtrack laid over generation B's video
    other = generate(
        svc, GenerateRequest(prompt="a desert road at dusk", user_id="bob", seed=7, **SMALL)
    )
    swapped = _mux(other.files[0], generated.files[0], tmp_path / "swapped.mp4")
    r = verify(svc, swapped)
    fpd = r["signals"]["fingerprint"]
    assert r["signals"]["watermark"]["payload"] == generated.generation.mark_hex
    assert fpd["depth"] == "full"
    assert fpd["matches"][0]["video_id"] == f"gen:{other.generation.mark_hex}"
    # both tracks are generated, by different generations: the summary says so
    assert r["verdict"] == "generated"
    assert "2 generations" in r["summary"]


def test_unknown_verify_mode_is_refused() -> None:
    from service.pipeline import VerifyOptions

    with pytest.raises(ValueError, match="unknown verify mode"):
        VerifyOptions(mode="quick")


def test_both_watermark_layers_mark_a_generation_and_are_reported(
    svc: Services,
    generated,  # type: ignore[no-untyped-def]
) -> None:
    r = verify(svc, generated.files[0])
    layers = r["signals"]["watermark"]["layers"]
    assert set(layers) == {"high", "robust"}
    assert layers["high"]["found"]
    assert layers["high"]["payload"] == generated.generation.mark_hex
    # the robust layer reads about 37 of 40 clean clips at its default strength (BENCHMARKS.md),
    # and keys and mark ids are random per store: it is reported, and never contradicts
    robust = layers["robust"]
    assert set(robust) >= {"found", "payload", "p_value", "segments", "speed"}
    if robust["payload"] is not None:  # sync alone may be found without a decoded payload
        assert robust["payload"] == generated.generation.mark_hex
