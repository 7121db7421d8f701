"""The OpenAPI description of every JSON answer the API gives: one model per response shape.

The routes keep building their answers from the one view of each object (:mod:`service.views`,
``to_dict()`` of the parts' own results); these models only *describe* those dicts, field for
field, so that ``/openapi.json`` types every response and gives an example of each. Routes
declare them with :func:`responses` (``response_model=None``: nothing is re-serialised, the JSON
a client gets is the dict as built). ``tests/service/test_openapi.py`` checks that real answers
validate against the schema, and that each model's example validates against its own schema.

Errors are not here: every error is ``application/problem+json`` (:mod:`service.problems`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provenance.certificate import Certificate
from service.problems import problem_doc

__all__ = [
    "BINARY",
    "CERTIFICATE_EXAMPLE",
    "AnchoredOut",
    "Certificate",
    "CertificateCheckOut",
    "CertificateSummaryOut",
    "DetectionOut",
    "GenerationManifestsOut",
    "GenerationOut",
    "HealthOut",
    "JobOut",
    "MediaOut",
    "ReadyOut",
    "ReceiptOut",
    "RegisteredVideoOut",
    "ScreenOut",
    "SignalOut",
    "TraceOut",
    "VerdictOut",
    "WhoAmIOut",
    "examples",
    "responses",
]

_MARK = "3a0eebd79a608022"
_SHA = "273d6942a7adda77a9e62a3f905dc73e53380c1e6fedfaa0862644d94042049c"
_WHEN = "2026-12-03T15:09:06.506800+00:00"


def _example(doc: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [doc]})


#: a binary body, for ``content`` entries of files the API streams back
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


def responses(
    ok: type[BaseModel] | dict[str, Any] | None,
    *errors: tuple[int, str],
    status: int = 200,
    description: str = "Success.",
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its success answer (a model, or a ``content`` mapping for
    files) and the problems it answers itself, each ``(status, example detail)``.

    401/403 (API key), 413 (body) and 422 (input) are added to every route that can give them by
    :func:`service.problems.openapi_schema`; list them here only to give a route's own example.
    """
    out: dict[int | str, dict[str, Any]] = {}
    if isinstance(ok, type):
        out[status] = {"model": ok, "description": description}
    elif ok is not None:
        out[status] = {"description": description, "content": ok}
    for code, detail in errors:
        out[code] = problem_doc(code, detail)
    return out


#: a certificate as ``POST /v1/certificates`` answers (the model is the part's own)
CERTIFICATE_EXAMPLE: dict[str, Any] = {
    "schema": "provkit.certificate/1",
    "id": "c34431843342511209b05c62a6c0810a",
    "issued_at": "2026-12-03T15:34:28Z",
    "subject": {
        "content_sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
        "mark_id": "3a0eebd79a608022",
        "fingerprint_ref": None,
        "generation_id": "7",
        "model": "provkit-reference-1",
        "generated_at": "2026-01-01T09:59:00Z",
    },
    "contribution": {
        "profile": "default",
        "profile_version": "2025.1",
        "profile_sha256": "181b642761e0125bd85bf31e7c3fd2dd0eafe9e144aaf3f599ac1cff393e35ea",
        "score": 0.02,
        "cap": 0.95,
        "factors": [
            {
                "id": "instructions",
                "criterion": "Prompts, layer specifications and parameters are instructions, not authorship (USCO Part 2, 2025)",
                "evidence": ["p1", "l1"],
                "points": 0.02,
                "rationale": "instructions to the generator (2 action(s)); iteration count and effort earn nothing",
            }
        ],
        "evidence_sha256": "faa7c796485c850c1c539800bc7ecbed9f87fae4201678838f7e9402b2c20f7d",
        "action_count": 2,
        "registration": {
            "human_authored": [],
            "ai_excluded": "AI-generated material produced by the model provkit-reference-1 (generation 7), except the human-authored material listed as included.",
            "text": "Material excluded: AI-generated material produced by the model provkit-reference-1 (generation 7), except the human-authored material listed as included. New material included: none evidenced.",
        },
    },
    "issuer": {
        "algorithm": "Ed25519",
        "key_id": "9add905759d12963bac5a6244dd31838b8ed4066f278ddabc7939bde55f38cf9",
        "public_key": "ee66820075cc89451b2582b97a2b453e6bce8eee7ed7895d351eda2891c1e1b4",
    },
    "signature": "d93ac24d871a6d58562e72c4b2c710cc6545cf82552b83925f79d4cb331ffd917173b4c4cbf4642656959bc52b368e86bded7305dac5a57b77198536c9380e06",
    "anchor": {"status": "pending"},
}


