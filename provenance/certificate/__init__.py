"""Human-contribution certificates: evidence-based scoring, Ed25519 signatures, Merkle batches
anchored on an EVM chain.

Typical use::

    signer = Signer.load("issuer.key")
    cert = mint(record, actions, signer, content=b"...", store=store)   # pending
    chain = DevChain(engine)          # or Chain.connect(rpc_url, key_file=...)
    store.close_batches(force=True); store.anchor_batches(chain)
    cert = store.get(cert.id)                                            # anchored
    check = verify_certificate(cert.to_json(), content=b"...", chain=chain, keyring=ring)
    assert check.valid and check.status == "confirmed"
"""

from provenance.certificate.canonical import canonicalize
from provenance.certificate.chain import AnchorReceipt, Chain, ChainLookup
from provenance.certificate.devchain import DevChain
from provenance.certificate.document import SCHEMA, Anchor, Certificate, PendingAnchor
from provenance.certificate.errors import (
    AnchorError,
    CertificateError,
    CertificateNotFound,
    ChainError,
    EvidenceError,
    KeyFileError,
    RecordStateError,
    RubricError,
)
from provenance.certificate.evidence import Action, ActionKind, ActionLog, parse_actions
from provenance.certificate.keys import Keyring, Signer, key_id_of
from provenance.certificate.merkle import MerkleTree, leaf_hash, node_hash, verify_inclusion
from provenance.certificate.mint import GenerationRecord, mint, parse_record
from provenance.certificate.rubric import Contribution, Rubric, load_rubric, profiles, score
from provenance.certificate.store import BatchInfo, CertificateStore
from provenance.certificate.verify import CertificateCheck, Check, verify_certificate

__all__ = [
    "SCHEMA",
    "Action",
    "ActionKind",
    "ActionLog",
    "Anchor",
    "AnchorError",
    "AnchorReceipt",
    "BatchInfo",
    "Certificate",
    "CertificateCheck",
    "CertificateError",
    "CertificateNotFound",
    "CertificateStore",
    "Chain",
    "ChainError",
    "ChainLookup",
    "Check",
    "Contribution",
    "DevChain",
    "EvidenceError",
    "GenerationRecord",
    "KeyFileError",
    "Keyring",
    "MerkleTree",
    "PendingAnchor",
    "RecordStateError",
    "Rubric",
    "RubricError",
    "Signer",
    "canonicalize",
    "key_id_of",
    "leaf_hash",
    "load_rubric",
    "mint",
    "node_hash",
    "parse_actions",
    "parse_record",
    "profiles",
    "score",
    "verify_certificate",
    "verify_inclusion",
]
