"""Certificate verification: every check is listed with its outcome; nothing is valid by default.

Checks, in order:

``schema``       the document has the certificate schema
``key_id``       ``issuer.key_id`` is the SHA-256 of ``issuer.public_key``
``issuer``       the key is in the given keyring and was not retired before ``issued_at``
                 (``skip`` without a keyring)
``signature``    Ed25519 signature over RFC 8785(document without ``signature`` and ``anchor``)
``content_hash`` SHA-256 of the given content equals ``subject.content_sha256`` (``skip`` without)
``inclusion``    the salted leaf and the audit path lead to ``anchor.root`` (``pending`` until anchored)
``onchain_root`` the transaction on the chain carries the root (``skip`` without a chain)
``block_time``   the chain's block time matches ``anchor.block_time`` and is not before ``issued_at``
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from provenance.certificate.canonical import loads
from provenance.certificate.chain import Chain
from provenance.certificate.document import Certificate, canonical_pair
from provenance.certificate.errors import CertificateError, ChainError
from provenance.certificate.keys import Keyring, key_id_of, verify_signature
from provenance.certificate.merkle import certificate_leaf, verify_inclusion
from provenance.certificate.mint import content_sha256

Outcome = Literal["pass", "fail", "skip", "pending", "error"]
REQUIRED = ("schema", "key_id", "signature")
#: Clock skew tolerated between ``issued_at`` and the anchoring block.
CLOCK_SKEW = timedelta(minutes=5)


class Check(NamedTuple):
    """One verification step."""

    name: str
    outcome: Outcome
    detail: str


@dataclass
class CertificateCheck:
    """The result of :func:`verify_certificate`: each check and the overall verdict."""

    certificate_id: str | None
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        """Record a check."""
        self.checks.append(Check(name, outcome, detail))

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def get(self, name: str) -> Check | None:
        """The check called ``name``."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> list[str]:
        """Names of checks that failed or could not be run."""
        return [c.name for c in self.checks if c.outcome in ("fail", "error")]

    @property
    def valid(self) -> bool:
        """True only when the required checks passed and no check failed or errored."""
        done = {c.name: c.outcome for c in self.checks}
        return all(done.get(n) == "pass" for n in REQUIRED) and not self.failed

    @property
    def anchored(self) -> bool:
        """True when the inclusion proof checked out (the on-chain part may be skipped)."""
        c = self.get("inclusion")
        return c is not None and c.outcome == "pass"

    @property
    def status(self) -> str:
        """``invalid``, ``pending`` (signed, not yet anchored), ``anchored`` (proof checked,
        chain not consulted) or ``confirmed`` (root and block time read back from the chain)."""
        if not self.valid:
            return "invalid"
        if not self.anchored:
            return "pending"
        c = self.get("onchain_root")
        return "confirmed" if c is not None and c.outcome == "pass" else "anchored"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        return {
            "certificate_id": self.certificate_id,
            "valid": self.valid,
            "status": self.status,
            "checks": [
                {"name": c.name, "outcome": c.outcome, "detail": c.detail} for c in self.checks
            ],
        }


