"""Minting: score the evidence, build the document, sign it, queue it for anchoring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from provenance.certificate.canonical import loads
from provenance.certificate.document import SCHEMA, Certificate, isotime, signing_body
from provenance.certificate.errors import CertificateError, RecordStateError
from provenance.certificate.evidence import FUTURE_SKEW, ActionLog, parse_actions
from provenance.certificate.keys import Signer
from provenance.certificate.rubric import Rubric, load_rubric, score
from provenance.registry.db import crash_point

if TYPE_CHECKING:
    from provenance.certificate.store import CertificateStore

_MAX_RECORD_BYTES = 256 * 1024


class GenerationRecord(BaseModel):
    """The generation a certificate is about (``RECORD.json`` of ``provkit cert mint``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generation_id: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)
    generated_at: AwareDatetime
    mark_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    media_sha256: list[str] = Field(default_factory=list, max_length=256)
    fingerprint_ref: str | None = Field(default=None, max_length=256)
    #: the registry's record status; only a ``complete`` generation can be certified
    status: str = Field(default="complete", min_length=1, max_length=16)

    @field_validator("generation_id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("mark_id", mode="before")
    @classmethod
    def _mark(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 64:
            return f"{v:016x}"
        return v.lower() if isinstance(v, str) else v

    @classmethod
    def from_registry(cls, gen: Any, *, fingerprint_ref: str | None = None) -> GenerationRecord:
        """From a registry ``Generation`` row (its media hashes become ``media_sha256``)."""
        created = gen.created_at if gen.created_at.tzinfo else gen.created_at.replace(tzinfo=UTC)
        return cls(
            generation_id=str(gen.id),
            model=gen.model,
            generated_at=created,
            mark_id=gen.mark_hex,
            media_sha256=[m.sha256 for m in gen.media],
            fingerprint_ref=fingerprint_ref,
            status=gen.status,
        )


def parse_record(data: Any) -> GenerationRecord:
    """Validate a generation record (JSON text/bytes, dict, registry row or record)."""
    if isinstance(data, GenerationRecord):
        return data
    if hasattr(data, "mark_hex") and hasattr(data, "media"):
        return GenerationRecord.from_registry(data)
    if isinstance(data, bytes | str):
        if len(data) > _MAX_RECORD_BYTES:
            raise CertificateError("generation record larger than 256 KiB")
        try:
            data = loads(data)
        except (ValueError, RecursionError) as exc:
            raise CertificateError(f"generation record is not JSON: {exc}") from None
    try:
        return GenerationRecord.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise CertificateError(f"invalid generation record: {loc}: {err['msg']}") from None


def content_sha256(content: bytes | str | Path) -> str:
    """SHA-256 (hex) of bytes or of a file, streamed."""
    if isinstance(content, bytes | bytearray | memoryview):
        return hashlib.sha256(content).hexdigest()
    h = hashlib.sha256()
    try:
        with open(content, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise CertificateError(f"cannot read content {content}: {exc.strerror}") from None
    return h.hexdigest()


def mint(
    record: Any,
    actions: Any,
    signer: Signer,
    content: bytes | str | Path | None = None,
    *,
    profile: str | Rubric = "default",
    store: CertificateStore | None = None,
    now: datetime | None = None,
) -> Certificate:
    """Score ``actions`` for the generation ``record``, sign the certificate and, with a ``store``,
    queue it for anchoring (its anchor block reads ``pending`` until the batch is on chain).

    ``content`` (bytes or a path) is hashed into the subject; without it the record must carry
    ``content_sha256``. When both exist, or the record lists its media hashes, they must agree.
    A record whose ``status`` is not ``complete`` raises :class:`RecordStateError`.
    """
    rec = parse_record(record)
    if rec.status != "complete":
        raise RecordStateError(
            f"generation {rec.generation_id} is {rec.status!r}, not complete: not certified"
        )
    now = now or datetime.now(UTC)
    log: ActionLog = parse_actions(actions, now=now)
    if rec.generated_at > now + FUTURE_SKEW:
        raise CertificateError("the record's generated_at is in the future")
    if content is not None:
        digest = content_sha256(content)
        if rec.content_sha256 and rec.content_sha256 != digest:
            raise CertificateError("content does not match the record's content_sha256")
    elif rec.content_sha256:
        digest = rec.content_sha256
    else:
        raise CertificateError("give the content or a record with content_sha256")
    if rec.media_sha256 and digest not in rec.media_sha256:
        raise CertificateError("content is not one of the generation's media files")
    rubric = profile if isinstance(profile, Rubric) else load_rubric(profile)
    contribution = score(log, rubric, model=rec.model, generation_id=rec.generation_id)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "id": secrets.token_hex(16),
        "issued_at": isotime(now),
        "subject": {
            "content_sha256": digest,
            "mark_id": rec.mark_id,
            "fingerprint_ref": rec.fingerprint_ref,
            "generation_id": rec.generation_id,
            "model": rec.model,
            "generated_at": isotime(rec.generated_at),
        },
        "contribution": contribution.model_dump(mode="json"),
        "issuer": signer.public_info(),
    }
    doc["signature"] = signer.sign(signing_body(doc)).hex()
    doc["anchor"] = {"status": "pending"}
    cert = Certificate.model_validate(doc)
    if store is not None:
        crash_point("mint.signed")
        store.add(cert)
    return cert
