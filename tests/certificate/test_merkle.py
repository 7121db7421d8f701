"""RFC 9162 trees: roots match the recursive definition, every proof verifies, tampering fails."""

from __future__ import annotations

import hashlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance.certificate import (
    CertificateError,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_inclusion,
)
from provenance.certificate.merkle import certificate_leaf, reference_root, root_from_proof


def _leaves(n: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(f"{seed}:{i}".encode()) for i in range(n)]


def test_rfc9162_domain_separation() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    # a leaf can never pose as an interior node
    left, right = leaf_hash(b"l"), leaf_hash(b"r")
    assert leaf_hash(left + right) != node_hash(left, right)
    salt, doc = b"s" * 32, b"d" * 32
    assert certificate_leaf(salt, doc) == leaf_hash(salt + doc)
    with pytest.raises(CertificateError):
        certificate_leaf(b"short", doc)


@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=2**16))
def test_random_trees_roots_and_all_proofs(n: int, seed: int) -> None:
    leaves = _leaves(n, seed)
    tree = MerkleTree(leaves)
    assert tree.root == reference_root(leaves)
    bound = math.ceil(math.log2(n)) if n > 1 else 0
    for i in range(n):
        p = tree.proof(i)
        assert len(p) <= bound
        assert verify_inclusion(leaves[i], i, n, p, tree.root)


@given(
    st.integers(min_value=2, max_value=200),
    st.integers(min_value=0, max_value=10**6),
    st.data(),
)
def test_random_tampering_of_proofs_fails(n: int, seed: int, data: st.DataObject) -> None:
    leaves = _leaves(n, seed)
    tree = MerkleTree(leaves)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = tree.proof(i)
    # flip one bit of one proof hash
    if proof:
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        b = data.draw(st.integers(min_value=0, max_value=255))
        bad = bytearray(proof[k])
        bad[b % 32] ^= 1 << (b % 8)
        forged = [*proof[:k], bytes(bad), *proof[k + 1 :]]
        assert not verify_inclusion(leaves[i], i, n, forged, tree.root)
        assert not verify_inclusion(leaves[i], i, n, proof[:-1], tree.root)
    # another leaf, another index, another root
    j = (i + data.draw(st.integers(min_value=1, max_value=n - 1))) % n
    assert not verify_inclusion(leaves[j], i, n, proof, tree.root)
    assert not verify_inclusion(leaves[i], j, n, proof, tree.root)
    root = bytearray(tree.root)
    root[data.draw(st.integers(min_value=0, max_value=31))] ^= 0x80
    assert not verify_inclusion(leaves[i], i, n, proof, bytes(root))


def test_bad_indices_and_sizes() -> None:
    tree = MerkleTree(_leaves(5))
    with pytest.raises(CertificateError):
        tree.proof(5)
    with pytest.raises(CertificateError):
        MerkleTree([])
    assert root_from_proof(b"x" * 32, 5, 5, []) is None
    assert root_from_proof(b"x" * 32, 0, 1, [b"y" * 32]) is None  # path longer than the tree
    assert MerkleTree(_leaves(1)).proof(0) == []


def test_proof_size_at_100k_leaves() -> None:
    n = 100_000
    tree = MerkleTree(_leaves(n))
    for i in (0, 12_345, n - 1):
        p = tree.proof(i)
        assert verify_inclusion(tree.levels[0][i], i, n, p, tree.root)
        assert 32 * len(p) <= 17 * 32 <= 1024
