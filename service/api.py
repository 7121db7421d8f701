"""API v1: screening, generation, verification, watermark, fingerprints, certificates, jobs.

CPU-heavy work runs in the thread pool, never on the event loop. Uploads stream to disk under a
size cap; media longer than ``sync_verify_max_s`` is verified as a background job (202).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from provenance.registry import Generation, RegistryError, parse_mark_id
from service import pipeline
from service.auth import Principal
from service.context import Services
from service.deps import principal, require
from service.media import MediaError, MediaInfo, OverSyncBudget, decode_audio, probe
from service.pipeline import PipelineError, ScreenedOut
from service.problems import Problem
from service.requests import GenerateRequest, ScreenRequest
from service.responses import (
    BINARY,
    AnchoredOut,
    Certificate,
    CertificateCheckOut,
    DetectionOut,
    GenerationManifestsOut,
    GenerationOut,
    JobOut,
    ReceiptOut,
    RegisteredVideoOut,
    ScreenOut,
    TraceOut,
    VerdictOut,
    responses,
)
from service.signals.c2pa import stored_manifests
from service.signals.watermark import detect_mark
from service.uploads import StoredUpload, UploadTooLarge, save_upload
from service.views import generation_view, job_view

router = APIRouter(prefix="/v1")
T = TypeVar("T")


def services(request: Request) -> Services:
    """The process's composed services."""
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(services)]


async def _spool(svc: Services, upload: UploadFile) -> StoredUpload:
    try:
        return await save_upload(upload, svc.settings.upload_dir, svc.settings.max_body_bytes)
    except UploadTooLarge as exc:
        raise Problem(413, str(exc)) from None
    except ValueError as exc:
        raise Problem(422, str(exc)) from None


