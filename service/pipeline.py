"""The two flows of ARCHITECTURE.md, each a short composition of the parts and the signals.

``generate``: screen the prompt → run the generation core → open a pending record with a fresh
``mark_id`` → each signal's ``mark`` phase (the watermark) → write the media → each signal's
``stamp`` phase (labels, manifests) → each signal's ``enrol`` phase (the mark's survival check,
the fingerprint index, the files' hashes) → thumbnail → the record completes. A failure anywhere
undoes every enrolment and leaves no record, no index entry and no media file: nothing unmarked
is ever handed out.

``verify``: probe the upload → each signal that applies checks it, cheapest first → the verdict
folds their claims → one document with each signal's evidence.
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
from typing import Any, Literal, get_args

from sqlalchemy import update

from provenance.registry import Generation
from provenance.registry.db import crash_point, hold_liveness, transaction
from screening.policy import TIERS
from service.context import Services
from service.errors import PipelineError, ScreenedOut
from service.media import MediaInfo, OverSyncBudget, probe
from service.media.encode import thumbnail, write_generation
from service.requests import GenerateRequest
from service.signals import (
    GenerateJob,
    Upload,
    VerifyContext,
    generate_order,
    reason_text,
    registered,
)
from service.signals.exact_hash import sha256_file
from service.signals.fingerprint import GEN_VIDEO_PREFIX
from service.store import ScreeningDecisionRow
from service.verdict import Thresholds, decide
from service.views import certificate_view, generation_view, iso_utc, media_view

log = logging.getLogger("provkit.pipeline")

#: How deep :func:`verify` looks (see :class:`VerifyOptions`).
VerifyMode = Literal["auto", "full", "fast"]
VERIFY_MODES: tuple[str, ...] = get_args(VerifyMode)


@dataclass
class GenerateResult:
    """What a successful generation returns."""

    generation: Generation
    files: list[Path]
    decision: dict[str, Any]
    video_id: str | None = None
    frames: int = 0
    facts: dict[str, Any] = field(default_factory=dict)

    def receipt(self) -> dict[str, Any]:
        """The provenance receipt handed to the caller: the record, its media, and what each
        signal put in (``watermark``, ``fingerprint``, and any newer signal's own entry)."""
        g = self.generation
        return {
            "generation_id": g.id,
            "mark_id": g.mark_hex,
            "model": g.model,
            "created_at": iso_utc(g.created_at),
            "disclosure": g.disclosure,
            "media": [{"kind": m.kind, "name": m.name, "sha256": m.sha256} for m in g.media],
            **self.facts,
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


def generate(svc: Services, inp: GenerateRequest) -> GenerateResult:
    """Screen, generate, then let every signal mark, stamp and enrol it (see the module
    docstring).

    Raises :class:`ScreenedOut` when the prompt is not approved, ``ValueError`` for a bad request
    and :class:`PipelineError` when a later stage fails (everything is rolled back).
    """
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
    mark_id = secrets.randbits(64)
    work = svc.settings.media_dir / f".work-{secrets.token_hex(8)}"
    final = svc.settings.media_dir / f"{mark_id:016x}"
    work.mkdir(parents=True)
    crash_point("generate.work")
    job: GenerateJob | None = None
    try:
        record = svc.registry.create(
            user_id=inp.user_id,
            model=media.model,
            prompt=inp.prompt,
            preset_id=inp.preset_id,
            mark_id=mark_id,
            status="pending",
        )
        job = GenerateJob(svc, inp, record.id, mark_id, media.model, record.created_at, media, work)
        crash_point("generate.pending")
        signals = generate_order()
        for signal in signals:
            signal.mark(job)
        job.files = write_generation(work, job.media, inp.audio_format)
        for signal in signals:
            signal.stamp(job)
        crash_point("generate.files")
        for signal in signals:
            signal.enrol(job)
        crash_point("generate.indexed")
        if job.files and job.files[0][0] == "video":
            thumbnail(job.files[0][1], final.with_suffix(".thumb.jpg"))
            crash_point("generate.thumbnail")
        work.rename(final)
        crash_point("generate.renamed")
        _complete(svc, inp, decision, record.id)
        crash_point("generate.complete")
        gen = svc.registry.get(record.id)
        assert gen is not None
        fp = job.facts.get("fingerprint") or {}
        files = [final / p.name for _, p in job.files]
        return GenerateResult(
            gen, files, decision, fp.get("video_id"), int(fp.get("frames", 0)), job.facts
        )
    except BaseException as exc:
        if job is not None:
            job.undo()
            svc.registry.delete(job.record_id)
        shutil.rmtree(final, ignore_errors=True)
        final.with_suffix(".thumb.jpg").unlink(missing_ok=True)
        if isinstance(exc, ValueError | PipelineError | ScreenedOut):
            raise
        if isinstance(exc, Exception):
            raise PipelineError(f"generation failed ({type(exc).__name__}): {exc}") from exc
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    "sha256_file",
    "verify",
]
