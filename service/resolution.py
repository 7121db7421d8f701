"""The C2PA Soft Binding Resolution API, backed by the watermark, the fingerprint index and the
stored manifests.

Routes (the specification's OpenAPI 3.0.3 document, "C2PA Soft Binding Resolution API"; the
service's base endpoint is ``<server>/v1``, as in the specification's own ``servers`` example):

* ``GET /matches/byBinding?alg=&value=&maxResults=`` and ``POST /matches/byBinding`` (body
  ``{"alg", "value"}``): manifests whose soft binding matches a value (base64). For
  ``org.provkit.audio-wm.1`` the value is a mark id: every manifest of that generation. For
  ``org.provkit.pdq.1`` it is one frame's PDQ hash, searched in the fingerprint index: the
  manifests of the matching generated videos.
* ``POST /matches/byContent?alg=&maxResults=``: the asset itself as the body (its own media
  type, per the specification, or ``multipart/form-data`` with a ``file`` field); the watermark
  is decoded from its audio and its video is fingerprinted (``alg`` picks one).
* ``GET /manifests/{manifestId}``: the stored manifest store (``application/c2pa``). Each store
  holds one manifest, so ``returnActiveManifest`` returns the same bytes.
* ``GET /services/supportedAlgorithms``: ``{"watermarks": [...], "fingerprints": [...]}``.

Answers: ``{"matches": [{"manifestId", "similarityScore"}]}`` (no ``endpoint``: the manifests
are served here). The specification protects the query routes with the ``fetch:manifests`` OAuth
scope; provkit maps it to the ``verify`` scope of its API keys.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from provenance.c2pa import ALGORITHMS, PDQ_ALG, WATERMARK_ALG, ManifestError, decode_value
from provenance.c2pa.manifest import mark_of_manifest_id
from service.auth import Principal
from service.context import Services
from service.deps import require
from service.media import MediaError, MediaTooLong, probe
from service.problems import Problem
from service.responses import BINARY, responses
from service.signals.c2pa import stored_manifests
from service.signals.fingerprint import record_for_video
from service.signals.watermark import detect_mark

router = APIRouter(prefix="/v1", tags=["c2pa"])
C2PA_MEDIA_TYPE = "application/c2pa"
#: asset media types → a suffix the decoders take as a hint
SUFFIX = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/flac": ".flac",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


def services(request: Request) -> Services:
    """The process's composed services."""
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(services)]
Fetcher = Annotated[Principal, Depends(require("verify"))]
MaxResults = Annotated[int, Query(alias="maxResults", ge=1, le=100)]


class Match(BaseModel):
    """One matched manifest (``c2pa.softBindingQueryResult`` item)."""

    manifestId: str
    similarityScore: int = Field(ge=0, le=100)
    endpoint: str | None = None


class Matches(BaseModel):
    """``c2pa.softBindingQueryResult``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "matches": [
                        {
                            "manifestId": "urn:c2pa:3a0eebd7-9a60-4802-825a-44db20c2ccb6",
                            "similarityScore": 100,
                        }
                    ]
                }
            ]
        }
    )

    matches: list[Match]


class BindingQuery(BaseModel):
    """``c2pa.softBindingQuery``: an algorithm and a base64 value."""

    alg: str = Field(max_length=200)
    value: str = Field(max_length=4096)


class AlgEntry(BaseModel):
    """One supported algorithm."""

    alg: str


class AlgList(BaseModel):
    """``c2pa.softBindingAlgList``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "watermarks": [{"alg": "org.provkit.audio-wm.1"}],
                    "fingerprints": [{"alg": "org.provkit.pdq.1"}],
                }
            ]
        }
    )

    watermarks: list[AlgEntry]
    fingerprints: list[AlgEntry]


def _generation_matches(
    svc: Services, mark_hex: str, score: int, kinds: set[str] | None = None
) -> list[Match]:
    gen = svc.registry.by_mark_id(int(mark_hex, 16))
    if gen is None:
        return []
    names = {m.name for m in gen.media if kinds is None or m.kind in kinds}
    return [
        Match(manifestId=mid, similarityScore=score)
        for mid, p in stored_manifests(svc, mark_hex)
        if p.name.removesuffix(".c2pa") in names
    ]


