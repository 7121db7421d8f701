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

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The package imports its modules when a name is first used, so that a command that needs only
# the keys (``cert keygen``) does not load SQLAlchemy and web3 (PEP 562).
_MODULE_OF = {
    "Action": "provenance.certificate.evidence",
    "ActionKind": "provenance.certificate.evidence",
    "ActionLog": "provenance.certificate.evidence",
    "Anchor": "provenance.certificate.document",
    "AnchorError": "provenance.certificate.errors",
    "AnchorReceipt": "provenance.certificate.chain",
    "BatchInfo": "provenance.certificate.store",
    "canonicalize": "provenance.certificate.canonical",
    "Certificate": "provenance.certificate.document",
    "CertificateCheck": "provenance.certificate.verify",
    "CertificateError": "provenance.certificate.errors",
    "CertificateNotFound": "provenance.certificate.errors",
    "CertificateStore": "provenance.certificate.store",
    "Chain": "provenance.certificate.chain",
    "ChainError": "provenance.certificate.errors",
    "ChainLookup": "provenance.certificate.chain",
    "Check": "provenance.certificate.verify",
    "Contribution": "provenance.certificate.rubric",
    "DevChain": "provenance.certificate.devchain",
    "EvidenceError": "provenance.certificate.errors",
    "GenerationRecord": "provenance.certificate.mint",
    "key_id_of": "provenance.certificate.keys",
    "KeyFileError": "provenance.certificate.errors",
    "Keyring": "provenance.certificate.keys",
    "leaf_hash": "provenance.certificate.merkle",
    "load_rubric": "provenance.certificate.rubric",
    "MerkleTree": "provenance.certificate.merkle",
    "mint": "provenance.certificate.mint",
    "node_hash": "provenance.certificate.merkle",
    "parse_actions": "provenance.certificate.evidence",
    "parse_record": "provenance.certificate.mint",
    "PendingAnchor": "provenance.certificate.document",
    "profiles": "provenance.certificate.rubric",
    "RecordStateError": "provenance.certificate.errors",
    "Rubric": "provenance.certificate.rubric",
    "RubricError": "provenance.certificate.errors",
    "SCHEMA": "provenance.certificate.document",
    "score": "provenance.certificate.rubric",
    "Signer": "provenance.certificate.keys",
    "verify_certificate": "provenance.certificate.verify",
    "verify_inclusion": "provenance.certificate.merkle",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps an exported name bound to its object when a submodule of the same name (``mint``)
    is imported later: the import system would otherwise rebind the package attribute to the
    submodule."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