def _get(doc: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(p)
    return doc


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else None


def load_document(cert_json: Any) -> dict[str, Any]:
    """A certificate as a JSON object; raises :class:`CertificateError` when it is not one."""
    if isinstance(cert_json, Certificate):
        return cert_json.to_dict()
    if isinstance(cert_json, bytes | str):
        try:
            cert_json = loads(cert_json)
        except (ValueError, RecursionError) as exc:
            raise CertificateError(f"certificate is not JSON: {exc}") from None
    if not isinstance(cert_json, dict):
        raise CertificateError("a certificate is a JSON object")
    return cert_json


def verify_certificate(
    cert_json: Any,
    content: bytes | str | Path | None = None,
    chain: Chain | None = None,
    *,
    keyring: Keyring | None = None,
) -> CertificateCheck:
    """Verify a certificate (JSON text/bytes, object or :class:`Certificate`).

    ``content`` (bytes or a path) is compared with the subject's hash; ``chain`` is asked for the
    anchoring transaction; ``keyring`` restricts the accepted issuer keys. Raises
    :class:`CertificateError` only when the input is not a JSON object at all; every other problem
    is a failed check in the result.
    """
    doc = load_document(cert_json)
    cid = doc.get("id") if isinstance(doc.get("id"), str) else None
    res = CertificateCheck(cid)
    # schema
    cert: Certificate | None = None
    try:
        cert = Certificate.model_validate(doc)
        res.add("schema", "pass", "provkit.certificate/1")
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        res.add("schema", "fail", f"{loc}: {err['msg']}")
    # key id
    pub_hex, kid = _get(doc, "issuer", "public_key"), _get(doc, "issuer", "key_id")
    public: bytes | None = None
    try:
        public = bytes.fromhex(pub_hex) if isinstance(pub_hex, str) else None
    except ValueError:
        public = None
    if public is None or len(public) != 32:
        res.add("key_id", "fail", "issuer.public_key is not a 32-byte hex Ed25519 key")
        public = None
    elif key_id_of(public) != kid:
        res.add("key_id", "fail", "issuer.key_id is not the SHA-256 of issuer.public_key")
    else:
        res.add("key_id", "pass", f"key {kid[:16]}…")
    # issuer trust
    issued = _parse_time(doc.get("issued_at"))
    if keyring is None:
        res.add(
            "issuer", "skip", "no keyring given: the embedded public key is not checked for trust"
        )
    else:
        tk = keyring.get(kid) if isinstance(kid, str) else None
        if tk is None:
            res.add("issuer", "fail", "signed by a key that is not in the keyring")
        elif public is not None and tk.public_key != public:
            res.add("issuer", "fail", "keyring holds another public key under this key id")
        elif tk.retired_at is not None and (issued is None or issued > tk.retired_at):
            res.add("issuer", "fail", "issued after the key was retired")
        else:
            state = "retired key, issued before retirement" if tk.retired_at else "active key"
            res.add("issuer", "pass", f"trusted {state}")
    # signature
    body: bytes | None = None
    digest: bytes | None = None
    canon_error = ""
    try:
        body, full = canonical_pair(doc, shape_checked=cert is not None)
        digest = hashlib.sha256(full).digest()
    except CertificateError as exc:
        canon_error = str(exc)
    sig_hex = doc.get("signature")
    sig: bytes | None = None
    try:
        sig = bytes.fromhex(sig_hex) if isinstance(sig_hex, str) else None
    except ValueError:
        sig = None
    if public is None or sig is None or len(sig) != 64:
        res.add("signature", "fail", "missing or malformed signature or public key")
    else:
        if body is None:
            res.add("signature", "fail", canon_error)
        else:
            ok = verify_signature(public, sig, body)
            res.add(
                "signature",
                "pass" if ok else "fail",
                "Ed25519 over RFC 8785 body" if ok else "signature does not match the document",
            )
    # content
    if content is None:
        res.add("content_hash", "skip", "no content given")
    else:
        got = content_sha256(content)
        want = _get(doc, "subject", "content_sha256")
        if got == want:
            res.add("content_hash", "pass", f"sha256 {got[:16]}…")
        else:
            res.add("content_hash", "fail", "content SHA-256 differs from subject.content_sha256")
    # inclusion
    anchor = doc.get("anchor")
    status = _get(doc, "anchor", "status")
    root: bytes | None = None
    if status == "pending":
        res.add("inclusion", "pending", "not yet anchored: batch not closed or not on chain")
    elif status != "anchored" or not isinstance(anchor, dict):
        res.add("inclusion", "fail", "anchor block missing or malformed")
    else:
        try:
            salt = bytes.fromhex(anchor["leaf_salt"])
            root = bytes.fromhex(anchor["root"])
            raw = base64.b64decode(anchor["proof"], validate=True)
            proof = [raw[i : i + 32] for i in range(0, len(raw), 32)]
            index, size = int(anchor["leaf_index"]), int(anchor["tree_size"])
            if len(raw) % 32 or len(root) != 32 or type(anchor["leaf_index"]) is not int:
                raise ValueError("bad lengths")
            if digest is None:
                raise CertificateError(canon_error)
            leaf = certificate_leaf(salt, digest)
            ok = verify_inclusion(leaf, index, size, proof, root)
            res.add(
                "inclusion",
                "pass" if ok else "fail",
                f"leaf {index} of {size}, {len(raw)}-byte proof"
                if ok
                else "audit path does not lead to anchor.root",
            )
        except (KeyError, ValueError, TypeError, CertificateError) as exc:
            res.add("inclusion", "fail", f"malformed inclusion proof ({type(exc).__name__})")
            root = None
    # chain
    if status != "anchored" or not isinstance(anchor, dict):
        res.add("onchain_root", "pending" if status == "pending" else "skip", "nothing to look up")
        res.add("block_time", "pending" if status == "pending" else "skip", "nothing to look up")
    elif chain is None:
        res.add("onchain_root", "skip", "no chain given: root not read back")
        res.add("block_time", "skip", "no chain given: block time not read back")
    elif root is None or cert is None or not cert.anchored:
        res.add("onchain_root", "fail", "anchor block malformed")
        res.add("block_time", "skip", "no root to look up")
    else:
        a = cert.anchor
        assert a.status == "anchored"
        try:
            look = chain.lookup(
                chain_id=a.chain_id,
                tx_hash=a.tx_hash,
                block_number=a.block_number,
                root=root,
                method=a.method,
                contract=a.contract,
            )
        except ChainError as exc:
            res.add("onchain_root", "error", f"chain unreachable: {exc}")
            res.add("block_time", "error", "chain unreachable")
        else:
            res.add("onchain_root", "pass" if look.ok else "fail", look.detail)
            if not look.ok or look.block_time is None:
                res.add("block_time", "skip", "root not found on chain")
            elif look.block_time != a.block_time:
                res.add(
                    "block_time",
                    "fail",
                    f"chain block time {look.block_time} != anchor.block_time {a.block_time}",
                )
            elif (
                issued is None or issued.timestamp() > look.block_time + CLOCK_SKEW.total_seconds()
            ):
                res.add("block_time", "fail", "issued_at is later than the anchoring block")
            else:
                res.add("block_time", "pass", f"anchored at unix time {look.block_time}")
    return res
