"""Certificate verification: every check is listed with its outcome; nothing is valid by default.

Checks, in order:

``schema``       the document has the certificate schema
``key_id``       ``issuer.key_id`` is the SHA-256 of ``issuer.public_key``
``issuer``       the key is in the given keyring and was not retired before ``issued_at``; without a
                 keyring it ``fail``s ("untrusted issuer"), or is a ``skip`` when the caller
                 explicitly passed ``allow_untrusted=True``
``signature``    Ed25519 signature over RFC 8785(document without ``signature`` and ``anchor``)
``content_hash`` SHA-256 of the given content equals ``subject.content_sha256`` (``skip`` without)
``inclusion``    the salted leaf and the audit path lead to ``anchor.root`` (``pending`` until anchored)
``onchain_root`` transaction ``anchor.tx_hash`` on chain ``anchor.chain_id``, in block
                 ``anchor.block_number``, carries the root by ``anchor.method`` (sent to
                 ``anchor.contract`` for ``eas-timestamp``; a ``calldata`` anchor names no
                 contract); ``skip`` ("unchecked") without a chain
``block_time``   the chain's block time matches ``anchor.block_time`` and is not before ``issued_at``
``batch``        the issuer's store holds this certificate with this very anchor block
                 (``anchor.batch_id`` and every other field); ``skip`` ("unchecked") without a store

The anchor block is not signed: only the inclusion proof ties it to the document, and only a chain
read ties the root to a transaction and a time. So a certificate is ``confirmed`` only after
``onchain_root`` and ``block_time`` passed; with a valid proof and no chain it is ``unchecked``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import ValidationError

from provenance.certificate.canonical import loads
from provenance.certificate.chain import Chain
from provenance.certificate.document import Anchor, Certificate, canonical_pair
from provenance.certificate.errors import CertificateError, ChainError
from provenance.certificate.keys import Keyring, key_id_of, verify_signature
from provenance.certificate.merkle import certificate_leaf, verify_inclusion
from provenance.certificate.mint import content_sha256

if TYPE_CHECKING:
    from provenance.certificate.store import CertificateStore

Outcome = Literal["pass", "fail", "skip", "pending", "error"]
REQUIRED = ("schema", "key_id", "signature")
#: Clock skew tolerated between ``issued_at`` and the anchoring block.
CLOCK_SKEW = timedelta(minutes=5)
#: Longest check detail kept (details may quote the document).
_MAX_DETAIL = 300
_CERT_ID = re.compile(r"^[0-9a-f]{32}$")


def printable(text: str, limit: int = _MAX_DETAIL) -> str:
    """``text`` made safe to encode as UTF-8 JSON (a lone surrogate such as ``\\ud800`` is
    escaped) and cut to ``limit`` characters."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


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
        """Record a check (the detail is made encodable: it may quote the document)."""
        self.checks.append(Check(name, outcome, printable(detail)))

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

    def passed(self, name: str) -> bool:
        """True when the check called ``name`` passed."""
        c = self.get(name)
        return c is not None and c.outcome == "pass"

    @property
    def trusted(self) -> bool:
        """True when the issuer key was found in a trusted keyring."""
        return self.passed("issuer")

    @property
    def anchored(self) -> bool:
        """True only when the certificate is valid, the proof checked out *and* the root and
        block time were read back from a chain: an anchor block that was not looked up proves
        nothing about the chain."""
        return self.valid and all(
            self.passed(n) for n in ("inclusion", "onchain_root", "block_time")
        )

    @property
    def status(self) -> str:
        """``invalid``; ``pending`` (signed, not yet anchored); ``unchecked`` (the inclusion proof
        holds, but no chain was read: ``chain_id``, ``tx_hash``, ``block_number`` and
        ``block_time`` are only claims); or ``confirmed`` (root and block time read back)."""
        if not self.valid:
            return "invalid"
        if self.anchored:
            return "confirmed"
        return "unchecked" if self.passed("inclusion") else "pending"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        return {
            "certificate_id": self.certificate_id,
            "valid": self.valid,
            "status": self.status,
            "trusted_issuer": self.trusted,
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
    allow_untrusted: bool = False,
    store: CertificateStore | None = None,
) -> CertificateCheck:
    """Verify a certificate (JSON text/bytes, object or :class:`Certificate`).

    ``content`` (bytes or a path) is compared with the subject's hash; ``chain`` is asked for the
    anchoring transaction; ``keyring`` holds the trusted issuer keys: without one the result is
    invalid ("untrusted issuer") unless ``allow_untrusted=True`` says that any self-consistent key
    will do. ``store`` (the issuer's certificate store) is asked whether it issued this anchor
    block. Raises :class:`CertificateError` only when the input is not a JSON object at all; every
    other problem is a failed check in the result.
    """
    doc = load_document(cert_json)
    raw_id = doc.get("id")
    cid = raw_id if isinstance(raw_id, str) and _CERT_ID.match(raw_id) else None
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
    if keyring is None and not allow_untrusted:
        res.add("issuer", "fail", "untrusted issuer: no keyring of trusted issuer keys given")
    elif keyring is None:
        res.add(
            "issuer", "skip", "untrusted issuer accepted on request: any key that signs is taken"
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
    _check_chain(res, doc, cert, root, chain, issued)
    _check_batch(res, doc, cert, store)
    return res


def _anchor_form(a: Anchor) -> str | None:
    """What is wrong with an anchor block's method/contract pair, if anything."""
    if a.method == "calldata" and a.contract is not None:
        return "a calldata anchor names no contract, this one names one"
    if a.method == "eas-timestamp" and a.contract is None:
        return "an eas-timestamp anchor must name its contract"
    return None


def _check_chain(
    res: CertificateCheck,
    doc: dict[str, Any],
    cert: Certificate | None,
    root: bytes | None,
    chain: Chain | None,
    issued: datetime | None,
) -> None:
    """``onchain_root`` and ``block_time``: the anchor read back from the chain."""
    anchor, status = doc.get("anchor"), _get(doc, "anchor", "status")
    if status != "anchored" or not isinstance(anchor, dict):
        res.add("onchain_root", "pending" if status == "pending" else "skip", "nothing to look up")
        res.add("block_time", "pending" if status == "pending" else "skip", "nothing to look up")
        return
    if root is None or cert is None or not isinstance(cert.anchor, Anchor):
        res.add("onchain_root", "fail", "anchor block malformed")
        res.add("block_time", "skip", "no root to look up")
        return
    a = cert.anchor
    bad_form = _anchor_form(a)
    if bad_form is not None:
        res.add("onchain_root", "fail", bad_form)
        res.add("block_time", "skip", "no valid anchor to look up")
        return
    if chain is None:
        res.add(
            "onchain_root",
            "skip",
            "unchecked: no chain given (chain_id, tx_hash, block_number, method and contract "
            "are unverified claims)",
        )
        res.add("block_time", "skip", "unchecked: no chain given")
        return
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
        elif issued is None or issued.timestamp() > look.block_time + CLOCK_SKEW.total_seconds():
            res.add("block_time", "fail", "issued_at is later than the anchoring block")
        else:
            res.add("block_time", "pass", f"anchored at unix time {look.block_time}")


def _check_batch(
    res: CertificateCheck,
    doc: dict[str, Any],
    cert: Certificate | None,
    store: CertificateStore | None,
) -> None:
    """``batch``: the issuer's store issued this very anchor block (batch id included)."""
    if cert is None or not isinstance(cert.anchor, Anchor):
        pending = _get(doc, "anchor", "status") == "pending"
        res.add("batch", "pending" if pending else "skip", "nothing to look up")
        return
    if store is None:
        res.add("batch", "skip", "unchecked: no issuer store given (anchor.batch_id unverified)")
        return
    try:
        held = store.get(cert.id)
    except CertificateError:
        res.add("batch", "fail", "the issuer's store holds no such certificate")
        return
    if not isinstance(held.anchor, Anchor):
        res.add("batch", "fail", "the issuer's store has not anchored this certificate")
        return
    want, got = held.anchor.model_dump(), cert.anchor.model_dump()
    differ = sorted(k for k in want if want[k] != got.get(k))
    if differ:
        res.add(
            "batch", "fail", f"anchor block differs from the issuer's store: {', '.join(differ)}"
        )
    else:
        res.add("batch", "pass", f"batch {cert.anchor.batch_id} in the issuer's store")