def _by_pdq(svc: Services, hashes: Any, times: Any, limit: int) -> list[Match]:
    import numpy as np

    from provenance.fingerprint import VideoFingerprint

    fp = VideoFingerprint(
        np.asarray(hashes, np.uint8),
        np.asarray(times, np.float64),
        np.full(len(hashes), 100, np.int32),
    )
    svc.refresh_index()
    out: list[Match] = []
    for vm in svc.fingerprints.search(fp, min_frames=1, max_results=limit):
        rec = record_for_video(svc, vm.video_id)
        if rec is not None:
            score = round(100 * min(1.0, float(vm.score)))
            out += _generation_matches(svc, rec.mark_hex, score, {"video"})
    return out


def resolve_binding(svc: Services, alg: str, value: str, limit: int) -> list[Match]:
    """Manifests matching one soft-binding value (400 problem when malformed)."""
    try:
        raw = decode_value(alg, value)
    except ManifestError as exc:
        raise Problem(400, str(exc)) from None
    if alg == WATERMARK_ALG:
        found = _generation_matches(svc, raw.hex(), 100)
    else:
        import numpy as np

        found = _by_pdq(svc, np.frombuffer(raw, np.uint8).reshape(1, 32), [0.0], limit)
    return found[:limit]


def resolve_content(svc: Services, path: Path, alg: str | None, limit: int) -> list[Match]:
    """Manifests of the generations an asset's watermark or fingerprint leads to."""
    info = probe(path, svc.limits)
    found: list[Match] = []
    if alg in (None, WATERMARK_ALG) and info.has_audio:
        det = detect_mark(svc, path, info.duration_s)
        if det.found and det.payload:
            found += _generation_matches(svc, det.payload.hex(), 100)
    if alg in (None, PDQ_ALG) and info.has_video:
        from provenance.fingerprint import fingerprint_query

        fp = fingerprint_query(
            path,
            sample_fps=svc.settings.query_fps,
            max_decode_seconds=svc.limits.max_duration_s,
            max_frame_pixels=svc.limits.max_pixels,
        )
        if len(fp):
            svc.refresh_index()
            for vm in svc.fingerprints.search(fp, max_results=limit):
                rec = record_for_video(svc, vm.video_id)
                if rec is not None:
                    score = round(100 * min(1.0, float(vm.score)))
                    found += _generation_matches(svc, rec.mark_hex, score, {"video"})
    seen: dict[str, Match] = {}
    for m in found:  # one entry per manifest, its best score
        if m.manifestId not in seen or seen[m.manifestId].similarityScore < m.similarityScore:
            seen[m.manifestId] = m
    return sorted(seen.values(), key=lambda m: -m.similarityScore)[:limit]


def _check_alg(alg: str | None) -> None:
    if alg is not None and alg not in ALGORITHMS:
        raise Problem(400, f"unsupported soft-binding algorithm {alg!r}")


_BAD_ALG = (400, "unsupported soft-binding algorithm 'org.example.x'")


@router.get("/matches/byBinding", response_model=Matches, responses=responses(None, _BAD_ALG))
async def query_by_binding(
    svc: Svc,
    _: Fetcher,
    alg: Annotated[str, Query(max_length=200)],
    value: Annotated[str, Query(max_length=4096)],
    max_results: MaxResults = 10,
) -> Matches:
    """Manifest ids matching one soft-binding value (``queryByBinding``)."""
    _check_alg(alg)
    return Matches(matches=await run_in_threadpool(resolve_binding, svc, alg, value, max_results))


@router.post("/matches/byBinding", response_model=Matches, responses=responses(None, _BAD_ALG))
async def query_by_large_binding(
    body: BindingQuery, svc: Svc, _: Fetcher, max_results: MaxResults = 10
) -> Matches:
    """The same, with the value in a JSON body (``queryByLargeBinding``)."""
    _check_alg(body.alg)
    found = await run_in_threadpool(resolve_binding, svc, body.alg, body.value, max_results)
    return Matches(matches=found)


def _body_reader(request: Request) -> Callable[[int], Awaitable[bytes]]:
    """The raw body as ``read(size)`` calls (the chunks as they arrive; ``b""`` at the end)."""
    stream = request.stream()

    async def read(_: int = 0) -> bytes:
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return b""

    return read


