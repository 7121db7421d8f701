"""Anchoring Merkle roots on an EVM chain with web3.

Two ways to carry a root:

* ``calldata`` (default): a zero-value transaction from the issuer account to itself whose input is
  exactly the 32-byte root (at most 22,280 gas on current forks);
* ``eas-timestamp``: when an EAS contract address is configured, a call of
  ``timestamp(bytes32 root)`` on it (an Ethereum Attestation Service deployment, or the minimal
  compatible contract of :mod:`provenance.certificate.evm`); ``getTimestamp(root)`` reads it back.

:meth:`Chain.embedded` runs an in-process chain (eth-tester with py-evm) for development and tests;
:meth:`Chain.connect` talks to any Ethereum JSON-RPC endpoint, signing locally with a key file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.certificate.errors import AnchorError, ChainError, KeyFileError
from provenance.certificate.evm import (
    GET_TIMESTAMP_SELECTOR,
    TIMESTAMP_SELECTOR,
    TIMESTAMPED_TOPIC,
    init_code,
)
from provenance.certificate.keys import read_private_file

METHOD_CALLDATA = "calldata"
METHOD_EAS = "eas-timestamp"
_ADDR = re.compile(r"^0x[0-9a-fA-F]{40}$")


@dataclass(frozen=True)
class AnchorReceipt:
    """Where a root was anchored."""

    chain_id: int
    tx_hash: str
    block_number: int
    block_time: int
    gas_used: int
    method: str
    contract: str | None
    sender: str


@dataclass(frozen=True)
class ChainLookup:
    """What the chain says about an anchor: ``ok`` with the block time, or the reason it fails."""

    ok: bool
    detail: str
    block_time: int | None = None


def as_hex(b: Any) -> str:
    h = b.hex() if isinstance(b, bytes | bytearray) else str(b)
    return h if h.startswith("0x") else "0x" + h


def _bytes(v: Any) -> bytes:
    if isinstance(v, bytes | bytearray):
        return bytes(v)
    s = str(v)
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def load_eth_key(path: str | Path) -> Any:
    """An eth-account ``LocalAccount`` from a file holding a hex private key (mode 0600)."""
    from eth_account import Account

    raw = read_private_file(Path(path)).decode("ascii", "replace").strip()
    try:
        return Account.from_key(raw)
    except (ValueError, TypeError):
        raise KeyFileError(f"{path} does not hold a hex Ethereum private key") from None


class Chain:
    """An EVM chain the batch roots go to (and are read back from)."""

    def __init__(
        self,
        w3: Any,
        *,
        account: Any = None,
        eas_address: str | None = None,
        label: str = "",
        timeout: float = 60.0,
    ) -> None:
        if eas_address is not None and not _ADDR.match(eas_address):
            raise ChainError(f"EAS contract address {eas_address!r} is not a 0x address")
        self.w3 = w3
        self.account = account
        self.eas_address = w3.to_checksum_address(eas_address) if eas_address else None
        self.label = label
        self.timeout = timeout
        if account is not None:
            from web3.middleware import SignAndSendRawMiddlewareBuilder

            w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
        self._chain_id: int | None = None

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def embedded(cls, *, eas: bool = False) -> Chain:
        """A fresh in-process chain (eth-tester + py-evm); ``eas=True`` deploys the timestamp
        contract and anchors through it."""
        from web3 import EthereumTesterProvider, Web3

        chain = cls(Web3(EthereumTesterProvider()), label="embedded eth-tester chain")
        if eas:
            chain.eas_address = chain.deploy_timestamp_contract()
        return chain

    @classmethod
    def connect(
        cls,
        rpc_url: str,
        *,
        key_file: str | Path | None = None,
        eas_address: str | None = None,
        timeout: float = 10.0,
    ) -> Chain:
        """A JSON-RPC endpoint (``http(s)://``); transactions are signed with ``key_file`` (a hex
        private key, mode 0600), or sent from the node's first unlocked account without one."""
        from web3 import HTTPProvider, Web3

        if not rpc_url.startswith(("http://", "https://")):
            raise ChainError(f"RPC URL must start with http:// or https:// (got {rpc_url!r})")
        w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        account = load_eth_key(key_file) if key_file is not None else None
        return cls(w3, account=account, eas_address=eas_address, label=rpc_url)

    # -- facts ------------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ChainError, AnchorError):
            raise
        except Exception as exc:
            name = type(exc).__name__
            msg = str(exc).split("\n")[0][:160]
            raise ChainError(
                f"chain {self.label or 'endpoint'}: {what} failed ({name}: {msg})"
            ) from None

    @property
    def chain_id(self) -> int:
        """The chain id the endpoint reports."""
        if self._chain_id is None:
            self._chain_id = int(self._call("eth_chainId", lambda: self.w3.eth.chain_id))
        return self._chain_id

    @property
    def sender(self) -> str:
        """The address that sends anchoring transactions."""
        if self.account is not None:
            return str(self.account.address)
        accounts = self._call("eth_accounts", lambda: self.w3.eth.accounts)
        if not accounts:
            raise ChainError("the node has no unlocked account: give a key file")
        return str(accounts[0])

    @property
    def method(self) -> str:
        """``eas-timestamp`` when an EAS address is configured, else ``calldata``."""
        return METHOD_EAS if self.eas_address else METHOD_CALLDATA

    # -- writing ----------------------------------------------------------------------------
    def _send(self, tx: dict[str, Any]) -> Any:
        tx = {"from": self.sender, "value": 0, **tx}
        h = self._call("send transaction", self.w3.eth.send_transaction, tx)
        rcpt = self._call(
            "wait for receipt", self.w3.eth.wait_for_transaction_receipt, h, timeout=self.timeout
        )
        if int(rcpt["status"]) != 1:
            raise AnchorError(f"transaction {as_hex(h)} reverted")
        return rcpt

    def deploy_timestamp_contract(self) -> str:
        """Deploy the minimal EAS-compatible timestamp contract; returns its address."""
        rcpt = self._send({"data": as_hex(init_code())})
        addr = rcpt["contractAddress"]
        if not addr:
            raise AnchorError("contract deployment returned no address")
        return str(addr)

    def anchor(self, root: bytes) -> AnchorReceipt:
        """Put ``root`` on chain in one transaction and wait for its receipt."""
        if len(root) != 32:
            raise AnchorError("a batch root has 32 bytes")
        if self.eas_address:
            earlier = self.find_timestamp(root)
            if earlier is not None:  # anchored before (e.g. the receipt was lost): reuse it
                return earlier
            tx = {"to": self.eas_address, "data": as_hex(TIMESTAMP_SELECTOR + root)}
        else:
            tx = {"to": self.sender, "data": as_hex(root)}
        return self._receipt(self._send(tx))

    def _receipt(self, rcpt: Any) -> AnchorReceipt:
        block = self._call("get block", self.w3.eth.get_block, rcpt["blockNumber"])
        return AnchorReceipt(
            chain_id=self.chain_id,
            tx_hash=as_hex(rcpt["transactionHash"]),
            block_number=int(rcpt["blockNumber"]),
            block_time=int(block["timestamp"]),
            gas_used=int(rcpt["gasUsed"]),
            method=self.method,
            contract=self.eas_address,
            sender=str(rcpt.get("from") or self.sender),
        )

    def find_timestamp(self, root: bytes) -> AnchorReceipt | None:
        """The earlier ``timestamp(root)`` transaction on the EAS contract, if there is one
        (found through its ``Timestamped`` event)."""
        if not self.eas_address or self.get_timestamp(self.eas_address, root) == 0:
            return None
        logs = self._call(
            "eth_getLogs",
            self.w3.eth.get_logs,
            {
                "fromBlock": 0,
                "toBlock": "latest",
                "address": self.eas_address,
                "topics": [as_hex(TIMESTAMPED_TOPIC), as_hex(root)],
            },
        )
        if not logs:
            raise AnchorError("root is timestamped on the contract but its event was not found")
        rcpt = self._call(
            "get receipt", self.w3.eth.get_transaction_receipt, logs[0]["transactionHash"]
        )
        return self._receipt(rcpt)

    # -- reading ----------------------------------------------------------------------------
    def get_timestamp(self, contract: str, root: bytes) -> int:
        """``getTimestamp(root)`` of an EAS(-compatible) contract."""
        out = self._call(
            "eth_call",
            self.w3.eth.call,
            {
                "to": self.w3.to_checksum_address(contract),
                "data": as_hex(GET_TIMESTAMP_SELECTOR + root),
            },
        )
        return int.from_bytes(_bytes(out) or b"\x00", "big")

    def lookup(
        self,
        *,
        chain_id: int,
        tx_hash: str,
        block_number: int,
        root: bytes,
        method: str,
        contract: str | None,
    ) -> ChainLookup:
        """Check that ``tx_hash`` on this chain carries ``root`` in block ``block_number``.

        Raises :class:`ChainError` when the endpoint cannot be reached.
        """
        if self.chain_id != chain_id:
            return ChainLookup(
                False, f"endpoint is chain {self.chain_id}, certificate says {chain_id}"
            )
        from web3.exceptions import TransactionNotFound

        try:
            tx = self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return ChainLookup(False, f"transaction {tx_hash} not found on chain {chain_id}")
        except Exception as exc:
            raise ChainError(
                f"chain {self.label}: get transaction failed ({type(exc).__name__})"
            ) from None
        data = _bytes(tx["input"])
        if method == METHOD_EAS:
            if not contract or str(tx.get("to") or "").lower() != contract.lower():
                return ChainLookup(False, "transaction was not sent to the certificate's contract")
            if data != TIMESTAMP_SELECTOR + root:
                return ChainLookup(False, "transaction does not timestamp this root")
        elif method == METHOD_CALLDATA:
            if data != root:
                return ChainLookup(False, "transaction input is not this root")
        else:
            return ChainLookup(False, f"unknown anchoring method {method!r}")
        rcpt = self._call("get receipt", self.w3.eth.get_transaction_receipt, tx_hash)
        if int(rcpt["status"]) != 1:
            return ChainLookup(False, "anchoring transaction reverted")
        if int(rcpt["blockNumber"]) != block_number:
            return ChainLookup(
                False, f"transaction is in block {rcpt['blockNumber']}, not {block_number}"
            )
        block = self._call("get block", self.w3.eth.get_block, block_number)
        t = int(block["timestamp"])
        if method == METHOD_EAS and contract:
            got = self.get_timestamp(contract, root)
            if got != t:
                return ChainLookup(False, f"contract getTimestamp(root) = {got}, block time {t}")
        return ChainLookup(
            True, f"root in tx {tx_hash[:12]}… block {block_number} of chain {chain_id}", t
        )
