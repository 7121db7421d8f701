"""The two flows of ARCHITECTURE.md, composed from the parts.

``generate``: screen the prompt → run the generation core → watermark every audio track with the
record's ``mark_id`` → write the media → fingerprint the video → register the record, its media
hashes and frame hashes. A failure anywhere leaves no record, no index entry and no media file:
nothing unmarked is ever handed out (the delivered file is decoded and checked for its mark).

``verify``: probe and decode an upload (with caps) → watermark detection → fingerprint search →
exact-hash lookup → registry and certificate lookup → one verdict with each signal's evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from provenance.registry import Generation, MediaHash
from provenance.registry.db import transaction
from service.context import Services
from service.generator import AudioTrack, GenerationRequest, write_audio, write_mp4
from service.media import MediaError, MediaInfo, decode_audio, probe
from service.store import ScreeningDecisionRow
from service.verdict import Evidence, Thresholds, decide

if TYPE_CHECKING:
    from provenance.fingerprint import VideoFingerprint

log = logging.getLogger("provkit.pipeline")

GEN_VIDEO_PREFIX = "gen:"
#: How deep :func:`verify` looks (see :class:`VerifyOptions`).
VerifyMode = Literal["auto", "full", "fast"]
VERIFY_MODES: tuple[str, ...] = get_args(VerifyMode)
#: media longer than this is watermark-checked by streaming the file in blocks (bounded memory)
STREAM_AUDIO_AFTER_S = 300.0
TIERS = ("free", "pro", "enterprise")


class PipelineError(RuntimeError):
    """Generation failed after screening; nothing was registered or handed out."""


class ScreenedOut(Exception):
    """The screener refused the prompt (or sent it to review); nothing was generated."""

    def __init__(self, decision: dict[str, Any]) -> None:
        super().__init__(decision.get("action", "deny"))
        self.decision = decision


@dataclass(frozen=True)
class GenerateInput:
    """A generation request as the API and CLI receive it."""

    prompt: str
    user_id: str
    kind: str = "video"
    tier: str = "free"
    duration_s: float = 10.0
    width: int = 640
    height: int = 360
    fps: int = 30
    preset_id: str | None = None
    seed: int | None = None
    audio_format: str = "flac"


@dataclass
class GenerateResult:
    """What a successful generation returns."""

    generation: Generation
    files: list[Path]
    decision: dict[str, Any]
    video_id: str | None = None
    frames: int = 0

    def receipt(self) -> dict[str, Any]:
        """The provenance receipt handed to the caller."""
        g = self.generation
        return {
            "generation_id": g.id,
            "mark_id": g.mark_hex,
            "model": g.model,
            "created_at": g.created_at.isoformat(),
            "disclosure": g.disclosure,
            "media": [{"kind": m.kind, "name": m.name, "sha256": m.sha256} for m in g.media],
            "watermark": {"payload": g.mark_hex, "tracks": len(self.files)},
            "fingerprint": {"video_id": self.video_id, "frames": self.frames}
            if self.video_id
            else None,
            "screening": {
                "action": self.decision["action"],
                "policy_version": self.decision["policy_version"],
            },
        }


def decision_dict(decision: Any) -> dict[str, Any]:
    """A screening :class:`~screening.Decision` as plain JSON-able data."""
    return {
        "action": decision.action,
        "approved": bool(decision.approved),
        "reasons": [
            {
                "code": r.code,
                "message": r.message,
                "span": list(r.span) if getattr(r, "span", None) is not None else None,
            }
            for r in decision.reasons
        ],
        "matched": [{"id": m.id, "name": m.name, "kind": m.kind} for m in decision.matched],
        "suggestion": decision.suggestion,
        "policy_version": decision.policy_version,
    }


def screen(
    svc: Services, prompt: str, tier: str = "free", user_id: str | None = None
) -> dict[str, Any]:
    """Screen a prompt; raises ValueError (from the screener) on bad input."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; choose free, pro or enterprise")
    return decision_dict(svc.screener.screen(prompt, tier=tier, user_id=user_id))


def _audit(svc: Services, inp: GenerateInput, d: dict[str, Any], gen_id: int | None) -> None:
    with transaction(svc.registry.sessions) as s:
        s.add(
            ScreeningDecisionRow(
                created_at=datetime.now(UTC),
                user_id=inp.user_id,
                tier=inp.tier,
                prompt_sha256=hashlib.sha256(inp.prompt.encode("utf-8")).hexdigest(),
                prompt_length=len(inp.prompt),
                action=d["action"],
                reasons=json.dumps([r["code"] for r in d["reasons"]]),
                matched=json.dumps([m["id"] for m in d["matched"]]),
                policy_version=d["policy_version"],
                generation_id=gen_id,
            )
        )


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _payload(mark_id: int) -> bytes:
    return mark_id.to_bytes(8, "big")


