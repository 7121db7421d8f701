"""Merkle trees with RFC 9162 (Certificate Transparency 2.0) hashing and inclusion proofs.

``leaf hash = SHA-256(0x00 || data)``, ``node hash = SHA-256(0x01 || left || right)``; a tree of
``n`` leaves splits at the largest power of two below ``n`` (RFC 9162 §2.1.1). Certificate leaves
are salted: ``data = salt (32 bytes) || SHA-256(RFC 8785 certificate without its anchor block)``.
An inclusion proof is the audit path of RFC 9162 §2.1.3 (ceil(log2 n) hashes at most: 17 × 32 =
544 bytes at 100,000 leaves).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from provenance.certificate.errors import CertificateError

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash."""
    return _sha256(b"\x01" + left + right).digest()


def certificate_leaf(salt: bytes, document_sha256: bytes) -> bytes:
    """Leaf hash of a certificate: ``leaf_hash(salt || SHA-256(JCS(certificate minus anchor)))``."""
    if len(salt) != 32 or len(document_sha256) != 32:
        raise CertificateError("leaf salt and document hash must be 32 bytes each")
    return leaf_hash(salt + document_sha256)


class MerkleTree:
    """A tree over precomputed leaf hashes, kept level by level for fast proofs.

    An unpaired last node is promoted unchanged to the next level, which yields exactly the RFC
    9162 tree shape.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise CertificateError("a Merkle tree needs at least one leaf")
        self.levels: list[list[bytes]] = [list(leaves)]
        level = self.levels[0]
        while len(level) > 1:
            nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self.levels.append(nxt)
            level = nxt

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        """The tree head (32 bytes)."""
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Audit path of leaf ``index`` (bottom-up sibling hashes)."""
        if not 0 <= index < self.size:
            raise CertificateError(f"leaf index {index} outside a tree of {self.size}")
        path: list[bytes] = []
        i = index
        for level in self.levels[:-1]:
            sib = i ^ 1
            if sib < len(level):
                path.append(level[sib])
            i >>= 1
        return path


def root_from_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """Recompute the root from an audit path (RFC 9162 §2.1.3.2); None when the path is malformed."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if len(p) != 32 or sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` leaves with ``root``."""
    got = root_from_proof(leaf, index, size, proof)
    return got is not None and got == root


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 9162 ``MTH`` definition, recursively (slow; for tests and by-hand checks)."""
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))
