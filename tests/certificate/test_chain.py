"""Anchoring on the embedded chain: calldata and the EAS-compatible contract."""

from __future__ import annotations

import hashlib

import pytest

from provenance.certificate import AnchorError, Chain, ChainError
from provenance.certificate.evm import (
    GET_TIMESTAMP_SELECTOR,
    RUNTIME,
    TIMESTAMP_SELECTOR,
    assemble,
    init_code,
)


@pytest.fixture(scope="module")
def eas_chain() -> Chain:
    return Chain.embedded(eas=True)


def test_assembler_and_selectors() -> None:
    from eth_utils import keccak

    from provenance.certificate.evm import TIMESTAMPED_TOPIC

    assert keccak(text="timestamp(bytes32)")[:4] == TIMESTAMP_SELECTOR  # as in EAS
    assert keccak(text="getTimestamp(bytes32)")[:4] == GET_TIMESTAMP_SELECTOR
    assert keccak(text="Timestamped(bytes32,uint64)") == TIMESTAMPED_TOPIC
    assert assemble(["x:", "@x", "PUSH0"]) == bytes([0x5B, 0x60, 0x00, 0x5F])
    assert init_code()[10:] == RUNTIME and len(RUNTIME) < 256


def test_calldata_anchor_roundtrip() -> None:
    chain = Chain.embedded()
    root = hashlib.sha256(b"root").digest()
    rc = chain.anchor(root)
    assert rc.method == "calldata" and rc.contract is None and rc.gas_used == 22_280
    look = chain.lookup(
        chain_id=rc.chain_id, tx_hash=rc.tx_hash, block_number=rc.block_number, root=root,
        method="calldata", contract=None,
    )  # fmt: skip
    assert look.ok and look.block_time == rc.block_time
    other = hashlib.sha256(b"other").digest()
    assert not chain.lookup(
        chain_id=rc.chain_id, tx_hash=rc.tx_hash, block_number=rc.block_number, root=other,
        method="calldata", contract=None,
    ).ok  # fmt: skip
    assert "chain" in chain.lookup(
        chain_id=rc.chain_id + 1, tx_hash=rc.tx_hash, block_number=rc.block_number, root=root,
        method="calldata", contract=None,
    ).detail  # fmt: skip
    missing = "0x" + "ab" * 32
    assert (
        "not found"
        in chain.lookup(
            chain_id=rc.chain_id,
            tx_hash=missing,
            block_number=1,
            root=root,
            method="calldata",
            contract=None,
        ).detail
    )
    with pytest.raises(AnchorError):
        chain.anchor(b"short")


def test_eas_timestamp_contract(eas_chain: Chain) -> None:
    assert eas_chain.eas_address and eas_chain.method == "eas-timestamp"
    root = hashlib.sha256(b"eas root").digest()
    assert eas_chain.get_timestamp(eas_chain.eas_address, root) == 0
    rc = eas_chain.anchor(root)
    assert rc.contract == eas_chain.eas_address and 40_000 < rc.gas_used < 50_000
    assert eas_chain.get_timestamp(eas_chain.eas_address, root) == rc.block_time
    look = eas_chain.lookup(
        chain_id=rc.chain_id, tx_hash=rc.tx_hash, block_number=rc.block_number, root=root,
        method="eas-timestamp", contract=rc.contract,
    )  # fmt: skip
    assert look.ok
    # the Timestamped(bytes32 indexed, uint64 indexed) event carries root and time
    logs = eas_chain.w3.eth.get_transaction_receipt(rc.tx_hash)["logs"]
    assert bytes(logs[0]["topics"][1]) == root
    assert int.from_bytes(bytes(logs[0]["topics"][2]), "big") == rc.block_time
    # like EAS, the contract timestamps a root once; anchoring again finds the earlier anchor
    # (a lost receipt is recovered from the Timestamped event instead of being sent twice)
    again = eas_chain.anchor(root)
    assert again == rc
    with pytest.raises((AnchorError, ChainError)):
        eas_chain._send(
            {"to": eas_chain.eas_address, "data": "0x" + (TIMESTAMP_SELECTOR + root).hex()}
        )
    # the wrong contract is noticed
    assert not eas_chain.lookup(
        chain_id=rc.chain_id, tx_hash=rc.tx_hash, block_number=rc.block_number, root=root,
        method="eas-timestamp", contract="0x" + "11" * 20,
    ).ok  # fmt: skip


def test_unreachable_and_bad_endpoints() -> None:
    with pytest.raises(ChainError, match="http"):
        Chain.connect("ftp://example")
    dead = Chain.connect("http://127.0.0.1:9", timeout=2)
    with pytest.raises(ChainError, match="failed"):
        dead.anchor(b"r" * 32)
    with pytest.raises(ChainError):
        Chain.embedded().__class__(dead.w3, eas_address="not-an-address")