def examples() -> dict[str, list[dict[str, Any]]]:
    """Every response model's examples by schema name, as written (nulls kept)."""
    out: dict[str, list[dict[str, Any]]] = {"Certificate": [CERTIFICATE_EXAMPLE]}
    for obj in list(globals().values()):
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            extra = obj.model_config.get("json_schema_extra")
            docs = extra.get("examples") if isinstance(extra, dict) else None
            if isinstance(docs, list):
                out[obj.__name__] = [d for d in docs if isinstance(d, dict)]
    return out


# -- screening ------------------------------------------------------------------------------


class ScreenReasonOut(BaseModel):
    """Why: a stable code, a message in the prompt's language, the span and the rule."""

    code: str
    message: str
    span: list[int] | None = Field(
        description="[start, end) character offsets in the prompt, or null."
    )
    rule: str


class ScreenMatchOut(BaseModel):
    """Who was matched: registry id (or consent id, or null), display name and kind."""

    id: str | None
    name: str
    kind: str
    method: str


class ScreenOut(BaseModel):
    """A screening decision (``screening.Decision.to_dict``; ``provkit screen --json`` prints the
    same object)."""

    model_config = _example(
        {
            "action": "deny",
            "approved": False,
            "reasons": [
                {
                    "code": "VOICE_IMPERSONATION",
                    "message": "“Taylor Swift” is a real person; imitating their voice without "
                    "their consent is not allowed.",
                    "span": [5, 17],
                    "rule": "public-voice",
                }
            ],
            "matched": [
                {"id": "s0169", "name": "Taylor Swift", "kind": "singer", "method": "exact"}
            ],
            "suggestion": "Try instead: “make a fictional female singer with a bright pop voice "
            "sing my song” (a described voice, no real person's identity).",
            "policy_version": "2026.11.1",
            "language": "en",
            "obfuscations": [],
            "stage": "rules",
            "semantic": None,
        }
    )

    action: Literal["allow", "review", "deny"]
    approved: bool
    reasons: list[ScreenReasonOut]
    matched: list[ScreenMatchOut]
    suggestion: str | None
    policy_version: str
    language: str
    obfuscations: list[str]
    stage: str = Field(description="Which stage set the action: rules or semantic.")
    semantic: dict[str, Any] | None = Field(
        description="The semantic stage's score and neighbours, when it ran."
    )


# -- generation -----------------------------------------------------------------------------


class MediaFileOut(BaseModel):
    """One media file of a generation."""

    kind: str
    name: str
    sha256: str


class FileLinkOut(BaseModel):
    """Where to download one generated file."""

    name: str
    url: str


class ScreeningSummaryOut(BaseModel):
    """The screening decision a generation passed."""

    action: str
    policy_version: str