async def _heavy(svc: Services, fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy media work off the event loop, at most ``heavy_concurrency`` at once."""

    def run() -> T:
        with svc.heavy:
            return fn(*args)

    return await run_in_threadpool(run)


def _generation(svc: Services, mark_id: str) -> Generation:
    """The record behind a 16-hex-digit mark id: 422 when malformed, 404 when unknown."""
    try:
        mid = parse_mark_id(mark_id)
    except RegistryError as exc:
        raise Problem(422, str(exc)) from None
    gen = svc.registry.by_mark_id(mid)
    if gen is None:
        raise Problem(404, f"no generation with mark id {mark_id.lower()}")
    return gen


def _bad_media(exc: Exception) -> Problem:
    return Problem(422, str(exc), title="Unprocessable media")


@asynccontextmanager
async def _uploaded(svc: Services, file: UploadFile) -> AsyncIterator[StoredUpload]:
    """Spool an upload to disk for the duration of the block; bad media becomes a 422 problem.

    The spooled file is always removed afterwards.
    """
    up = await _spool(svc, file)
    try:
        yield up
    except (MediaError, ValueError) as exc:
        raise _bad_media(exc) from None
    finally:
        up.path.unlink(missing_ok=True)


# -- screening ------------------------------------------------------------------------------


@router.post(
    "/screen",
    tags=["screening"],
    response_model=None,
    responses=responses(
        ScreenOut,
        (422, "body.tier: Value error, unknown tier 'gold'; choose free, pro, enterprise"),
    ),
)
async def screen(
    body: ScreenRequest, svc: Svc, _: Annotated[Principal, Depends(require("screen"))]
) -> JSONResponse:
    """Screen a prompt for voice impersonation: action, reasons, matched identities, suggestion.

    Screening takes well under a millisecond, so it runs inline instead of hopping threads.
    """
    try:
        d = pipeline.screen(svc, body.prompt, body.tier, body.user_id)
    except ValueError as exc:
        raise Problem(422, str(exc)) from None
    svc.metrics.screen_actions.labels(d["action"]).inc()
    return JSONResponse(d)


# -- generation -----------------------------------------------------------------------------


@router.post(
    "/generate",
    tags=["generation"],
    status_code=201,
    response_model=None,
    responses=responses(
        ReceiptOut,
        (
            403,
            "the prompt was not approved: “Taylor Swift” is a real person; imitating their "
            "voice without their consent is not allowed.",
        ),
        (422, "body.width: Input should be less than or equal to 1920"),
        (500, "generation failed (RuntimeError): the generation core stopped"),
        status=201,
        description="The provenance receipt. 403 also when the prompt is refused by screening "
        "(``type`` …/screened-out, with ``action``, ``reasons``, ``matched``, ``suggestion``).",
    ),
)
def generate(
    body: GenerateRequest, svc: Svc, who: Annotated[Principal, Depends(require("generate"))]
) -> dict[str, Any]:
    """Screen the prompt, generate, watermark, fingerprint and register. 403 when screened out."""
    if body.user_id and not who.has("admin"):
        raise Problem(403, "only admin keys may generate on behalf of another user")
    inp = body.model_copy(update={"user_id": body.user_id or f"key:{who.key_id}"})
    try:
        result = svc.run_generation(pipeline.generate, svc, inp)
    except ScreenedOut as exc:
        d = exc.decision
        raise Problem(
            403,
            "the prompt was not approved: " + "; ".join(r["message"] for r in d["reasons"]),
            title="Prompt refused",
            type_="https://provkit.dev/problems/screened-out",
            action=d["action"],
            reasons=d["reasons"],
            matched=d["matched"],
            suggestion=d["suggestion"],
            policy_version=d["policy_version"],
        ) from None
    except ValueError as exc:
        raise Problem(422, str(exc)) from None
    except PipelineError as exc:
        raise Problem(500, str(exc), title="Generation failed") from None
    receipt = result.receipt()
    receipt["files"] = [
        {"name": p.name, "url": f"/v1/generations/{receipt['mark_id']}/media/{p.name}"}
        for p in result.files
    ]
    return receipt


@router.get(
    "/generations/{mark_id}",
    tags=["registry"],
    responses=responses(
        None,
        (404, "no generation with mark id 00000000000000ff"),
        (422, "mark id must be 16 hex digits"),
    ),
)
def get_generation(
    mark_id: str, svc: Svc, who: Annotated[Principal, Depends(require("verify"))]
) -> GenerationOut:
    """A generation record by its 16-hex-digit mark id. User ids are shown to admin keys only."""
    gen = _generation(svc, mark_id)
    return GenerationOut.model_validate(generation_view(gen, who.has("admin")))


@router.get(
    "/generations/{mark_id}/manifest",
    tags=["c2pa"],
    response_model=None,
    responses=responses(
        GenerationManifestsOut,
        (404, "no C2PA manifest is kept for this generation"),
        (422, "mark id must be 16 hex digits"),
    ),
)
def generation_manifest(
    mark_id: str, svc: Svc, _: Annotated[Principal, Depends(require("verify"))]
) -> dict[str, Any]:
    """The C2PA manifests signed into a generation's files, as read back from the stored copies
    (each also served as ``application/c2pa`` by ``GET /v1/manifests/{manifestId}``)."""
    gen = _generation(svc, mark_id)
    stored = stored_manifests(svc, gen.mark_hex)
    if not stored:
        raise Problem(404, "no C2PA manifest is kept for this generation")
    reader = svc.manifest_reader
    return {
        "mark_id": gen.mark_hex,
        "manifests": [
            {**reader.read_store(p.read_bytes()).to_dict(), "url": f"/v1/manifests/{mid}"}
            for mid, p in stored
        ],
    }


@router.get(
    "/generations/{mark_id}/media/{name}",
    tags=["generation"],
    response_class=Response,
    responses=responses(
        {"audio/flac": BINARY, "audio/wav": BINARY, "video/mp4": BINARY},
        (404, "no such generated file"),
        description="The file as generated (watermarked, labelled, signed).",
    ),
)
def media_file(
    mark_id: str, name: str, svc: Svc, _: Annotated[Principal, Depends(require("generate"))]
) -> FileResponse:
    """Download a generated (watermarked) media file."""
    gen = _generation(svc, mark_id)
    if name not in {m.name for m in gen.media}:
        raise Problem(404, "no such generated file")
    path = svc.settings.media_dir / gen.mark_hex / name
    if not path.is_file():
        raise Problem(404, "the file is no longer kept")
    return FileResponse(path, filename=name)


# -- verification ---------------------------------------------------------------------------


@router.post(
    "/verify",
    tags=["verification"],
    response_model=None,
    responses={
        **responses(VerdictOut, description="The verdict."),
        **responses(JobOut, status=202, description="Long media: a job to poll at its Location."),
        **responses(None, (422, "not a decodable audio or video file (InvalidDataError)")),
    },
)
async def verify(
    svc: Svc,
    who: Annotated[Principal, Depends(require("verify"))],
    file: Annotated[UploadFile, File(description="Any audio or video file.")],
    mode: Annotated[
        pipeline.VerifyMode,
        Query(
            description="auto: every signal; a video whose watermark already names a "
            "registered generation is confirmed on its key frames, and searched in full only "
            "if they disagree. full: every signal at full depth. fast: stop at the first "
            "conclusive signal."
        ),
    ] = "auto",
) -> Response:
    """Verify an upload: watermark, fingerprint and hash evidence → one verdict.

    Media longer than the synchronous limit returns 202 with a job to poll at ``/v1/jobs/{id}``.
    """
    up = await _spool(svc, file)
    admin = who.has("admin")
    try:
        info = await run_in_threadpool(probe, up.path, svc.limits)
    except MediaError as exc:
        up.path.unlink(missing_ok=True)
        raise _bad_media(exc) from None
    budget = svc.settings.sync_verify_max_s
    if info.duration_s <= budget:
        # the container's word is not trusted: decoding stops at the budget, and the file
        # becomes a job as soon as it decodes to more
        try:
            result = await run_in_threadpool(_verify_result, svc, up, admin, mode, info, budget)
        except OverSyncBudget:
            pass
        except (MediaError, ValueError) as exc:
            up.path.unlink(missing_ok=True)
            raise _bad_media(exc) from None
        except BaseException:
            up.path.unlink(missing_ok=True)
            raise
        else:
            up.path.unlink(missing_ok=True)
            return JSONResponse(result)
    job, _fut = svc.jobs.submit(
        "verify",
        lambda: _verify_result(svc, up, admin, mode, info),
        owner_key_id=who.key_id,
        cleanup=lambda: up.path.unlink(missing_ok=True),
    )
    return JSONResponse(
        job_view(svc.jobs.get(job.id) or job),
        status_code=202,
        headers={"Location": f"/v1/jobs/{job.id}"},
    )


def _verify_result(
    svc: Services,
    up: StoredUpload,
    admin: bool,
    mode: pipeline.VerifyMode,
    info: MediaInfo,
    budget_s: float | None = None,
) -> dict[str, Any]:
    with svc.heavy:
        result = pipeline.verify(
            svc,
            up.path,
            sha256=up.sha256,
            admin=admin,
            options=pipeline.VerifyOptions(mode=mode),
            info=info,
            budget_s=budget_s,
        )
    svc.metrics.verdicts.labels(result["verdict"]).inc()
    return result


@router.get(
    "/jobs/{job_id}",
    tags=["verification"],
    response_model=None,
    responses=responses(
        JobOut, (404, "no job '5f0c3c1a9b1e4d0e8e5b8c2a7d9f6e31'"), description="The job."
    ),
)
def get_job(job_id: str, svc: Svc, who: Annotated[Principal, Depends(principal)]) -> dict[str, Any]:
    """A background job: ``queued``, ``running``, ``done`` (with its result) or ``failed``."""
    job = svc.jobs.get(job_id[:32])
    if job is None or (job.owner_key_id != who.key_id and not who.has("admin")):
        raise Problem(404, f"no job {job_id[:32]!r}")
    return job_view(job)


# -- audio watermark ------------------------------------------------------------------------


@router.post(
    "/audio/watermark",
    tags=["watermark"],
    response_class=Response,
    responses=responses(
        {"audio/flac": BINARY, "audio/wav": BINARY},
        (422, "not a decodable audio or video file (InvalidDataError)"),
        description="The marked audio (24-bit), as an attachment.",
    ),
)
async def audio_watermark(
    svc: Svc,
    _: Annotated[Principal, Depends(require("generate"))],
    file: Annotated[
        UploadFile, File(description="Audio at 16 kHz or more (the high band needs 44.1 kHz).")
    ],
    payload: Annotated[str, Form(pattern=r"^[0-9a-fA-F]{16}$", description="16 hex digits")],
    format: Annotated[Literal["flac", "wav"], Form()] = "flac",
) -> Response:
    """Embed the platform's watermark carrying ``payload``; returns the marked audio file."""
    import soundfile as sf

    from watermark import embed

    async with _uploaded(svc, file) as up:
        samples, rate = await _heavy(svc, decode_audio, up.path, svc.limits)
        marked = await _heavy(svc, embed, samples, rate, bytes.fromhex(payload), svc.watermark_key)
        out = up.path.with_suffix(f".marked.{format}")
        try:
            await run_in_threadpool(
                lambda: sf.write(str(out), marked, rate, subtype="PCM_24", format=format.upper())
            )
            data = out.read_bytes()
        finally:
            out.unlink(missing_ok=True)
    media = "audio/flac" if format == "flac" else "audio/wav"
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="marked.{format}"'},
    )