def generate(svc: Services, inp: GenerateInput) -> GenerateResult:
    """Screen, generate, mark, fingerprint and register (see the module docstring).

    Raises :class:`ScreenedOut` when the prompt is not approved, ``ValueError`` for a bad request
    and :class:`PipelineError` when a later stage fails (everything is rolled back).
    """
    from provenance.fingerprint import fingerprint_video
    from watermark import detect, embed

    decision = screen(svc, inp.prompt, inp.tier, inp.user_id)
    if not decision["approved"]:
        _audit(svc, inp, decision, None)
        raise ScreenedOut(decision)
    if inp.audio_format not in ("flac", "wav"):
        raise ValueError("audio_format must be flac or wav")
    request = GenerationRequest(
        prompt=inp.prompt,
        kind=inp.kind,  # type: ignore[arg-type]
        duration_s=inp.duration_s,
        width=inp.width,
        height=inp.height,
        fps=inp.fps,
        seed=inp.seed,
        preset_id=inp.preset_id,
    )
    request.validate()
    media = svc.generator.generate(request)
    key = svc.watermark_key
    mark_id = secrets.randbits(64)
    mark_hex = f"{mark_id:016x}"
    work = svc.settings.media_dir / f".work-{secrets.token_hex(8)}"
    final = svc.settings.media_dir / mark_hex
    work.mkdir(parents=True)
    record: Generation | None = None
    video_id: str | None = None
    indexed = False
    try:
        marked = [
            AudioTrack(
                embed(t.samples, t.sample_rate, _payload(mark_id), key), t.sample_rate, t.name
            )
            for t in media.audio
        ]
        files: list[tuple[str, Path]] = []
        fp = None
        if media.video is not None:
            out = work / "video.mp4"
            write_mp4(out, media.video, marked[0] if marked else None)
            files.append(("video", out))
            fp = fingerprint_video(out)
            for i, track in enumerate(marked[1:], start=1):
                p = work / f"track{i}.{inp.audio_format}"
                write_audio(p, track)
                files.append(("audio", p))
        else:
            for i, track in enumerate(marked):
                p = work / (
                    f"audio.{inp.audio_format}" if i == 0 else f"track{i}.{inp.audio_format}"
                )
                write_audio(p, track)
                files.append(("audio", p))
        # nothing unmarked leaves: every delivered file must carry the record's mark
        for _kind, p in files:
            samples, rate = decode_audio(p, svc.limits)
            det = detect(samples, rate, key)
            if not det.found or det.payload != _payload(mark_id):
                raise PipelineError(f"{p.name}: the watermark did not survive writing the file")
        hashes = [MediaHash(kind, p.name, sha256_file(p)) for kind, p in files]
        record = svc.registry.create(
            user_id=inp.user_id,
            model=media.model,
            prompt=inp.prompt,
            preset_id=inp.preset_id,
            media=hashes,
            mark_id=mark_id,
            status="pending",
        )
        frames = 0
        if fp is not None and len(fp) > 0:
            video_id = GEN_VIDEO_PREFIX + mark_hex
            with svc.write_lock:
                frames = svc.fingerprints.add(video_id, fp)
            indexed = True
            _thumbnail(files[0][1], final.with_suffix(".thumb.jpg"))
        work.rename(final)
        svc.registry.set_status(record.id, "complete")
        _audit(svc, inp, decision, record.id)
        gen = svc.registry.get(record.id)
        assert gen is not None
        return GenerateResult(gen, [final / p.name for _, p in files], decision, video_id, frames)
    except BaseException as exc:
        if record is not None:
            svc.registry.delete(record.id)
        if indexed and video_id is not None:
            with svc.write_lock:
                try:
                    svc.fingerprints.remove(video_id)
                except Exception:  # pragma: no cover - reported, the record is gone anyway
                    log.exception("could not remove fingerprints of a failed generation")
        shutil.rmtree(final, ignore_errors=True)
        final.with_suffix(".thumb.jpg").unlink(missing_ok=True)
        if isinstance(exc, ValueError | PipelineError | ScreenedOut):
            raise
        if isinstance(exc, Exception):
            raise PipelineError(f"generation failed ({type(exc).__name__}): {exc}") from exc
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _thumbnail(video: Path, out: Path, width: int = 320) -> None:
    """Save a JPEG of the frame one second in (or the first frame)."""
    import av

    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        chosen = None
        for frame in c.decode(stream):
            chosen = frame
            if frame.time is not None and frame.time >= 1.0:
                break
        if chosen is None:
            return
        h = max(2, round(chosen.height * width / chosen.width / 2) * 2)
        small = chosen.reformat(width=width, height=h, format="yuvj420p")
    with av.open(str(out), "w", format="image2") as o:
        js = o.add_stream("mjpeg", rate=1)
        js.width, js.height, js.pix_fmt = width, h, "yuvj420p"
        small.pts = None
        for packet in js.encode(small):
            o.mux(packet)
        for packet in js.encode():
            o.mux(packet)