async def _spool_body(request: Request, directory: Path, limit: int) -> Path:
    """The request's asset on disk: a multipart ``file`` field, or the raw body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    directory.mkdir(parents=True, exist_ok=True)
    if ctype.startswith("multipart/"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "send the asset as the body, or as a multipart 'file' field")
        suffix = Path(upload.filename or "").suffix[:10]
        reader: Callable[[int], Awaitable[bytes]] = upload.read
    else:
        if not ctype.startswith(("audio/", "video/", "application/octet-stream")):
            raise Problem(415, f"unsupported asset type {ctype or '(none)'}")
        suffix = SUFFIX.get(ctype, "")
        reader = _body_reader(request)
    fd, name = tempfile.mkstemp(prefix="sbr-", suffix=suffix, dir=directory)
    path, size = Path(name), 0
    try:
        with open(fd, "wb") as f:
            while chunk := await reader(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise Problem(413, f"the asset is larger than {limit} bytes")
                f.write(chunk)
        if size == 0:
            raise Problem(400, "the request carries no asset")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.post(
    "/matches/byContent",
    response_model=Matches,
    responses=responses(
        None,
        _BAD_ALG,
        (413, "the asset is larger than 67108864 bytes"),
        (415, "unsupported asset type text/plain"),
        (422, "send the asset as the body, or as a multipart 'file' field"),
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "audio/*": {"schema": {"type": "string", "format": "binary"}},
                "video/*": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def query_by_content(
    request: Request,
    svc: Svc,
    _: Fetcher,
    alg: Annotated[str | None, Query(max_length=200)] = None,
    max_results: MaxResults = 10,
    hint_alg: Annotated[str | None, Query(alias="hintAlg", max_length=200)] = None,
    hint_value: Annotated[str | None, Query(alias="hintValue", max_length=4096)] = None,
) -> Matches:
    """Manifest ids for an uploaded asset (``uploadFile``); a hint is resolved as a binding."""
    _check_alg(alg)
    _check_alg(hint_alg)
    path = await _spool_body(request, svc.settings.upload_dir, svc.settings.max_body_bytes)
    try:

        def run() -> list[Match]:
            with svc.heavy:
                found = resolve_content(svc, path, alg, max_results)
            if hint_alg and hint_value:
                found += resolve_binding(svc, hint_alg, hint_value, max_results)
            return found

        found = await run_in_threadpool(run)
    except MediaTooLong as exc:
        raise Problem(413, str(exc)) from None
    except MediaError as exc:  # not audio or video that can be decoded
        raise Problem(415, str(exc)) from None
    except ValueError as exc:
        raise Problem(422, str(exc)) from None
    finally:
        path.unlink(missing_ok=True)
    unique = {m.manifestId: m for m in reversed(found)}
    return Matches(matches=list(unique.values())[:max_results])


@router.get(
    "/manifests/{manifestId}",
    response_class=Response,
    responses=responses(
        {C2PA_MEDIA_TYPE: BINARY},
        (400, "not a manifest id of this service (urn:c2pa:<uuid>)"),
        (404, "no manifest with this id"),
        description="The manifest store.",
    ),
)
def get_manifest(
    manifestId: str,
    svc: Svc,
    _: Fetcher,
    return_active: Annotated[bool, Query(alias="returnActiveManifest")] = False,
) -> Response:
    """The manifest store holding manifest ``manifestId`` (``getManifestById``)."""
    mark = mark_of_manifest_id(manifestId)
    if mark is None:
        raise Problem(400, "not a manifest id of this service (urn:c2pa:<uuid>)")
    if svc.registry.by_mark_id(int(mark, 16)) is None:  # a rolled-back generation keeps nothing
        raise Problem(404, "no manifest with this id")
    for mid, p in stored_manifests(svc, mark):
        if mid == manifestId.lower() and p.is_file():
            return Response(p.read_bytes(), media_type=C2PA_MEDIA_TYPE)
    raise Problem(404, "no manifest with this id")


@router.get("/services/supportedAlgorithms", response_model=AlgList)
def supported_algorithms() -> AlgList:
    """The soft-binding algorithms this service resolves (``getSupportedBindings``)."""
    return AlgList(
        watermarks=[AlgEntry(alg=a.alg) for a in ALGORITHMS.values() if a.type == "watermark"],
        fingerprints=[AlgEntry(alg=a.alg) for a in ALGORITHMS.values() if a.type == "fingerprint"],
    )
