"""The audio-watermark signal: the platform's keyed mark, carrying a mark id, in two layers
(above 20 kHz, and the codec-robust layer at 0.5–5 kHz); the evidence shows each layer.

A mark decoded with p ≤ ``wm_strong`` whose payload is a registered ``mark_id`` is a strong claim
on that record; a mark that names no record, or fainter evidence (p ≤ ``wm_weak``), is weak.
Decoding is capped on what is decoded (:func:`detect_mark`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from service.errors import PipelineError
from service.media import MediaError, MediaTooLong, OverSyncBudget, decode_audio
from service.signals import register
from service.signals.base import Claim, GenerateJob, Signal, SignalResult, Upload, VerifyContext
from watermark import DecodeLimitError, Detection, detect, detect_file, embed

if TYPE_CHECKING:
    from service.context import Services
    from service.verdict import Thresholds

#: media longer than this (by the container's word) is watermark-checked by streaming the file
STREAM_AUDIO_AFTER_S = 300.0
#: the lowest rate either layer is read at (the robust layer's 0.5–4 kHz survives 8 kHz audio)
MIN_RATE = 8_000


def detect_mark(
    svc: Services, path: Path, duration_s: float, budget_s: float | None = None
) -> Detection:
    """The platform's watermark in ``path``, decoded with caps on what is decoded.

    Audio is decoded into memory up to ``svc.limits.max_memory_bytes`` (and
    :data:`STREAM_AUDIO_AFTER_S` by the container's word); longer audio is streamed in blocks,
    up to the duration cap. With ``budget_s``, :class:`OverSyncBudget` is raised as soon as more
    than that has been decoded.
    """
    cap = svc.limits.max_duration_s if budget_s is None else budget_s
    if duration_s <= STREAM_AUDIO_AFTER_S:
        try:
            samples, rate = decode_audio(path, svc.limits, max_seconds=budget_s)
        except MediaTooLong as exc:
            if budget_s is not None and exc.seconds > budget_s:
                raise OverSyncBudget(budget_s) from None
            if exc.seconds > svc.limits.max_duration_s:
                raise
            # past the in-memory cap only: stream it
        else:
            return detect(samples, rate, svc.watermark_key)
    try:
        return detect_file(path, svc.watermark_key, max_seconds=cap)
    except DecodeLimitError:
        if budget_s is not None:
            raise OverSyncBudget(budget_s) from None
        raise MediaTooLong(f"audio decodes past the {cap:g} s cap", cap) from None


@register
class AudioWatermark(Signal):
    """The high-band audio watermark (:mod:`watermark`)."""

    name = "watermark"
    cost = 10
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "watermark": {
            "en": "watermark decoded (p={p:.1e}) and points to a registered generation",
            "zh": "解出水印（p={p:.1e}），指向一条已登记的生成记录",
        },
        "watermark_unregistered": {
            "en": "watermark decoded but its payload matches no registered generation",
            "zh": "解出水印，但其载荷不对应任何已登记的生成记录",
        },
        "watermark_weak": {
            "en": "weak watermark evidence (p={p:.1e})",
            "zh": "水印证据较弱（p={p:.1e}）",
        },
    }

    generate_order = 10

    def mark(self, job: GenerateJob) -> None:
        """Mark every audio track with the record's mark id (both layers)."""
        key = job.svc.watermark_key
        job.media.audio = [
            replace(t, samples=embed(t.samples, t.sample_rate, job.payload, key))
            for t in job.media.audio
        ]
        job.facts[self.name] = {"payload": job.mark_hex, "tracks": len(job.media.audio)}

    def enrol(self, job: GenerateJob) -> None:
        """Nothing unmarked leaves: every written file must decode to the record's mark."""
        for _kind, p in job.files:
            samples, rate = decode_audio(p, job.svc.limits)
            det = detect(samples, rate, job.svc.watermark_key)
            if not det.found or det.payload != job.payload:
                raise PipelineError(f"{p.name}: the watermark did not survive writing the file")

    def blank(self) -> dict[str, Any]:
        return {
            "checked": False,
            "found": False,
            "payload": None,
            "p_value": 1.0,
            "segments": [],
            "layers": {},
        }

    def skip_reason(self, upload: Upload, ctx: VerifyContext) -> str | None:
        if not upload.info.has_audio:
            return "the file has no audio"
        if upload.info.sample_rate < MIN_RATE:
            rate = upload.info.sample_rate
            return f"audio at {rate} Hz is below {MIN_RATE} Hz, where no layer of the mark lives"
        return None

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        try:
            det = detect_mark(ctx.svc, upload.path, upload.info.duration_s, ctx.budget_s)
        except MediaError:
            raise
        except ValueError as exc:  # the watermark library's one-line reason
            return self.result("error", reason=str(exc))
        p = float(det.p_value)
        # the detection's one view: the combined result and each layer that ran (found,
        # p-value, payload, segments, the playback speed it found)
        evidence = {"checked": True, **det.to_json()}
        rec = None
        if det.found and det.payload:
            rec = ctx.svc.registry.by_mark_id(int.from_bytes(det.payload, "big"))
        claims = mark_claims(bool(det.found), p, rec.id if rec else None, ctx.thresholds)
        return self.result("pass" if claims else "fail", claims=claims, evidence=evidence)


def mark_claims(found: bool, p: float, record_id: int | None, th: Thresholds) -> list[Claim]:
    """The watermark's rule: a mark with p ≤ ``wm_strong`` naming a record is a strong claim on
    it; naming none, or fainter evidence (found, or p ≤ ``wm_weak``), is weak."""
    if found and p <= th.wm_strong:
        if record_id is not None:
            return [Claim("strong", "watermark", {"p": p}, record_id)]
        return [Claim("weak", "watermark_unregistered")]
    if found or p <= th.wm_weak:
        return [Claim("weak", "watermark_weak", {"p": p})]
    return []
