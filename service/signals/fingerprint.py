"""The video-fingerprint signal: PDQ frame hashes searched in the fingerprint index.

A match of ≥ ``fp_min_frames`` frames with score ≥ ``fp_strong`` on a generated video
(``gen:<mark id>``) is a strong claim on that generation; a shorter match, or one on a registered
video that is not a generation, is weak.

Depth: in ``auto`` mode, when an earlier signal already named a generation with a strong claim
(the watermark, the exact hash), the video is first checked on its **key frames** only (a few
decoded frames instead of every one); the full search follows whenever those do not confirm that
same generation, so disagreeing signals always get the full look. The evidence says which look it
got (``depth``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from service.media import MediaTooLong, OverSyncBudget
from service.signals import register
from service.signals.base import Claim, GenerateJob, Signal, SignalResult, Upload, VerifyContext

if TYPE_CHECKING:
    from provenance.fingerprint import VideoFingerprint
    from service.context import Services
    from service.verdict import Thresholds

#: video ids of generated videos in the index: ``gen:`` + the 16-hex-digit mark id
GEN_VIDEO_PREFIX = "gen:"


def record_for_video(svc: Services, video_id: str) -> Any:
    """The generation behind a generated video's id (None for other registered videos)."""
    if video_id.startswith(GEN_VIDEO_PREFIX):
        try:
            return svc.registry.by_mark_id(int(video_id[len(GEN_VIDEO_PREFIX) :], 16))
        except ValueError:
            return None
    return None


@register
class VideoFingerprintSignal(Signal):
    """PDQ video fingerprints (:mod:`provenance.fingerprint`)."""

    name = "fingerprint"
    cost = 20
    reasons: ClassVar[dict[str, dict[str, str]]] = {
        "fingerprint": {
            "en": "video fingerprint matches {video_id} at offset {offset_s:.1f} s ({frames} frames)",
            "zh": "视频指纹与 {video_id} 匹配，时间偏移 {offset_s:.1f} 秒（{frames} 帧）",
        },
        "fingerprint_not_generation": {
            "en": "video fingerprint matches {video_id}, not a generation",
            "zh": "视频指纹与 {video_id} 匹配，但它不是生成内容",
        },
        "fingerprint_short": {
            "en": "short fingerprint match with {video_id} ({frames} frames)",
            "zh": "与 {video_id} 的指纹匹配过短（{frames} 帧）",
        },
    }

    generate_order = 40

    def blank(self) -> dict[str, Any]:
        return {"checked": False, "matches": [], "frames": 0, "depth": None}

    def enrol(self, job: GenerateJob) -> None:
        """Fingerprint the generated video and register it as ``gen:<mark id>``."""
        from provenance.fingerprint import fingerprint_video

        video = next((p for kind, p in job.files if kind == "video"), None)
        job.facts[self.name] = None
        if video is None:
            return
        fp = fingerprint_video(video)
        if len(fp) == 0:
            return
        svc, video_id = job.svc, GEN_VIDEO_PREFIX + job.mark_hex
        with svc.write_lock:
            frames = svc.fingerprints.add(video_id, fp)
        job.on_undo("its fingerprints", lambda: _remove(svc, video_id))
        job.facts[self.name] = {"video_id": video_id, "frames": frames}

    def skip_reason(self, upload: Upload, ctx: VerifyContext) -> str | None:
        return None if upload.info.has_video else "the file has no video"

    def check(self, upload: Upload, ctx: VerifyContext) -> SignalResult:
        from provenance.fingerprint import DecodeLimitError, FingerprintError, fingerprint_query

        svc = ctx.svc
        budget = ctx.budget_s
        caps: dict[str, Any] = {
            "max_decode_seconds": svc.limits.max_duration_s if budget is None else budget,
            "max_frame_pixels": svc.limits.max_pixels,
        }
        named = ctx.named_records() if ctx.mode == "auto" else set()
        try:
            found = None
            if named:
                fp = fingerprint_query(upload.path, keyframes_only=True, **caps)
                found, depth = self._search(svc, fp, ctx), "keyframes"
                if not any(c.strength == "strong" and c.record_id in named for c in found[1]):
                    found = None
            if found is None:
                fp = fingerprint_query(upload.path, sample_fps=svc.settings.query_fps, **caps)
                found, depth = self._search(svc, fp, ctx), "full"
        except DecodeLimitError as exc:
            if budget is not None and exc.seconds > budget:
                raise OverSyncBudget(budget) from None
            raise MediaTooLong(str(exc), exc.seconds) from None
        except FingerprintError as exc:
            return self.result("error", reason=str(exc))
        matches, claims = found
        evidence = {"checked": True, "matches": matches, "frames": fp.n_frames, "depth": depth}
        reason = "no frame of usable quality" if len(fp) == 0 else None
        return self.result(
            "pass" if claims else "fail", claims=claims, evidence=evidence, reason=reason
        )

    def _search(
        self, svc: Services, fp: VideoFingerprint, ctx: VerifyContext
    ) -> tuple[list[dict[str, Any]], list[Claim]]:
        """The index's matches (as the evidence shows them) and the claims they make."""
        svc.refresh_index()
        matches: list[dict[str, Any]] = []
        claims: list[Claim] = []
        for m in svc.fingerprints.search(fp) if len(fp) else []:
            md = m.to_dict()
            rec = record_for_video(svc, m.video_id)
            md["generation_mark_id"] = rec.mark_hex if rec is not None else None
            matches.append(md)
            claims.append(match_claim(md, rec.id if rec is not None else None, ctx.thresholds))
        return matches, claims


def _remove(svc: Services, video_id: str) -> None:
    with svc.write_lock:
        svc.fingerprints.remove(video_id)


def match_claim(match: dict[str, Any], record_id: int | None, th: Thresholds) -> Claim:
    """The fingerprint's rule for one match (a :meth:`VideoMatch.to_dict`, whose rounded values
    the evidence shows): ≥ ``fp_min_frames`` frames with score ≥ ``fp_strong`` on a generated
    video is a strong claim on it; a shorter match, or one on another video, is weak."""
    frames, video_id = int(match["matched_frames"]), str(match["video_id"])
    if frames < th.fp_min_frames or float(match["score"]) < th.fp_strong:
        return Claim("weak", "fingerprint_short", {"video_id": video_id, "frames": frames})
    if record_id is None:
        return Claim("weak", "fingerprint_not_generation", {"video_id": video_id})
    params = {"video_id": video_id, "offset_s": float(match["offset_s"]), "frames": frames}
    return Claim("strong", "fingerprint", params, record_id)
