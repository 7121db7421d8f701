"""The signal interface: a new signal is one module, and verify runs it with no other change.

The toy signal below is the whole of such a module: it registers itself, says when it applies,
checks, and makes claims; the verdict, the verdict document and the reason table pick it up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from service.context import Services
from service.errors import PipelineError
from service.pipeline import GenerateRequest, VerifyOptions, generate, verify
from service.signals import (
    Claim,
    GenerateJob,
    Signal,
    SignalResult,
    Upload,
    VerifyContext,
    reason_table,
    register,
    registered,
    unregister,
)


class Loudness(Signal):
    """Toy: flags audio whose peak is above -1 dBFS (a weak hint, never a record)."""

    name = "loudness"
    cost = 5
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "loud": {"en": "peak at {peak:.1f} dBFS", "zh": "峰值 {peak:.1f} dBFS"}
    }
    seen: ClassVar[list[str]] = []

    def blank(self) -> dict[str, Any]:
        return {"peak_dbfs": None}

    def skip_reason(self, upload: Upload, ctx: VerifyContext) -> str | None:
        return None if upload.info.has_audio else "the file has no audio"

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        import soundfile as sf

        samples, _ = sf.read(str(upload.path), dtype="float32")
        peak = float(20 * np.log10(max(float(np.abs(samples).max()), 1e-9)))
        # earlier signals' results are visible: this one runs after the exact hash
        self.seen.extend(r.name for r in ctx.results)
        claims = [Claim("weak", "loud", {"peak": peak})] if peak > -1.0 else []
        return self.result(
            "pass" if claims else "fail", claims=claims, evidence={"peak_dbfs": round(peak, 2)}
        )


@pytest.fixture
def toy() -> Iterator[type[Loudness]]:
    register(Loudness)
    yield Loudness
    unregister(Loudness.name)
    Loudness.seen.clear()


def _wav(path: Path, peak: float) -> Path:
    import soundfile as sf

    t = np.arange(48_000) / 48_000
    sf.write(str(path), (peak * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48_000)
    return path


def test_the_builtin_signals_run_cheapest_first() -> None:
    names = [s.name for s in registered()]
    assert names == ["exact_hash", "watermark", "fingerprint", "label", "c2pa"]


def test_a_toy_signal_takes_one_module(svc: Services, tmp_path: Path, toy: type[Loudness]) -> None:
    assert [s.name for s in registered()][:2] == ["exact_hash", "loudness"]
    loud = verify(svc, _wav(tmp_path / "loud.wav", 0.99))
    assert loud["verdict"] == "inconclusive"
    assert loud["reasons"][0]["code"] == "loud"
    assert loud["summary"].startswith("peak at -0.1 dBFS")
    assert loud["signals"]["loudness"] == {"peak_dbfs": -0.09, "outcome": "pass", "reason": None}
    assert toy.seen == ["exact_hash"]
    quiet = verify(svc, _wav(tmp_path / "quiet.wav", 0.1))
    assert quiet["verdict"] == "not_found"
    assert quiet["signals"]["loudness"]["outcome"] == "fail"
    assert reason_table()["loud"]["zh"] == "峰值 {peak:.1f} dBFS"


def test_skipped_signals_say_why(svc: Services, tmp_path: Path, toy: type[Loudness]) -> None:
    r = verify(
        svc, _wav(tmp_path / "a.wav", 0.99), options=VerifyOptions(skip=frozenset({"loudness"}))
    )
    assert r["signals"]["loudness"] == {
        "peak_dbfs": None,
        "outcome": "skip",
        "reason": "not requested",
    }
    assert r["signals"]["fingerprint"]["outcome"] == "skip"
    assert r["signals"]["fingerprint"]["reason"] == "the file has no video"


def test_a_signal_without_both_languages_is_refused() -> None:
    class Half(Loudness):
        name = "half"
        reasons: ClassVar[dict[str, dict[str, str]]] = {"x": {"en": "only English"}}

    with pytest.raises(ValueError, match="zh"):
        register(Half)
    assert "half" not in [s.name for s in registered()]


# ---------------------------------------------------------------------------------------------
# the generate side: a signal stamps the files and enrols what its check needs, with an undo


class Journal(Signal):
    """Toy: writes a sidecar beside the media, and keeps an outside ledger of generations."""

    name = "journal"
    cost = 99
    generate_order = 60
    ledger: ClassVar[dict[int, str]] = {}
    fail_enrol: ClassVar[bool] = False

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        return self.result("fail")

    def stamp(self, job: GenerateJob) -> None:
        names = [p.name for _, p in job.files]
        (job.work / "journal.json").write_text(json.dumps({"files": names}))

    def enrol(self, job: GenerateJob) -> None:
        self.ledger[job.record_id] = job.mark_hex
        job.on_undo("its ledger entry", lambda: self.ledger.pop(job.record_id))
        job.facts[self.name] = {"entries": len(self.ledger)}
        if self.fail_enrol:
            raise OSError("the ledger's disk is full")


@pytest.fixture
def journal() -> Iterator[type[Journal]]:
    register(Journal)
    yield Journal
    unregister(Journal.name)
    Journal.ledger.clear()
    Journal.fail_enrol = False


SMALL = {"kind": "video", "duration_s": 2.0, "width": 160, "height": 96, "fps": 10}


def test_a_toy_signal_stamps_and_enrols_a_generation(svc: Services, journal: type[Journal]) -> None:
    res = generate(svc, GenerateRequest(prompt="a calm lake", user_id="ann", seed=1, **SMALL))
    folder = res.files[0].parent
    assert json.loads((folder / "journal.json").read_text()) == {"files": ["video.mp4"]}
    assert Journal.ledger == {res.generation.id: res.generation.mark_hex}
    receipt = res.receipt()
    assert receipt["journal"] == {"entries": 1}
    assert receipt["fingerprint"]["frames"] > 0 and receipt["watermark"]["tracks"] == 1


def test_a_failing_enrolment_undoes_every_earlier_one(
    svc: Services, journal: type[Journal]
) -> None:
    journal.fail_enrol = True
    with pytest.raises(PipelineError, match="disk is full"):
        generate(svc, GenerateRequest(prompt="a calm lake", user_id="ann", seed=1, **SMALL))
    assert Journal.ledger == {}
    assert svc.registry.count() == 0
    assert not any(v.startswith("gen:") for v in svc.fingerprints.videos())
    assert list(svc.settings.media_dir.iterdir()) == []