def thumbnail_path(svc: Services, video_id: str) -> Path | None:
    """Where a registered video's thumbnail is kept (generated videos only)."""
    if not video_id.startswith(GEN_VIDEO_PREFIX):
        return None
    mark = video_id[len(GEN_VIDEO_PREFIX) :]
    if len(mark) != 16 or any(c not in "0123456789abcdef" for c in mark):
        return None
    p = svc.settings.media_dir / f"{mark}.thumb.jpg"
    return p if p.exists() else None


# --------------------------------------------------------------------------------------------
# verify


@dataclass
class VerifyOptions:
    """Which signals to run, and how deep.

    ``mode``:

    * ``"auto"`` (default): every signal. When the watermark already names a registered
      generation, the video is first checked on its key frames only (a few decoded frames instead
      of every one); a full search follows whenever those do not confirm that same generation's
      video, so disagreeing signals always get the full look.
    * ``"full"``: every signal at full depth (the fingerprint samples ``query_fps`` frames/s).
    * ``"fast"``: stop at the first conclusive signal (cheapest first: exact hash, watermark,
      fingerprint).
    """

    watermark: bool = True
    fingerprint: bool = True
    mode: VerifyMode = "auto"
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        if self.mode not in VERIFY_MODES:
            raise ValueError(f"unknown verify mode {self.mode!r}; use one of {VERIFY_MODES}")

    @property
    def fast(self) -> bool:
        """Whether verification stops at the first conclusive signal."""
        return self.mode == "fast"


def _record_for_video(svc: Services, video_id: str) -> Generation | None:
    if video_id.startswith(GEN_VIDEO_PREFIX):
        try:
            return svc.registry.by_mark_id(int(video_id[len(GEN_VIDEO_PREFIX) :], 16))
        except ValueError:
            return None
    return None


def generation_view(g: Generation, admin: bool) -> dict[str, Any]:
    """A record as callers see it: user id and prompt hash for admins only."""
    out: dict[str, Any] = {
        "id": g.id,
        "mark_id": g.mark_hex,
        "model": g.model,
        "preset_id": g.preset_id,
        "created_at": g.created_at.isoformat(),
        "disclosure": g.disclosure,
        "status": g.status,
        "media": [{"kind": m.kind, "name": m.name, "sha256": m.sha256} for m in g.media],
    }
    if admin:
        out["user_id"] = g.user_id
        out["prompt_sha256"] = g.prompt_sha256
    return out


def certificate_for(svc: Services, gen: Generation) -> dict[str, Any] | None:
    """Summary of the newest certificate minted for a generation, if any."""
    ids = svc.certificates.find(generation_id=str(gen.id), limit=1)
    if not ids:
        return None
    doc = svc.certificates.get(ids[0]).to_dict()
    contribution = doc.get("contribution") or {}
    anchor = doc.get("anchor") or {}
    return {
        "certificate_id": ids[0],
        "issued_at": doc.get("issued_at"),
        "score": contribution.get("score"),
        "profile": contribution.get("profile"),
        "anchor_status": anchor.get("status"),
        "summary": f"human contribution {contribution.get('score')} "
        f"({contribution.get('profile')} rubric), anchor {anchor.get('status')}",
    }