@router.post(
    "/audio/detect",
    tags=["watermark"],
    response_model=None,
    responses=responses(
        DetectionOut, (422, "not a decodable audio or video file (InvalidDataError)")
    ),
)
async def audio_detect(
    svc: Svc,
    _: Annotated[Principal, Depends(require("verify"))],
    file: Annotated[UploadFile, File(description="Any audio (or video with audio).")],
) -> dict[str, Any]:
    """Detect the platform's watermark: found, payload, p-value, marked segments and each
    layer's own result (``layers``)."""
    async with _uploaded(svc, file) as up:
        info = await run_in_threadpool(probe, up.path, svc.limits)
        det = await _heavy(svc, detect_mark, svc, up.path, info.duration_s)
    return det.to_json()


# -- video fingerprints ---------------------------------------------------------------------


@router.post(
    "/video/fingerprints",
    tags=["fingerprint"],
    status_code=201,
    response_model=None,
    responses=responses(
        RegisteredVideoOut,
        (422, "no frame of the video has usable quality"),
        status=201,
        description="Registered.",
    ),
)
async def register_video(
    svc: Svc,
    _: Annotated[Principal, Depends(require("generate"))],
    file: Annotated[UploadFile, File(description="A video to register.")],
    video_id: Annotated[str, Form(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:\-]+$")],
) -> dict[str, Any]:
    """Register an existing video's fingerprint under ``video_id``."""
    from provenance.fingerprint import fingerprint_video

    if video_id.startswith(pipeline.GEN_VIDEO_PREFIX):
        raise Problem(422, f"ids starting with {pipeline.GEN_VIDEO_PREFIX!r} are reserved")
    async with _uploaded(svc, file) as up:
        await run_in_threadpool(probe, up.path, svc.limits)
        fp = await _heavy(
            svc,
            partial(
                fingerprint_video,
                max_decode_seconds=svc.limits.max_duration_s,
                max_frame_pixels=svc.limits.max_pixels,
            ),
            up.path,
        )
        if len(fp) == 0:
            raise Problem(422, "no frame of the video has usable quality")

        def add() -> int:
            with svc.write_lock:
                return svc.fingerprints.add(video_id, fp)

        frames = await run_in_threadpool(add)
    return {"video_id": video_id, "frames": frames, "duration_s": fp.duration}


@router.post(
    "/video/trace",
    tags=["fingerprint"],
    response_model=None,
    responses=responses(
        TraceOut,
        (
            422,
            "the video decodes to more than 60 s; /v1/verify checks longer media as a "
            "background job",
        ),
    ),
)
async def trace_video(
    svc: Svc,
    _: Annotated[Principal, Depends(require("verify"))],
    file: Annotated[UploadFile, File(description="A video to trace.")],
) -> dict[str, Any]:
    """Find the registered sources of a video, with time offsets and ranges.

    Traced within the request: a video that decodes to more than the synchronous limit
    (``sync_verify_max_s``) is refused with 422; ``/v1/verify`` runs such media as a job.
    """
    from provenance.fingerprint import DecodeLimitError, fingerprint_query

    budget = svc.settings.sync_verify_max_s
    async with _uploaded(svc, file) as up:
        await run_in_threadpool(probe, up.path, svc.limits)
        query = partial(
            fingerprint_query,
            sample_fps=svc.settings.query_fps,
            max_decode_seconds=min(budget, svc.limits.max_duration_s),
            max_frame_pixels=svc.limits.max_pixels,
        )
        try:
            fp = await _heavy(svc, query, up.path)
        except DecodeLimitError as exc:
            if exc.seconds > budget:
                raise _bad_media(
                    ValueError(f"{exc}; /v1/verify checks longer media as a background job")
                ) from None
            raise

        def search() -> list[Any]:
            svc.refresh_index()
            return svc.fingerprints.search(fp)

        matches = await run_in_threadpool(search)
    return {"frames": len(fp), "matches": [m.to_dict() for m in matches]}


@router.delete(
    "/videos/{video_id}",
    tags=["fingerprint"],
    status_code=204,
    responses=responses(None, (404, "no registered video 'clip-1'")),
)
def delete_video(
    video_id: str, svc: Svc, _: Annotated[Principal, Depends(require("admin"))]
) -> None:
    """Remove a registered video from search."""
    from provenance.fingerprint import FingerprintError

    try:
        with svc.write_lock:
            svc.fingerprints.remove(video_id)
    except FingerprintError:
        raise Problem(404, f"no registered video {video_id[:200]!r}") from None


@router.get(
    "/videos/{video_id}/thumbnail",
    tags=["fingerprint"],
    response_class=Response,
    responses=responses(
        {"image/jpeg": BINARY},
        (404, "no thumbnail for this video"),
        description="A JPEG thumbnail.",
    ),
)
def video_thumbnail(
    video_id: str, svc: Svc, _: Annotated[Principal, Depends(require("verify"))]
) -> FileResponse:
    """A JPEG thumbnail of a generated video."""
    path = pipeline.thumbnail_path(svc, video_id)
    if path is None:
        raise Problem(404, "no thumbnail for this video")
    return FileResponse(path, media_type="image/jpeg")


# -- certificates ---------------------------------------------------------------------------


class MintIn(BaseModel):
    mark_id: str = Field(pattern=r"^[0-9a-fA-F]{16}$", description="The generation's mark id.")
    actions: list[dict[str, Any]] = Field(max_length=10_000)
    profile: Literal["default", "seed"] = "default"
    media_name: str | None = Field(None, description="Which media file (default: the first).")


@router.post(
    "/certificates",
    tags=["certificates"],
    status_code=201,
    response_model=None,
    responses=responses(
        Certificate,
        (404, "no generation with mark id 00000000000000ff"),
        (409, "generation 3a0eebd79a608022 is 'pending', not complete"),
        (422, "invalid action log: actions.0.id: Field required"),
        status=201,
        description="The signed certificate (its anchor ``pending`` until its batch is on chain).",
    ),
)
def mint_certificate(
    body: MintIn, svc: Svc, _: Annotated[Principal, Depends(require("mint"))]
) -> dict[str, Any]:
    """Mint a signed human-contribution certificate for a generation from an action log, scored
    with the given ``profile`` rubric. 409 when the generation is not ``complete``."""
    from provenance.certificate import GenerationRecord, RecordStateError, mint

    gen = _generation(svc, body.mark_id)
    if gen.status != "complete":
        raise Problem(409, f"generation {gen.mark_hex} is {gen.status!r}, not complete")
    media = [m for m in gen.media if body.media_name in (None, m.name)]
    if not media:
        raise Problem(422, f"the generation has no media named {body.media_name!r}")
    ref = (
        (pipeline.GEN_VIDEO_PREFIX + gen.mark_hex)
        if any(m.kind == "video" for m in gen.media)
        else None
    )
    record = GenerationRecord.from_registry(gen, fingerprint_ref=ref).model_copy(
        update={"content_sha256": media[0].sha256}
    )
    try:
        cert = mint(record, body.actions, svc.signer, profile=body.profile, store=svc.certificates)
    except RecordStateError as exc:
        raise Problem(409, str(exc)) from None
    except ValueError as exc:
        raise Problem(422, _printable(str(exc))) from None
    return cert.to_dict()


_CERT_ID = re.compile(r"^[0-9a-f]{32}$")


def _printable(text: str) -> str:
    """Text safe to encode as UTF-8 (a lone surrogate quoted back from the input is escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:500]


def _stored_certificate(svc: Services, cert_id: str, status: int = 404) -> dict[str, Any]:
    """A stored certificate's JSON; ``status`` (404, or 422 for a body field) when the id is not
    32 hex digits, 404 when no such certificate is stored."""
    if not _CERT_ID.match(cert_id):
        raise Problem(status, "a certificate id is 32 lowercase hex digits")
    try:
        return svc.certificates.get(cert_id).to_dict()
    except ValueError:
        raise Problem(404, f"no certificate {cert_id}") from None


@router.get(
    "/certificates/{cert_id}",
    tags=["certificates"],
    response_model=None,
    responses=responses(Certificate, (404, "no certificate 9b0f3e8c2d4a4f61b7e5a1c3d2f08e47")),
)
def get_certificate(
    cert_id: str, svc: Svc, _: Annotated[Principal, Depends(principal)]
) -> dict[str, Any]:
    """A certificate with its current anchor block (``pending`` until its batch is on chain)."""
    return _stored_certificate(svc, cert_id)


class CertVerifyIn(BaseModel):
    certificate: dict[str, Any] | None = Field(None, description="The certificate JSON.")
    certificate_id: str | None = Field(None, max_length=64, description="Or a stored one's id.")


@router.post(
    "/certificates/verify",
    tags=["certificates"],
    response_model=None,
    responses=responses(
        CertificateCheckOut,
        (404, "no certificate 9b0f3e8c2d4a4f61b7e5a1c3d2f08e47"),
        (422, "give exactly one of certificate or certificate_id"),
        (503, "the anchoring chain is unavailable: connection refused"),
        description="Every check and its outcome; an invalid certificate is a 200 too.",
    ),
)
def verify_certificate_route(
    body: CertVerifyIn, svc: Svc, _: Annotated[Principal, Depends(require("verify"))]
) -> dict[str, Any]:
    """Verify a certificate: each check (schema, key id, trusted issuer, signature, proof, chain,
    batch) and its outcome. The issuer must be this service's key; the anchor is read back from
    the service's chain and compared with the store."""
    from provenance.certificate import ChainError, verify_certificate

    if (body.certificate is None) == (body.certificate_id is None):
        raise Problem(422, "give exactly one of certificate or certificate_id")
    doc: Any = body.certificate
    if body.certificate_id is not None:
        doc = _stored_certificate(svc, body.certificate_id, status=422)
    try:
        text = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # e.g. a lone surrogate "\ud800" in certificate.id
        raise Problem(422, "the certificate holds text that is not valid Unicode") from None
    try:
        chain = svc.chain
    except ChainError as exc:
        raise Problem(503, f"the anchoring chain is unavailable: {exc}") from None
    try:
        check = verify_certificate(text, chain=chain, keyring=svc.keyring, store=svc.certificates)
    except ValueError as exc:
        raise Problem(422, _printable(str(exc))) from None
    return check.to_dict()


@router.post(
    "/certificates/anchor",
    tags=["certificates"],
    response_model=None,
    responses=responses(AnchoredOut),
)
def anchor_certificates(
    svc: Svc, _: Annotated[Principal, Depends(require("admin"))]
) -> dict[str, Any]:
    """Close pending batches and anchor them (admin)."""
    with svc.write_lock:
        svc.certificates.close_batches(force=True)
        done = svc.certificates.anchor_batches(svc.chain)
    return {
        "anchored": [
            {"batch": b.id, "size": b.size, "tx_hash": b.tx_hash, "block_number": b.block_number}
            for b in done
        ]
    }
