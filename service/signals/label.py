"""The AI-content label signal: the GB 45438-2025 implicit ``AIGC`` label in file metadata.

Generate, ``mark`` (order 5, before the watermark, so the mark covers what is added): the
explicit labels, when the deployment turns them on (``aigc_region = "cn"``, or
``aigc_explicit_audio`` / ``aigc_explicit_video``): the Morse "AI" cue over the start of every
audio track, and an on-screen "AI" for the first ``aigc_video_label_s`` seconds of the video
(:mod:`provenance.labels.explicit`). Off by default.

Generate, ``stamp`` (before the C2PA manifest's, so that its hard binding covers the
label): every written file gets ``{"Label": "1", "ContentProducer": <aigc_content_producer>,
"ProduceID": <generation id>, "ReservedCode1": <MAC>}`` in its format's carrier
(:mod:`provenance.labels.carriers`), the MAC under the deployment's label key.

Verify: the label is read and its ``ReservedCode1`` checked. Claims (all **weak**: a label is
metadata that can be copied onto any file, so it never names a generation on its own):

* ``aigc_label``: a label this deployment made (the MAC checks) declares the file AI-generated
  and names generation ``ProduceID``;
* ``aigc_label_tampered``: a label carries a provkit MAC that does not check (a field was edited);
* ``aigc_label_declared``: some other producer's label declares the file AI-generated (or
  possibly / suspected, by its ``Label``).

No label: outcome ``fail`` with no claim. The evidence is the label's fields and ``integrity``
(``valid`` / ``tampered`` / ``unsigned``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from provenance.labels import SUFFIXES, AigcLabel, LabelError, read_label, write_label
from provenance.labels.explicit import mix_cue, morse_ai_cue, overlay_frames
from service.signals import register
from service.signals.base import Claim, GenerateJob, Signal, SignalResult, Upload, VerifyContext


@register
class AigcLabelSignal(Signal):
    """The GB 45438 implicit label (:mod:`provenance.labels`)."""

    name = "label"
    cost = 25
    generate_order = 5
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "aigc_label": {
            "en": "AIGC label made by this service names generation {produce_id}",
            "zh": "本服务写入的 AIGC 隐式标识指向生成记录 {produce_id}",
        },
        "aigc_label_tampered": {
            "en": "AIGC label was altered: its integrity code does not match",
            "zh": "AIGC 隐式标识被篡改：完整性校验码不符",
        },
        "aigc_label_declared": {
            "en": "AIGC label by {producer} declares the file {meaning}",
            "zh": "{producer} 的 AIGC 隐式标识声明该文件为 {meaning}",
        },
    }

    def mark(self, job: GenerateJob) -> None:
        """Add the explicit labels the deployment asks for (see the module docstring)."""
        s = job.svc.settings
        audio = s.aigc_explicit_audio or s.aigc_region == "cn"
        video = s.aigc_explicit_video or s.aigc_region == "cn"
        if audio:
            job.media.audio = [
                replace(
                    t,
                    samples=mix_cue(t.samples, morse_ai_cue(t.sample_rate, t.samples.shape[1])),
                )
                for t in job.media.audio
            ]
        v, seconds = job.media.video, s.aigc_video_label_s
        if video and v is not None:
            frames = v.frames
            job.media.video = replace(
                v, make_frames=lambda: overlay_frames(frames(), v.fps, seconds)
            )
        if (audio and job.media.audio) or (video and v is not None):
            job.facts[self.name] = {
                "explicit": {
                    "audio_cue": "morse-ai" if audio and job.media.audio else None,
                    "video_seconds": seconds if video and v is not None else None,
                }
            }

    def stamp(self, job: GenerateJob) -> None:
        """Write the sealed label into every generated file."""
        s = job.svc.settings
        explicit = job.facts.get(self.name) or {}
        if not s.aigc_label_enabled:
            job.facts[self.name] = explicit or None
            return
        label = AigcLabel("1", s.aigc_content_producer, str(job.record_id)).sealed(
            job.svc.label_key
        )
        for _kind, p in job.files:
            write_label(p, label)
        job.facts[self.name] = {
            **explicit,
            "carrier": "AIGC",
            "produce_id": label.ProduceID,
            "files": len(job.files),
        }

    def blank(self) -> dict[str, Any]:
        return {"found": False, "label": None, "integrity": None}

    def skip_reason(self, upload: Upload, ctx: VerifyContext) -> str | None:
        suffix = upload.path.suffix.lower()
        return (
            None
            if suffix in SUFFIXES
            else f"no AIGC carrier is defined for {suffix or 'files without a suffix'}"
        )

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        try:
            label = read_label(upload.path)
        except LabelError as exc:
            return self.result("error", reason=str(exc))
        if label is None:
            return self.result("fail", reason="no AIGC label")
        integrity = label.integrity(ctx.svc.label_key)
        view = label.view()
        evidence = {"found": True, "label": view, "integrity": integrity}
        claims = [label_claim(ctx, label, integrity, view["meaning"])]
        return self.result("pass", claims=claims, evidence=evidence)


def label_claim(ctx: VerifyContext, label: AigcLabel, integrity: str, meaning: str) -> Claim:
    """The label's rule (see the module docstring)."""
    if integrity == "tampered":
        return Claim("weak", "aigc_label_tampered")
    if integrity == "valid" and label.ProduceID.isdigit():
        rec = ctx.svc.registry.get(int(label.ProduceID))
        return Claim("weak", "aigc_label", {"produce_id": label.ProduceID}, rec.id if rec else None)
    return Claim(
        "weak", "aigc_label_declared", {"producer": label.ContentProducer, "meaning": meaning}
    )
