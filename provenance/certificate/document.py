"""The certificate document: schema, signing body and leaf digest.

Layout (JSON)::

    {"schema": "provkit.certificate/1", "id": …, "issued_at": …,
     "subject": {content_sha256, mark_id, fingerprint_ref, generation_id, model, generated_at},
     "contribution": {profile, profile_version, profile_sha256, score, cap, factors, …},
     "issuer": {algorithm, key_id, public_key},
     "signature": hex Ed25519 signature of RFC 8785(document without "signature" and "anchor"),
     "anchor": {"status": "pending"} | {"status": "anchored", batch_id, leaf_salt, leaf_index,
                tree_size, proof, root, chain_id, tx_hash, block_number, block_time, method,
                contract}}
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provenance.certificate.canonical import canonicalize, fast_encode, fast_path_safe, loads
from provenance.certificate.errors import CertificateError
from provenance.certificate.rubric import Contribution

SCHEMA = "provkit.certificate/1"
_HEX64 = r"^[0-9a-f]{64}$"
_ISOTIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


def isotime(dt: datetime) -> str:
    """UTC ISO-8601 with a ``Z`` suffix, second precision."""
    if dt.tzinfo is None:
        raise CertificateError("timestamps must carry a time zone")
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Subject(BaseModel):
    """What the certificate is about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content_sha256: str = Field(pattern=_HEX64)
    mark_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    fingerprint_ref: str | None = Field(default=None, max_length=256)
    generation_id: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)
    generated_at: str = Field(pattern=_ISOTIME)


class Issuer(BaseModel):
    """The signing key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["Ed25519"]
    key_id: str = Field(pattern=_HEX64)
    public_key: str = Field(pattern=_HEX64)


class PendingAnchor(BaseModel):
    """Not yet anchored: the certificate waits in an open or un-anchored batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["pending"]


class Anchor(BaseModel):
    """Inclusion proof and on-chain location of the batch root."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["anchored"]
    batch_id: int = Field(ge=1)
    leaf_salt: str = Field(pattern=_HEX64)
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    proof: str = Field(max_length=4096)
    root: str = Field(pattern=_HEX64)
    chain_id: int = Field(ge=1)
    tx_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    block_number: int = Field(ge=0)
    block_time: int = Field(ge=0)
    method: Literal["calldata", "eas-timestamp"]
    contract: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")

    def proof_hashes(self) -> list[bytes]:
        """The audit path as 32-byte hashes (``proof`` is base64 of their concatenation)."""
        try:
            raw = base64.b64decode(self.proof, validate=True)
        except ValueError:
            raise CertificateError("anchor.proof is not base64") from None
        if len(raw) % 32:
            raise CertificateError("anchor.proof length is not a multiple of 32 bytes")
        return [raw[i : i + 32] for i in range(0, len(raw), 32)]


class Certificate(BaseModel):
    """A signed human-contribution certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["provkit.certificate/1"] = Field(alias="schema")
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    issued_at: str = Field(pattern=_ISOTIME)
    subject: Subject
    contribution: Contribution
    issuer: Issuer
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")
    anchor: Anchor | PendingAnchor = Field(discriminator="status")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text (any formatting: verification canonicalises)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes | dict[str, Any]) -> Certificate:
        """Parse and schema-check a certificate (does not verify it)."""
        from pydantic import ValidationError

        try:
            obj = loads(data) if isinstance(data, str | bytes) else data
            return cls.model_validate(obj)
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                err = exc.errors()[0]
                loc = ".".join(str(p) for p in err["loc"])
                raise CertificateError(f"not a certificate: {loc}: {err['msg']}") from None
            raise CertificateError(f"certificate is not JSON: {exc}") from None

    @property
    def anchored(self) -> bool:
        """True once the batch root is on chain."""
        return isinstance(self.anchor, Anchor)

    def with_anchor(self, anchor: Anchor | PendingAnchor) -> Certificate:
        """A copy with another anchor block (the signature does not cover it)."""
        return self.model_copy(update={"anchor": anchor})

    def document_sha256(self) -> bytes:
        """SHA-256 of RFC 8785(document without "anchor"): what the Merkle leaf commits to."""
        return document_digest(self.to_dict())


def _schema_valid_pair(doc: dict[str, Any], keys: list[str]) -> tuple[bytes, bytes] | None:
    """Fast path for a document that passed the :class:`Certificate` schema.

    The schema fixes every key (ASCII) and makes every value a string, list of strings, null or
    one of the few numbers of the contribution block, so only those numbers need the RFC 8785
    safety check. The signed body is the full form minus the unique ``,"signature":"…"`` member
    (a quote cannot occur unescaped inside a JSON string, so the member cannot be faked there).
    """
    try:
        c = doc["contribution"]
        nums = [c["score"], c["cap"], c["action_count"], *(f["points"] for f in c["factors"])]
        sig = doc["signature"]
    except (KeyError, TypeError):
        return None
    if type(sig) is not str or not sig.isascii() or not fast_path_safe(nums):
        return None
    full = fast_encode({k: doc[k] for k in keys})
    if full is None:
        return None
    member = b',"signature":"' + sig.encode("ascii") + b'"'  # the schema made it 128 hex digits
    if full.count(member) != 1:
        return None
    return full.replace(member, b"", 1), full


def canonical_pair(doc: dict[str, Any], *, shape_checked: bool = False) -> tuple[bytes, bytes]:
    """``(signing body, document without anchor)`` in RFC 8785 form, canonicalising once.

    The two differ only by the top-level ``signature`` member, so the members sorting before and
    after it are canonicalised separately and joined both ways. ``shape_checked=True`` (the
    document passed the schema) enables a faster path.
    """
    keys = [k for k in doc if k != "anchor"]
    if shape_checked:
        fast = _schema_valid_pair(doc, keys)
        if fast is not None:
            return fast
    if "signature" not in doc or not all(type(k) is str and k.isascii() for k in keys):
        return signing_body(doc), canonicalize({k: doc[k] for k in keys})
    pre = canonicalize({k: doc[k] for k in keys if k < "signature"})[1:-1]
    post = canonicalize({k: doc[k] for k in keys if k > "signature"})[1:-1]
    sig = b'"signature":' + canonicalize(doc["signature"])
    body = b"{" + b",".join(p for p in (pre, post) if p) + b"}"
    full = b"{" + b",".join(p for p in (pre, sig, post) if p) + b"}"
    return body, full


def signing_body(doc: dict[str, Any]) -> bytes:
    """The signed bytes: RFC 8785 of the document without ``signature`` and ``anchor``."""
    return canonicalize({k: v for k, v in doc.items() if k not in ("signature", "anchor")})


def document_digest(doc: dict[str, Any]) -> bytes:
    """SHA-256 of RFC 8785(document without ``anchor``) (signature included)."""
    return hashlib.sha256(canonicalize({k: v for k, v in doc.items() if k != "anchor"})).digest()