class ReceiptOut(BaseModel):
    """The provenance receipt of ``POST /v1/generate``: the record, its media, what each signal
    put in (``watermark``, ``label``, ``c2pa``, ``fingerprint``; null when the signal did not
    apply, e.g. no fingerprint for audio), the screening decision and the download links. A
    newer signal adds its own entry under its name."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "generation_id": 1,
                    "mark_id": _MARK,
                    "model": "provkit-reference-1",
                    "created_at": _WHEN,
                    "disclosure": "ai-generated",
                    "media": [{"kind": "video", "name": "video.mp4", "sha256": _SHA}],
                    "watermark": {"payload": _MARK, "tracks": 1},
                    "label": {"carrier": "AIGC", "produce_id": "1", "files": 1},
                    "c2pa": {
                        "manifests": [
                            {
                                "file": "video.mp4",
                                "manifest_id": "urn:c2pa:3a0eebd7-9a60-4802-825a-44db20c2ccb6",
                            }
                        ],
                        "signer": {
                            "subject": "O=provkit development,CN=provkit development signer",
                            "issuer": "O=provkit development,CN=provkit development CA",
                            "serial": "590416891794681709669483845832099198084442936954",
                            "not_after": "2027-12-04T15:09:07+00:00",
                            "alg": "ed25519",
                        },
                    },
                    "fingerprint": {"video_id": f"gen:{_MARK}", "frames": 2},
                    "screening": {"action": "allow", "policy_version": "2026.11.1"},
                    "files": [
                        {"name": "video.mp4", "url": f"/v1/generations/{_MARK}/media/video.mp4"}
                    ],
                }
            ]
        },
    )

    generation_id: int
    mark_id: str = Field(description="The 64-bit mark id the watermark carries, 16 hex digits.")
    model: str
    created_at: str = Field(description="ISO 8601 with its UTC offset.")
    disclosure: str
    media: list[MediaFileOut]
    watermark: dict[str, Any] | None = Field(None, description="``payload``, ``tracks``.")
    label: dict[str, Any] | None = Field(None, description="The AIGC label written, if any.")
    c2pa: dict[str, Any] | None = Field(None, description="``manifests`` signed, ``signer``.")
    fingerprint: dict[str, Any] | None = Field(None, description="``video_id``, ``frames``.")
    screening: ScreeningSummaryOut
    files: list[FileLinkOut]


class GenerationOut(BaseModel):
    """The schema of :func:`service.views.generation_view` (the one view of a record)."""

    model_config = _example(
        {
            "id": 1,
            "mark_id": _MARK,
            "model": "provkit-reference-1",
            "preset_id": None,
            "created_at": _WHEN,
            "disclosure": "ai-generated",
            "status": "complete",
            "media": [{"kind": "video", "name": "video.mp4", "sha256": _SHA}],
            "user_id": "key:d129bfea594a",
            "prompt_sha256": "f53fcbaab00745cfd7eb801ceefd3731fb59dbc599906bcdd7377e84d904b058",
        }
    )

    id: int
    mark_id: str
    model: str
    preset_id: str | None
    created_at: datetime
    disclosure: str
    status: str
    media: list[dict[str, str]]
    user_id: str | None = Field(None, description="Only shown to admin keys.")
    prompt_sha256: str | None = Field(None, description="Only shown to admin keys.")


class ManifestFailureOut(BaseModel):
    """One failed C2PA validation check."""

    code: str
    explanation: str


class SoftBindingOut(BaseModel):
    """One soft-binding assertion: its algorithm and how many blocks it carries."""

    alg: str | None
    blocks: int


class ManifestOut(BaseModel):
    """A manifest store as read back (``provenance.c2pa.ManifestCheck.to_dict``), and its URL."""

    state: Literal["absent", "trusted", "valid_untrusted", "invalid"]
    source: Literal["embedded", "sidecar", "store", "none"]
    manifest_id: str | None
    failures: list[ManifestFailureOut]
    hard_binding: Literal["checked", "not_checked"]
    signer: dict[str, Any]
    actions: list[dict[str, Any]]
    soft_bindings: list[SoftBindingOut]
    generation: dict[str, Any] | None
    certificate: dict[str, Any] | None
    url: str = Field(description="``GET`` it for the store itself (``application/c2pa``).")


class GenerationManifestsOut(BaseModel):
    """The C2PA manifests signed into a generation's files."""

    model_config = _example(
        {
            "mark_id": _MARK,
            "manifests": [
                {
                    "state": "valid_untrusted",
                    "source": "store",
                    "manifest_id": "urn:c2pa:3a0eebd7-9a60-4802-825a-44db20c2ccb6",
                    "failures": [
                        {
                            "code": "signingCredential.untrusted",
                            "explanation": "signing certificate untrusted",
                        }
                    ],
                    "hard_binding": "not_checked",
                    "signer": {
                        "alg": "Ed25519",
                        "issuer": "provkit development",
                        "common_name": "provkit development signer",
                        "cert_serial_number": "590416891794681709669483845832099198084442936954",
                    },
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "when": _WHEN,
                            "softwareAgent": {"name": "provkit", "version": "0.1.0"},
                            "parameters": {"model": "provkit-reference-1"},
                            "digitalSourceType": "http://cv.iptc.org/newscodes/"
                            "digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ],
                    "soft_bindings": [
                        {"alg": "org.provkit.audio-wm.1", "blocks": 1},
                        {"alg": "org.provkit.pdq.1", "blocks": 1},
                    ],
                    "generation": {
                        "file": "video.mp4",
                        "generation_id": 1,
                        "mark_id": _MARK,
                        "model": "provkit-reference-1",
                    },
                    "certificate": None,
                    "url": "/v1/manifests/urn:c2pa:3a0eebd7-9a60-4802-825a-44db20c2ccb6",
                }
            ],
        }
    )

    mark_id: str
    manifests: list[ManifestOut]


