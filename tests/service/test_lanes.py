"""Per-request timings and queues: a verification never waits behind a generation in the same
worker, and every answer says which worker served it and where its time went."""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from service import pipeline
from service.app import create_app
from service.metrics import timed, worker_id
from service.settings import Settings
from tests.service.conftest import key_headers


def _wav(seconds: float = 1.0, rate: int = 48_000) -> bytes:
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    sf.write(buf, 0.1 * rng.standard_normal((int(seconds * rate), 2)), rate, format="WAV")
    return buf.getvalue()


def _timings(header: str) -> dict[str, float]:
    return {m[0]: float(m[1]) for m in re.findall(r"([\w-]+);dur=([\d.]+)", header)}


def test_verification_does_not_queue_behind_a_generation(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real = pipeline.generate

    def held(svc: Any, inp: Any) -> Any:  # a generation that takes as long as the test wants
        started.set()
        assert release.wait(60)
        return real(svc, inp)

    monkeypatch.setattr(pipeline, "generate", held)
    k = key_headers(client, "generate", "verify")
    body = {"prompt": "rain on a tin roof", "kind": "audio", "duration_s": 2}
    with ThreadPoolExecutor(2) as pool:
        gen = pool.submit(client.post, "/v1/generate", json=body, headers=k)
        try:
            assert started.wait(60)
            detect = pool.submit(
                client.post,
                "/v1/audio/detect",
                files={"file": ("a.wav", _wav(), "audio/wav")},
                headers=k,
            )
            r = detect.result(timeout=60)  # before the change: blocked until `release`
            assert not release.is_set()
            assert r.status_code == 200, r.text
            spent = _timings(r.headers["server-timing"])
            assert spent["queue"] < 1000  # ms: it did not wait for the generation
            assert spent["app"] >= spent["queue"]
        finally:
            release.set()
        g = gen.result(timeout=120)
    assert g.status_code == 201, g.text
    assert "generation-queue" in _timings(g.headers["server-timing"])


def test_answers_name_their_worker_and_index_sync(client: TestClient, tmp_path: Any) -> None:
    from service.media.transforms import transform  # noqa: F401  (ffmpeg present)

    k = key_headers(client, "generate", "verify")
    r = client.post(
        "/v1/screen", json={"prompt": "a narrator voice"}, headers=key_headers(client, "screen")
    )
    assert re.fullmatch(r"[0-9a-f]{8}", r.headers["x-provkit-worker"])
    assert r.headers["x-provkit-worker"] == worker_id()
    assert "app" in _timings(r.headers["server-timing"])
    gen = client.post(
        "/v1/generate",
        json={"prompt": "a paper boat", "duration_s": 2, "width": 160, "height": 96, "fps": 10},
        headers=k,
    )
    assert gen.status_code == 201, gen.text
    video = next(f for f in gen.json()["files"] if f["name"].endswith(".mp4"))
    blob = client.get(video["url"], headers=k).content
    t = client.post("/v1/video/trace", files={"file": ("g.mp4", blob, "video/mp4")}, headers=k)
    assert t.status_code == 200, t.text
    spent = _timings(t.headers["server-timing"])
    assert 0 <= spent["index-sync"] <= spent["app"]
    metrics = client.get("/metrics").text
    assert re.search(r'provkit_index_sync_seconds_count\{outcome="\w+"\} [1-9]', metrics)


def test_timed_outside_a_request_is_a_no_op() -> None:
    with timed("x"):
        pass  # nothing to record into, nothing raised


def test_generations_run_on_lower_priority_threads(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    client = TestClient(create_app(settings.model_copy(update={"generation_nice": 5})))
    seen: dict[str, int] = {}
    real = pipeline.generate

    def spy(svc: Any, inp: Any) -> Any:
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return real(svc, inp)

    monkeypatch.setattr(pipeline, "generate", spy)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    k = key_headers(client, "generate")
    r = client.post(
        "/v1/generate",
        json={"prompt": "rain on a tin roof", "kind": "audio", "duration_s": 2},
        headers=k,
    )
    assert r.status_code == 201, r.text
    assert seen["nice"] == min(19, base + 5)
    # the worker's own threads keep their priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
