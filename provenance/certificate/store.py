"""The certificate queue and anchoring batches in the SQL store (migration ``0003_certificates``).

A minted certificate is queued with a random 32-byte leaf salt. :meth:`CertificateStore.close_batches`
closes a batch when enough certificates wait (``max_size``) or the oldest has waited ``max_age``;
the batch's Merkle root is fixed at close. :meth:`CertificateStore.anchor_batches` puts each closed
root on chain in one transaction; a failure is recorded on the batch (attempts, last error) and the
batch is retried on the next call, so nothing is lost. Until then certificates read ``pending``.

An anchor can also be lost after the fact: a development chain reset, a test node restarted. Each
:meth:`CertificateStore.anchor_batches` call therefore first reads every anchored batch back from
the chain it is given (when the batch names that chain's id) and reopens the batches whose
transaction the chain does not hold, so they are anchored again in the same call.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from provenance.certificate.chain import Chain
from provenance.certificate.document import Anchor, Certificate, PendingAnchor
from provenance.certificate.errors import (
    AnchorError,
    CertificateError,
    CertificateNotFound,
    ChainError,
)
from provenance.certificate.merkle import MerkleTree, certificate_leaf
from provenance.registry.db import Base, crash_point, session_factory, transaction


class CertBatch(Base):
    """A closed batch of certificates and, once anchored, where its root is on chain."""

    __tablename__ = "cert_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # closed | anchored
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: set while one process anchors the batch (a lease: stale claims are taken over)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    chain_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    contract: Mapped[str | None] = mapped_column(String(42), nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    anchored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CertRow(Base):
    """A minted certificate (document without its anchor block) and its leaf."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cert_id: Mapped[str] = mapped_column(String(32), unique=True)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mark_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    generation_id: Mapped[str] = mapped_column(String(128), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[str] = mapped_column(Text)
    leaf_salt: Mapped[str] = mapped_column(String(64))
    leaf_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("cert_batches.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    leaf_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


@dataclass(frozen=True)
class BatchInfo:
    """A batch as reported by the store."""

    id: int
    status: str
    size: int
    root: str
    attempts: int
    last_error: str | None
    chain_id: int | None
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    block_time: int | None = None
    method: str | None = None
    contract: str | None = None


def _info(b: CertBatch) -> BatchInfo:
    return BatchInfo(
        b.id, b.status, b.size, b.root, b.attempts, b.last_error, b.chain_id, b.tx_hash,
        b.block_number, b.gas_used, b.block_time, b.method, b.contract,
    )  # fmt: skip


#: what an anchored batch records about its transaction (cleared when the anchor is lost)
_ANCHOR_COLUMNS = (
    "chain_id", "tx_hash", "block_number", "block_time", "method", "contract", "gas_used",
    "anchored_at",
)  # fmt: skip


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class CertificateStore:
    """Certificates, batches and anchoring in the SQL store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)

    # -- queue ------------------------------------------------------------------------------
    def add(self, cert: Certificate, *, now: datetime | None = None) -> None:
        """Queue a certificate for the next batch (a certificate id can be added once)."""
        self.add_many([cert], now=now)

    def add_many(self, certs: list[Certificate], *, now: datetime | None = None) -> None:
        """Queue several certificates in one transaction (all or none)."""
        rows = [self._row(c, now or datetime.now(UTC)) for c in certs]
        try:
            with transaction(self.sessions) as s:
                s.add_all(rows)
            crash_point("certificate.queued")
        except IntegrityError:
            raise CertificateError(
                f"certificate {certs[0].id if len(certs) == 1 else '(one of the batch)'} is already stored"
            ) from None

    @staticmethod
    def _row(cert: Certificate, now: datetime) -> CertRow:
        salt = secrets.token_bytes(32)
        leaf = certificate_leaf(salt, cert.document_sha256())
        doc = cert.to_dict()
        doc.pop("anchor", None)
        return CertRow(
            cert_id=cert.id,
            content_sha256=cert.subject.content_sha256,
            mark_id=cert.subject.mark_id,
            generation_id=cert.subject.generation_id,
            key_id=cert.issuer.key_id,
            issued_at=datetime.fromisoformat(cert.issued_at),
            queued_at=now,
            document=json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
            leaf_salt=salt.hex(),
            leaf_hash=leaf.hex(),
        )

    def pending_count(self) -> int:
        """Certificates not yet in a closed batch."""
        with self.sessions() as s:
            q = select(func.count()).select_from(CertRow).where(CertRow.batch_id.is_(None))
            return int(s.scalar(q) or 0)

    # -- batches ----------------------------------------------------------------------------
    def close_batches(
        self,
        *,
        max_size: int = 10_000,
        max_age: timedelta = timedelta(minutes=10),
        force: bool = False,
        now: datetime | None = None,
    ) -> list[int]:
        """Close full batches, and a partial one whose oldest member waited ``max_age`` (or any
        partial one with ``force``). Returns the new batch ids; each root is fixed here."""
        if max_size < 1:
            raise CertificateError("max_size must be at least 1")
        now = now or datetime.now(UTC)
        closed: list[int] = []
        while True:
            with transaction(self.sessions) as s:
                if self.engine.dialect.name == "sqlite":
                    # take SQLite's write lock before reading, so concurrent closers serialise
                    s.execute(update(CertBatch).where(CertBatch.id == -1).values(size=0))
                q = (
                    select(CertRow.id, CertRow.leaf_hash, CertRow.queued_at)
                    .where(CertRow.batch_id.is_(None))
                    .order_by(CertRow.id)
                    .limit(max_size)
                )
                if self.engine.dialect.name == "postgresql":
                    q = q.with_for_update(skip_locked=True)
                rows = s.execute(q).all()
                if not rows:
                    break
                if len(rows) < max_size and not force and _aware(rows[0][2]) > now - max_age:
                    break
                tree = MerkleTree([bytes.fromhex(r[1]) for r in rows])
                batch = CertBatch(
                    status="closed", size=len(rows), root=tree.root.hex(), closed_at=now, attempts=0
                )
                s.add(batch)
                s.flush()
                s.execute(
                    update(CertRow),
                    [
                        {"id": r[0], "batch_id": batch.id, "leaf_index": i}
                        for i, r in enumerate(rows)
                    ],
                )
                closed.append(batch.id)
            crash_point("batch.closed")
        return closed

    def reopen_lost(self, chain: Chain) -> list[int]:
        """Reopen (back to ``closed``) every anchored batch that names ``chain``'s id but whose
        transaction the chain does not hold, or holds elsewhere; returns their ids.

        Batches anchored on another chain id are left alone: this chain cannot speak for them.
        Stops quietly when the chain cannot be reached.
        """
        with self.sessions() as s:
            rows = s.execute(
                select(
                    CertBatch.id, CertBatch.root, CertBatch.chain_id, CertBatch.tx_hash,
                    CertBatch.block_number, CertBatch.block_time, CertBatch.method,
                    CertBatch.contract,
                )
                .where(CertBatch.status == "anchored")
                .order_by(CertBatch.id)
            ).all()  # fmt: skip
        try:
            chain_id = chain.chain_id
        except ChainError:
            return []
        reopened: list[int] = []
        for bid, root, cid, tx, block, btime, method, contract in rows:
            if cid != chain_id or tx is None or block is None or method is None:
                continue
            try:
                look = chain.lookup(
                    chain_id=cid,
                    tx_hash=tx,
                    block_number=block,
                    root=bytes.fromhex(root),
                    method=method,
                    contract=contract,
                )
            except ChainError:
                break
            if look.ok and look.block_time == btime:
                continue
            detail = look.detail if not look.ok else "block time differs from the batch's"
            with transaction(self.sessions) as s:
                done = s.execute(
                    update(CertBatch)
                    .where(
                        CertBatch.id == bid, CertBatch.status == "anchored", CertBatch.tx_hash == tx
                    )
                    .values(
                        status="closed", claimed_at=None, last_error=f"anchor lost: {detail}"[:500]
                    )
                    .values({c: None for c in _ANCHOR_COLUMNS})
                    .execution_options(synchronize_session=False)
                )
            if getattr(done, "rowcount", 0) == 1:
                reopened.append(bid)
        return reopened

    def anchor_batches(
        self,
        chain: Chain,
        *,
        now: datetime | None = None,
        lease: timedelta = timedelta(minutes=10),
        recheck: bool = True,
    ) -> list[BatchInfo]:
        """Anchor every closed, un-anchored batch (one transaction each, oldest first).

        With ``recheck`` (the default) anchored batches whose transaction ``chain`` lost are
        reopened first (:meth:`reopen_lost`, one chain lookup per anchored batch), so they are
        anchored again here. Each batch is claimed first (a conditional update with a ``lease``),
        so concurrent anchoring jobs do not send the same root twice. A failure is recorded on the
        batch (attempts, last error), the claim is released and the batch is retried on the next
        call; after a chain error the remaining batches wait too. Safe to call again at any time
        (e.g. at start-up). Returns the batches tried, as they now stand.
        """
        if recheck:
            self.reopen_lost(chain)
        with self.sessions() as s:
            ids = list(
                s.scalars(
                    select(CertBatch.id).where(CertBatch.status == "closed").order_by(CertBatch.id)
                )
            )
        out: list[BatchInfo] = []
        for bid in ids:
            t = now or datetime.now(UTC)
            with transaction(self.sessions) as s:
                claimed = s.execute(
                    update(CertBatch)
                    .where(
                        CertBatch.id == bid,
                        CertBatch.status == "closed",
                        (CertBatch.claimed_at.is_(None)) | (CertBatch.claimed_at < t - lease),
                    )
                    .values(claimed_at=t)
                    .execution_options(synchronize_session=False)
                )
                if getattr(claimed, "rowcount", 0) != 1:
                    continue  # anchored or being anchored by another process
                b = s.get(CertBatch, bid)
                assert b is not None
                root = bytes.fromhex(b.root)
            crash_point("anchor.claimed")
            try:
                rc = chain.anchor(root)
            except (AnchorError, ChainError) as exc:
                with transaction(self.sessions) as s:
                    b = s.get(CertBatch, bid)
                    assert b is not None
                    b.attempts += 1
                    b.last_error = str(exc)[:500]
                    b.claimed_at = None
                    out.append(_info(b))
                if isinstance(exc, ChainError):
                    break
                continue
            crash_point("anchor.sent")
            with transaction(self.sessions) as s:
                b = s.get(CertBatch, bid)
                assert b is not None
                b.status = "anchored"
                b.attempts += 1
                b.last_error = None
                b.claimed_at = None
                b.chain_id = rc.chain_id
                b.tx_hash = rc.tx_hash
                b.block_number = rc.block_number
                b.block_time = rc.block_time
                b.method = rc.method
                b.contract = rc.contract
                b.gas_used = rc.gas_used
                b.anchored_at = now or datetime.now(UTC)
                out.append(_info(b))
        return out

    def batches(self, status: str | None = None) -> list[BatchInfo]:
        """Batches, oldest first (optionally only ``closed`` or ``anchored`` ones)."""
        with self.sessions() as s:
            q = select(CertBatch).order_by(CertBatch.id)
            if status:
                q = q.where(CertBatch.status == status)
            return [_info(b) for b in s.scalars(q)]

    # -- reading ----------------------------------------------------------------------------
    def _anchor(self, b: CertBatch, row: CertRow, tree: MerkleTree) -> Anchor | PendingAnchor:
        if b.status != "anchored" or row.leaf_index is None:
            return PendingAnchor(status="pending")
        assert b.chain_id is not None and b.tx_hash is not None and b.block_number is not None
        return Anchor(
            status="anchored",
            batch_id=b.id,
            leaf_salt=row.leaf_salt,
            leaf_index=row.leaf_index,
            tree_size=b.size,
            proof=base64.b64encode(b"".join(tree.proof(row.leaf_index))).decode("ascii"),
            root=b.root,
            chain_id=b.chain_id,
            tx_hash=b.tx_hash,
            block_number=b.block_number,
            block_time=int(b.block_time or 0),
            method=b.method,
            contract=b.contract,
        )

    def _tree(self, s: object, batch_id: int) -> MerkleTree:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        leaves = s.scalars(
            select(CertRow.leaf_hash)
            .where(CertRow.batch_id == batch_id)
            .order_by(CertRow.leaf_index)
        )
        return MerkleTree([bytes.fromhex(h) for h in leaves])

    def get(self, cert_id: str) -> Certificate:
        """The certificate with its current anchor block (``pending`` or the inclusion proof)."""
        with self.sessions() as s:
            row = s.scalars(select(CertRow).where(CertRow.cert_id == cert_id)).one_or_none()
            if row is None:
                raise CertificateNotFound(f"no certificate {cert_id!r}")
            doc = json.loads(row.document)
            anchor: Anchor | PendingAnchor = PendingAnchor(status="pending")
            if row.batch_id is not None:
                b = s.get(CertBatch, row.batch_id)
                if b is not None and b.status == "anchored":
                    anchor = self._anchor(b, row, self._tree(s, b.id))
        doc["anchor"] = anchor.model_dump(mode="json")
        return Certificate.model_validate(doc)

    def export_batch(self, batch_id: int) -> list[Certificate]:
        """Every certificate of a batch with its anchor block (the tree is built once)."""
        with self.sessions() as s:
            b = s.get(CertBatch, batch_id)
            if b is None:
                raise CertificateError(f"no batch {batch_id}")
            rows = list(
                s.scalars(
                    select(CertRow).where(CertRow.batch_id == batch_id).order_by(CertRow.leaf_index)
                )
            )
            tree = MerkleTree([bytes.fromhex(r.leaf_hash) for r in rows])
            out = []
            for r in rows:
                doc = json.loads(r.document)
                doc["anchor"] = self._anchor(b, r, tree).model_dump(mode="json")
                out.append(Certificate.model_validate(doc))
        return out

    def find(
        self,
        *,
        generation_id: str | None = None,
        content_sha256: str | None = None,
        mark_id: str | None = None,
        limit: int = 100,
    ) -> list[str]:
        """Ids of the certificates about a generation, a content hash or a mark id, newest first."""
        if generation_id is None and content_sha256 is None and mark_id is None:
            raise CertificateError("give generation_id, content_sha256 or mark_id")
        q = select(CertRow.cert_id).order_by(CertRow.id.desc()).limit(max(1, limit))
        if generation_id is not None:
            q = q.where(CertRow.generation_id == str(generation_id))
        if content_sha256 is not None:
            q = q.where(CertRow.content_sha256 == content_sha256.lower())
        if mark_id is not None:
            q = q.where(CertRow.mark_id == mark_id.lower())
        with self.sessions() as s:
            return list(s.scalars(q))

    def ids(self, *, batch_id: int | None = None) -> list[str]:
        """Certificate ids (of one batch, or all), in queue order."""
        with self.sessions() as s:
            q = select(CertRow.cert_id).order_by(CertRow.id)
            if batch_id is not None:
                q = q.where(CertRow.batch_id == batch_id)
            return list(s.scalars(q))