# -- verification ---------------------------------------------------------------------------


class MediaOut(BaseModel):
    """The schema of :func:`service.views.media_view`: what the verdict says about the file."""

    sha256: str
    container: str
    duration_s: float
    has_audio: bool
    has_video: bool
    sample_rate: int | None
    width: int | None
    height: int | None


class SignalOut(BaseModel):
    """One signal's part of the verdict: its outcome, why it was skipped or failed to check, and
    its own evidence fields (``found``, ``payload``, ``matches``... per signal)."""

    model_config = ConfigDict(extra="allow")

    outcome: Literal["pass", "fail", "skip", "pending", "error"]
    reason: str | None = Field(None, description="Why the signal was skipped or errored.")


class CertificateSummaryOut(BaseModel):
    """The schema of :func:`service.views.certificate_view`."""

    certificate_id: str
    issued_at: str | None
    score: float | None
    profile: str | None
    anchor_status: str | None
    summary: str


class VerdictOut(BaseModel):
    """The verdict document of ``POST /v1/verify`` (and of a finished verification job)."""

    model_config = _example(
        {
            "verdict": "generated",
            "summary": "watermark decoded (p=3.3e-109) and points to a registered generation",
            "reasons": [{"code": "watermark", "p": 3.3e-109}],
            "media": {
                "sha256": "d237dad4a8df893f9c353c56992db43a888403f77f34b1d03c0b9d522437e112",
                "container": "mov,mp4,m4a,3gp,3g2,mj2",
                "duration_s": 5.0,
                "has_audio": True,
                "has_video": True,
                "sample_rate": 48000,
                "width": 320,
                "height": 180,
            },
            "signals": {
                "watermark": {
                    "outcome": "pass",
                    "reason": None,
                    "found": True,
                    "payload": "af7701c4307a216a",
                }
            },
            "generation": None,
            "certificate": None,
        }
    )

    verdict: Literal["generated", "not_found", "inconclusive"]
    summary: str = Field(description="The reasons in English (``reasons`` carries their codes).")
    reasons: list[dict[str, Any]] = Field(
        description="Coded reasons: ``code`` and the values its text needs (``/reasons.json``)."
    )
    media: MediaOut
    signals: dict[str, SignalOut]
    generation: GenerationOut | None = Field(None, description="The record the verdict names.")
    certificate: CertificateSummaryOut | None = None


class JobOut(BaseModel):
    """The schema of :func:`service.views.job_view`: a background job."""

    model_config = _example(
        {
            "id": "5f0c3c1a9b1e4d0e8e5b8c2a7d9f6e31",
            "kind": "verify",
            "status": "queued",
            "created_at": _WHEN,
            "updated_at": _WHEN,
            "result": None,
            "error": None,
        }
    )

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    created_at: datetime
    updated_at: datetime
    result: VerdictOut | None = None
    error: str | None = None


# -- watermark and fingerprints -------------------------------------------------------------


class LayerOut(BaseModel):
    """One watermark layer's own result."""

    found: bool
    payload: str | None
    p_value: float
    segments: list[list[float]] = Field(description="[start_s, end_s] ranges carrying the mark.")
    speed: float = Field(description="The playback speed the layer was read at (1.0: none).")