def verify(
    svc: Services,
    path: Path,
    *,
    sha256: str | None = None,
    admin: bool = False,
    options: VerifyOptions | None = None,
    info: MediaInfo | None = None,
) -> dict[str, Any]:
    """Check an upload against every signal; returns the verdict document.

    The default (``mode="auto"``) runs every signal, confirming a watermark-named generation's
    video on key frames before any full search; ``"full"`` always searches at full depth;
    ``"fast"`` runs the signals cheapest first and stops once the verdict is ``generated`` (the
    skipped signals say so). The fingerprint evidence's ``depth`` says which look it got.
    """
    from provenance.fingerprint import FingerprintError, fingerprint_query
    from watermark import detect, detect_file

    opts = options or VerifyOptions()
    info = info or probe(path, svc.limits)  # callers that already probed pass it in
    digest = sha256 or sha256_file(path)
    ev = Evidence()
    exact = svc.registry.by_media_sha256(digest)
    ev.hash_records = [g.id for g in exact]
    skipped = "skipped: an earlier signal was already conclusive (fast mode)"

    def conclusive() -> bool:
        return opts.fast and decide(ev, opts.thresholds).verdict == "generated"

    wm: dict[str, Any] = {"checked": False, "found": False, "payload": None, "p_value": 1.0,
                          "segments": [], "reason": None}  # fmt: skip
    if not opts.watermark:
        wm["reason"] = "not requested"
    elif conclusive():
        wm["reason"] = skipped
    elif not info.has_audio:
        wm["reason"] = "the file has no audio"
    elif info.sample_rate < 44_100:
        wm["reason"] = (
            f"audio at {info.sample_rate} Hz has no band above 20 kHz, where the mark lives"
        )
    else:
        try:
            if info.duration_s > STREAM_AUDIO_AFTER_S:
                det = detect_file(path, svc.watermark_key)
            else:
                samples, rate = decode_audio(path, svc.limits)
                det = detect(samples, rate, svc.watermark_key)
        except MediaError:
            raise
        except ValueError as exc:
            wm["reason"] = str(exc)
        else:
            wm.update(
                checked=True,
                found=bool(det.found),
                payload=det.payload.hex() if det.payload else None,
                p_value=float(det.p_value),
                segments=[[round(a, 3), round(b, 3)] for a, b in det.segments],
            )
            ev.wm_found = bool(det.found)
            ev.wm_p_value = float(det.p_value)
            if det.found and det.payload:
                rec = svc.registry.by_mark_id(int.from_bytes(det.payload, "big"))
                ev.wm_record = rec.id if rec is not None else None
    fpd: dict[str, Any] = {"checked": False, "matches": [], "frames": 0, "depth": None,
                           "reason": None}  # fmt: skip
    if not opts.fingerprint:
        fpd["reason"] = "not requested"
    elif conclusive():
        fpd["reason"] = skipped
    elif not info.has_video:
        fpd["reason"] = "the file has no video"
    else:
        th = opts.thresholds
        named = (
            ev.wm_record
            if opts.mode == "auto" and ev.wm_found and ev.wm_p_value <= th.wm_strong
            else None
        )

        def search(fp: VideoFingerprint) -> list[tuple[dict[str, Any], int | None]]:
            svc.fingerprints.refresh()
            found: list[tuple[dict[str, Any], int | None]] = []
            for m in svc.fingerprints.search(fp) if len(fp) else []:
                md = m.to_dict()
                rec = _record_for_video(svc, m.video_id)
                md["generation_mark_id"] = rec.mark_hex if rec is not None else None
                found.append((md, rec.id if rec is not None else None))
            return found

        def confirms(found: list[tuple[dict[str, Any], int | None]]) -> bool:
            return any(
                rid == named
                and int(md["matched_frames"]) >= th.fp_min_frames
                and float(md["score"]) >= th.fp_strong
                for md, rid in found
            )

        found: list[tuple[dict[str, Any], int | None]] | None = None
        depth = "full"
        try:
            if named is not None:
                # the watermark named a generation: its key frames are enough to confirm it
                keys = fingerprint_query(path, keyframes_only=True)
                found = search(keys)
                fp, depth = keys, "keyframes"
                if not confirms(found):
                    found = None
            if found is None:
                fp = fingerprint_query(path, sample_fps=svc.settings.query_fps)
                found = search(fp)
                depth = "full"
        except FingerprintError as exc:
            fpd["reason"] = str(exc)
        else:
            fpd.update(checked=True, frames=len(fp), depth=depth)
            if len(fp) == 0:
                fpd["reason"] = "no frame of usable quality"
            for md, rid in found:
                fpd["matches"].append(md)
                ev.fp_matches.append({**md, "record": rid})
    verdict = decide(ev, opts.thresholds)
    gen = svc.registry.get(verdict.record_id) if verdict.record_id is not None else None
    return {
        "verdict": verdict.verdict,
        "summary": "; ".join(verdict.reasons),
        "reasons": [r.to_dict() for r in verdict.why],
        "media": {
            "sha256": digest,
            "container": info.container,
            "duration_s": round(info.duration_s, 3),
            "has_audio": info.has_audio,
            "has_video": info.has_video,
            "sample_rate": info.sample_rate or None,
            "width": info.width or None,
            "height": info.height or None,
        },
        "signals": {
            "watermark": wm,
            "fingerprint": fpd,
            "exact_hash": {"matches": [g.mark_hex for g in exact]},
        },
        "generation": generation_view(gen, admin) if gen is not None else None,
        "certificate": certificate_for(svc, gen) if gen is not None else None,
    }


__all__ = [
    "GenerateInput",
    "GenerateResult",
    "PipelineError",
    "ScreenedOut",
    "VerifyOptions",
    "decision_dict",
    "generate",
    "screen",
    "verify",
]
