"""The development chain kept in the SQL store, so every process that opens the store sees one chain.

eth-tester runs a chain in process memory: two service workers would each anchor on their own
chain (a certificate verifies in one worker and not in the other), and a restart forgets every
anchor. :class:`DevChain` keeps the chain in the store instead, as a journal (table
``dev_chain_txs``, migration ``0005_dev_chain``) of every raw signed transaction it accepted::

    block 1  0x7f33…  t=1796288929  02f8…   (raw bytes, signed with the development key)
    block 2  0x8aca…  t=1796288930  02f8…

A process builds its chain by replaying the journal in order: the same genesis, the same bytes
and the same block times give the same transaction hashes, block numbers and block times, since
eth-tester mines one block per transaction (block hashes differ: each block draws a random
``prevrandao``, and nothing checks them). Before every read it applies the rows it has not seen;
before every write it takes the journal's lock in the store (SQLite's write lock, a PostgreSQL
table lock), catches up, mines the transaction and journals it in the same database transaction.
The block number is the journal's primary key, so two processes that mined the same block can
never both record it: the loser rebuilds from the journal and tries again.

The sender is eth-tester's first funded account (private key 1): a public development key, never
to be used on a real chain. Replaying costs about 25 ms per journaled transaction (py-evm checks
each signature again) when a process first uses the chain.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Engine, String, Text, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from provenance.certificate.chain import AnchorReceipt, Chain, ChainLookup, as_hex
from provenance.certificate.errors import AnchorError, ChainError
from provenance.registry.db import Base, session_factory, transaction

#: genesis time of the development chain (fixed, so every replay starts from the same genesis)
GENESIS_TIME = 1_600_000_000
#: eth-tester's first prefunded account; public, for development only
DEV_PRIVATE_KEY = (1).to_bytes(32, "big")
_RETRIES = 5


class DevChainTx(Base):
    """One transaction of the development chain, in the block it was mined in."""

    __tablename__ = "dev_chain_txs"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    block_time: Mapped[int] = mapped_column(BigInteger)
    raw_tx: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _fresh() -> tuple[Any, Any]:
    """A new in-process chain from the fixed genesis: ``(web3, py-evm backend)``."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": GENESIS_TIME})
    backend = PyEVMBackend(genesis_parameters=params)
    return Web3(EthereumTesterProvider(EthereumTester(backend))), backend


class DevChain(Chain):
    """The embedded development chain, journaled in (and shared through) the SQL store."""

    def __init__(self, engine: Engine) -> None:
        from eth_account import Account

        w3, self._backend = _fresh()
        super().__init__(w3, label="development chain (store journal)")
        self.engine = engine
        self.sessions = session_factory(engine)
        self._key = Account.from_key(DEV_PRIVATE_KEY)
        self._lock = threading.RLock()
        self._applied = 0  # the last journaled block this process has replayed
        self._stale = False  # the local chain may hold a block the journal lacks
        self.sync()

    @property
    def sender(self) -> str:
        return str(self._key.address)

    @property
    def height(self) -> int:
        """The last journaled block this process has applied."""
        return self._applied

    # -- journal replay ---------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.w3, self._backend = _fresh()
        self._applied = 0
        self._stale = False

    def _set_next_block_time(self, t: int) -> None:
        # eth-tester mines the pending header; its timestamp becomes the block time
        chain = self._backend.chain
        chain.header = chain.header.copy(timestamp=t)

    def _catch_up(self, s: Session) -> None:
        if self._stale:
            self._rebuild()
        last = s.scalar(select(func.max(DevChainTx.block_number))) or 0
        if last < self._applied:  # the journal was reset: start again from genesis
            self._rebuild()
        if last == self._applied:
            return
        rows = s.scalars(
            select(DevChainTx)
            .where(DevChainTx.block_number > self._applied)
            .order_by(DevChainTx.block_number)
        )
        for r in rows:
            if r.block_number != self._applied + 1:
                raise ChainError(
                    f"development chain journal has a gap before block {r.block_number}"
                )
            self._set_next_block_time(r.block_time)
            try:
                h = as_hex(self.w3.eth.send_raw_transaction(bytes.fromhex(r.raw_tx)))
            except Exception as exc:
                self._stale = True
                raise ChainError(
                    f"development chain journal: block {r.block_number} does not replay "
                    f"({type(exc).__name__})"
                ) from None
            if h != r.tx_hash:
                self._stale = True
                raise ChainError(f"development chain journal diverges at block {r.block_number}")
            self._applied = r.block_number

    def sync(self) -> None:
        """Apply the journal rows this process has not seen yet."""
        with self._lock, self.sessions() as s:
            self._catch_up(s)

    # -- writing ----------------------------------------------------------------------------
    def _lock_journal(self, s: Session) -> None:
        if self.engine.dialect.name == "sqlite":
            # a write first takes SQLite's write lock, so concurrent anchoring serialises here
            s.execute(update(DevChainTx).where(DevChainTx.block_number == -1).values(block_time=0))
        elif self.engine.dialect.name == "postgresql":
            s.execute(text("LOCK TABLE dev_chain_txs IN EXCLUSIVE MODE"))

    def _mine(self, tx: dict[str, Any]) -> tuple[Any, DevChainTx]:
        eth = self.w3.eth
        latest = eth.get_block("latest")
        t = max(int(time.time()), int(latest["timestamp"]) + 1)
        full = {
            "from": self.sender,
            "value": 0,
            **tx,
            "nonce": eth.get_transaction_count(self.sender),
            "chainId": self.chain_id,
            "maxPriorityFeePerGas": 10**9,
            "maxFeePerGas": 2 * int(latest["baseFeePerGas"]) + 10**9,
        }
        full["gas"] = eth.estimate_gas(full)
        full.pop("from")
        raw = bytes(self._key.sign_transaction(full).raw_transaction)
        self._set_next_block_time(t)
        self._stale = True  # until the journal row is committed
        h = eth.send_raw_transaction(raw)
        rcpt = eth.get_transaction_receipt(h)
        row = DevChainTx(
            block_number=int(rcpt["blockNumber"]),
            chain_id=self.chain_id,
            tx_hash=as_hex(h),
            block_time=int(eth.get_block(rcpt["blockNumber"])["timestamp"]),
            raw_tx=raw.hex(),
            created_at=datetime.now(UTC),
        )
        return rcpt, row

    def _send(self, tx: dict[str, Any]) -> Any:
        with self._lock:
            for _ in range(_RETRIES):
                try:
                    with transaction(self.sessions) as s:
                        self._lock_journal(s)
                        self._catch_up(s)
                        rcpt, row = self._call("send transaction", self._mine, tx)
                        s.add(row)
                        s.flush()
                except IntegrityError:
                    continue  # another process journaled this block first: rebuild, retry
                self._applied, self._stale = int(row.block_number), False
                if int(rcpt["status"]) != 1:
                    raise AnchorError(f"transaction {row.tx_hash} reverted")
                return rcpt
            raise ChainError("development chain: could not append to the journal (contention)")

    # -- reading (after catching up) --------------------------------------------------------
    def anchor(self, root: bytes) -> AnchorReceipt:
        with self._lock:
            return super().anchor(root)

    def get_timestamp(self, contract: str, root: bytes) -> int:
        with self._lock:
            self.sync()
            return super().get_timestamp(contract, root)

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
        with self._lock:
            self.sync()
            return super().lookup(
                chain_id=chain_id,
                tx_hash=tx_hash,
                block_number=block_number,
                root=root,
                method=method,
                contract=contract,
            )
