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

from sqlalchemy import update

from provenance.registry import Generation, MediaHash
from provenance.registry.db import crash_point, hold_liveness, transaction
from screening.policy import TIERS
from service.context import Services
from service.generator import AudioTrack, write_audio, write_mp4
from service.media import MediaInfo, OverSyncBudget, decode_audio, probe
from service.requests import GenerateRequest
from service.signals import Upload, VerifyContext, reason_text, registered
from service.signals.fingerprint import GEN_VIDEO_PREFIX
from service.store import ScreeningDecisionRow
from service.verdict import Thresholds, decide
from service.views import certificate_view, generation_view, media_view

if TYPE_CHECKING:
    pass

log = logging.getLogger("provkit.pipeline")

#: How deep :func:`verify` looks (see :class:`VerifyOptions`).
VerifyMode = Literal["auto", "full", "fast"]
VERIFY_MODES: tuple[str, ...] = get_args(VerifyMode)


class PipelineError(RuntimeError):
    """Generation failed after screening; nothing was registered or handed out."""


class ScreenedOut(Exception):
    """The screener refused the prompt (or sent it to review); nothing was generated."""

    def __init__(self, decision: dict[str, Any]) -> None:
        super().__init__(decision.get("action", "deny"))
        self.decision = decision


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


def screen(
    svc: Services, prompt: str, tier: str = "free", user_id: str | None = None
) -> dict[str, Any]:
    """Screen a prompt; raises ValueError (from the screener) on bad input."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; choose {', '.join(TIERS)}")
    # the decision's one JSON view (the CLI's ``screen --json`` prints the same)
    return svc.screener.screen(prompt, tier=tier, user_id=user_id).to_dict()


def _audit_row(inp: GenerateRequest, d: dict[str, Any], gen_id: int | None) -> ScreeningDecisionRow:
    return ScreeningDecisionRow(
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


def _audit(svc: Services, inp: GenerateRequest, d: dict[str, Any], gen_id: int | None) -> None:
    with transaction(svc.registry.sessions) as s:
        s.add(_audit_row(inp, d, gen_id))


def _complete(svc: Services, inp: GenerateRequest, d: dict[str, Any], gen_id: int) -> None:
    """Mark a pending record complete and store its screening decision, in one transaction.

    Raises :class:`PipelineError` when the record is no longer pending (crash recovery rolled
    back a generation that outlived its grace period).
    """
    with transaction(svc.registry.sessions) as s:
        res = s.execute(
            update(Generation)
            .where(Generation.id == gen_id, Generation.status == "pending")
            .values(status="complete")
        )
        if getattr(res, "rowcount", 0) != 1:
            raise PipelineError("the generation was rolled back while it was being written")
        s.add(_audit_row(inp, d, gen_id))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _payload(mark_id: int) -> bytes:
    return mark_id.to_bytes(8, "big")


def generate(svc: Services, inp: GenerateRequest) -> GenerateResult:
    """Screen, generate, mark, fingerprint and register (see the module docstring).

    Raises :class:`ScreenedOut` when the prompt is not approved, ``ValueError`` for a bad request
    and :class:`PipelineError` when a later stage fails (everything is rolled back).
    """
    from provenance.fingerprint import fingerprint_video
    from watermark import detect, embed

    if not inp.user_id:
        raise ValueError("a generation needs a user_id")
    decision = screen(svc, inp.prompt, inp.tier, inp.user_id)
    if not decision["approved"]:
        _audit(svc, inp, decision, None)
        raise ScreenedOut(decision)
    request = inp.core_request()
    request.validate()
    # while this process may leave half-written state, it holds the store's liveness lock, so
    # crash recovery elsewhere never mistakes this generation for a dead one (service.recovery)
    hold_liveness(svc.settings.db_url)
    media = svc.generator.generate(request)
    key = svc.watermark_key
    mark_id = secrets.randbits(64)
    mark_hex = f"{mark_id:016x}"
    work = svc.settings.media_dir / f".work-{secrets.token_hex(8)}"
    final = svc.settings.media_dir / mark_hex
    work.mkdir(parents=True)
    crash_point("generate.work")
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
        crash_point("generate.files")
        record = svc.registry.create(
            user_id=inp.user_id,
            model=media.model,
            prompt=inp.prompt,
            preset_id=inp.preset_id,
            media=hashes,
            mark_id=mark_id,
            status="pending",
        )
        crash_point("generate.pending")
        frames = 0
        if fp is not None and len(fp) > 0:
            video_id = GEN_VIDEO_PREFIX + mark_hex
            with svc.write_lock:
                frames = svc.fingerprints.add(video_id, fp)
            indexed = True
            crash_point("generate.indexed")
            _thumbnail(files[0][1], final.with_suffix(".thumb.jpg"))
            crash_point("generate.thumbnail")
        work.rename(final)
        crash_point("generate.renamed")
        _complete(svc, inp, decision, record.id)
        crash_point("generate.complete")
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

    * ``"auto"`` (default): every signal. When an earlier signal already names a registered
      generation, the video is first checked on its key frames only (a few decoded frames instead
      of every one); a full search follows whenever those do not confirm that same generation's
      video, so disagreeing signals always get the full look.
    * ``"full"``: every signal at full depth (the fingerprint samples ``query_fps`` frames/s).
    * ``"fast"``: stop at the first conclusive signal (the signals run cheapest first: exact
      hash, watermark, fingerprint).

    ``skip`` names signals not to run (their evidence says "not requested").
    """

    mode: VerifyMode = "auto"
    thresholds: Thresholds = field(default_factory=Thresholds)
    skip: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.mode not in VERIFY_MODES:
            raise ValueError(f"unknown verify mode {self.mode!r}; use one of {VERIFY_MODES}")