class DetectionOut(BaseModel):
    """``POST /v1/audio/detect`` (``watermark.Detection.to_json``; ``provkit watermark detect
    --json`` prints the same object): the combined result and each layer's."""

    model_config = _example(
        {
            "found": True,
            "payload": _MARK,
            "p_value": 6.77e-106,
            "segments": [[0.0, 2.0]],
            "layers": {
                "high": {
                    "found": True,
                    "payload": _MARK,
                    "p_value": 3.39e-106,
                    "segments": [[0.0, 2.0]],
                    "speed": 1.0,
                },
                "robust": {
                    "found": False,
                    "payload": None,
                    "p_value": 0.85,
                    "segments": [],
                    "speed": 1.0,
                },
            },
        }
    )

    found: bool
    payload: str | None = Field(description="The 64-bit payload as 16 hex digits, or null.")
    p_value: float
    segments: list[list[float]]
    layers: dict[str, LayerOut]


class RegisteredVideoOut(BaseModel):
    """``POST /v1/video/fingerprints``: the registered video and how many frames it indexed."""

    model_config = _example({"video_id": "clip-1", "frames": 2, "duration_s": 2.0})

    video_id: str
    frames: int
    duration_s: float


class VideoMatchOut(BaseModel):
    """One registered source of a traced video (``VideoMatch.to_dict``)."""

    video_id: str
    score: float
    offset_s: float
    query_range: list[float] = Field(description="[start_s, end_s] in the query.")
    ref_range: list[float] = Field(description="[start_s, end_s] in the registered video.")
    matched_frames: int
    mirrored: bool


class TraceOut(BaseModel):
    """``POST /v1/video/trace``: frames sampled from the query and the sources found."""

    model_config = _example(
        {
            "frames": 16,
            "matches": [
                {
                    "video_id": f"gen:{_MARK}",
                    "score": 1.0,
                    "offset_s": 0.0,
                    "query_range": [0.0, 1.3],
                    "ref_range": [0.0, 1.1],
                    "matched_frames": 3,
                    "mirrored": False,
                }
            ],
        }
    )

    frames: int
    matches: list[VideoMatchOut]


# -- certificates ---------------------------------------------------------------------------


class CheckOut(BaseModel):
    """One check of a certificate verification."""

    name: str
    outcome: Literal["pass", "fail", "skip", "pending", "error"]
    detail: str


class CertificateCheckOut(BaseModel):
    """``POST /v1/certificates/verify`` (``CertificateCheck.to_dict``; ``provkit cert verify
    --json`` prints the same object)."""

    model_config = _example(
        {
            "certificate_id": "9b0f3e8c2d4a4f61b7e5a1c3d2f08e47",
            "valid": True,
            "status": "pending",
            "trusted_issuer": True,
            "checks": [
                {"name": "schema", "outcome": "pass", "detail": "provkit.certificate/1"},
                {"name": "signature", "outcome": "pass", "detail": "Ed25519 signature valid"},
                {"name": "inclusion", "outcome": "pending", "detail": "not yet anchored"},
            ],
        }
    )

    certificate_id: str | None
    valid: bool
    status: Literal["invalid", "pending", "unchecked", "confirmed"]
    trusted_issuer: bool
    checks: list[CheckOut]


class AnchoredBatchOut(BaseModel):
    """One batch anchored by ``POST /v1/certificates/anchor``."""

    batch: int
    size: int
    tx_hash: str | None
    block_number: int | None


class AnchoredOut(BaseModel):
    """The batches anchored now (empty when none was pending)."""

    model_config = _example(
        {
            "anchored": [
                {
                    "batch": 1,
                    "size": 3,
                    "tx_hash": "0x" + "ab" * 32,
                    "block_number": 12,
                }
            ]
        }
    )

    anchored: list[AnchoredBatchOut]


# -- operations and keys --------------------------------------------------------------------


class HealthOut(BaseModel):
    """Liveness."""

    model_config = _example({"status": "ok"})

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Readiness: the store answers and carries these migration heads."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"status": "ready", "schema": ["0006_changes"]}]},
    )

    status: Literal["ready"]
    schema_: list[str] = Field(alias="schema", description="The store's migration heads.")


class WhoAmIOut(BaseModel):
    """The calling key."""

    model_config = _example({"key_id": "d129bfea594a", "name": "ci", "scopes": ["verify"]})

    key_id: str
    name: str
    scopes: list[str]