FAST_SKIP = "skipped: an earlier signal was already conclusive (fast mode)"


def verify(
    svc: Services,
    path: Path,
    *,
    sha256: str | None = None,
    admin: bool = False,
    options: VerifyOptions | None = None,
    info: MediaInfo | None = None,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Check an upload against every signal (:mod:`service.signals`) → the verdict document.

    The signals run cheapest first; each says whether it applies, checks, and makes claims
    that :func:`~service.verdict.decide` folds. In ``fast`` mode the loop stops checking once
    the claims make the verdict ``generated``. Decoding is capped on what is decoded; with
    ``budget_s`` (a synchronous request's budget), :class:`OverSyncBudget` is raised as soon as
    more media time than that has been decoded, so the caller can hand the file to a job.
    """
    opts = options or VerifyOptions()
    upload = Upload(path, sha256 or sha256_file(path), info or probe(path, svc.limits))
    ctx = VerifyContext(svc, opts.mode, opts.thresholds, budget_s)
    for signal in registered():
        if signal.name in opts.skip:
            ctx.results.append(signal.skipped("not requested"))
        elif opts.mode == "fast" and decide(ctx.claims()).verdict == "generated":
            ctx.results.append(signal.skipped(FAST_SKIP))
        elif (why := signal.skip_reason(upload, ctx)) is not None:
            ctx.results.append(signal.skipped(why))
        else:
            ctx.results.append(signal.check(upload, ctx))
    verdict = decide(ctx.claims())
    gen = svc.registry.get(verdict.record_id) if verdict.record_id is not None else None
    return {
        "verdict": verdict.verdict,
        "summary": "; ".join(reason_text(r) for r in verdict.why),
        "reasons": [r.to_dict() for r in verdict.why],
        "media": media_view(upload),
        "signals": {r.name: r.view() for r in ctx.results},
        "generation": generation_view(gen, admin) if gen is not None else None,
        "certificate": certificate_view(svc.certificates, gen) if gen is not None else None,
    }


__all__ = [
    "GenerateRequest",
    "GenerateResult",
    "OverSyncBudget",
    "PipelineError",
    "ScreenedOut",
    "VerifyOptions",
    "generate",
    "screen",
    "verify",
]
