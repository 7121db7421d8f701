"""The generation registry: create, find and list generation records.

Every write is one transaction: a record and its media hashes land together or not at all.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from provenance.registry.db import session_factory, transaction
from provenance.registry.models import Generation, Media

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MEDIA_KINDS = frozenset({"audio", "video", "image", "other"})


class RegistryError(ValueError):
    """A registry request that cannot be served (bad argument or unknown record)."""


@dataclass(frozen=True)
class MediaHash:
    """A media file to attach to a record."""

    kind: str
    name: str
    sha256: str


def to_signed64(value: int) -> int:
    """Two's-complement view of an unsigned 64-bit integer (for SQL BIGINT)."""
    if not 0 <= value < 1 << 64:
        raise RegistryError("mark_id must be an unsigned 64-bit integer")
    return value - (1 << 64) if value >= 1 << 63 else value


def parse_mark_id(text: str) -> int:
    """Parse a mark id given as 16 hex digits."""
    if not re.fullmatch(r"[0-9a-fA-F]{16}", text or ""):
        raise RegistryError("mark id must be 16 hex digits")
    return int(text, 16)


class Registry:
    """Generation records in the SQL store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)

    def create(
        self,
        *,
        user_id: str,
        model: str,
        prompt: str,
        disclosure: str = "ai-generated",
        preset_id: str | None = None,
        media: Iterable[MediaHash] = (),
        mark_id: int | None = None,
        status: str = "complete",
    ) -> Generation:
        """Register a generation with a fresh random 64-bit ``mark_id``.

        The prompt itself is not stored: only its SHA-256 and length. ``mark_id`` may be given
        (e.g. for imports); otherwise a random one is drawn, and redrawn on the rare collision.
        """
        if not user_id or not model:
            raise RegistryError("user_id and model are required")
        media = list(media)
        for m in media:
            if m.kind not in MEDIA_KINDS:
                raise RegistryError(f"unknown media kind {m.kind!r}")
            if not _HEX64.match(m.sha256):
                raise RegistryError("media sha256 must be 64 lowercase hex digits")
        digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        for _attempt in range(8):
            mid = mark_id if mark_id is not None else secrets.randbits(64)
            now = datetime.now(UTC)
            try:
                with transaction(self.sessions) as s:
                    gen = Generation(
                        mark_id_signed=to_signed64(mid),
                        user_id=user_id,
                        model=model,
                        preset_id=preset_id,
                        created_at=now,
                        prompt_sha256=digest,
                        prompt_length=len(prompt),
                        disclosure=disclosure,
                        status=status,
                    )
                    gen.media = [
                        Media(kind=m.kind, name=m.name, sha256=m.sha256, created_at=now)
                        for m in media
                    ]
                    s.add(gen)
                return gen
            except IntegrityError:
                if mark_id is not None:
                    raise RegistryError(f"mark_id {mid:016x} already registered") from None
        raise RegistryError("could not allocate a unique mark_id")  # pragma: no cover

    def add_media(self, generation_id: int, media: Iterable[MediaHash]) -> None:
        """Attach media hashes to an existing record (one transaction)."""
        now = datetime.now(UTC)
        with transaction(self.sessions) as s:
            gen = s.get(Generation, generation_id)
            if gen is None:
                raise RegistryError(f"no generation {generation_id}")
            for m in media:
                if m.kind not in MEDIA_KINDS or not _HEX64.match(m.sha256):
                    raise RegistryError("invalid media hash")
                gen.media.append(Media(kind=m.kind, name=m.name, sha256=m.sha256, created_at=now))

    def set_status(self, generation_id: int, status: str) -> None:
        """Change a record's status (``pending`` while media are being marked, then ``complete``)."""
        with transaction(self.sessions) as s:
            gen = s.get(Generation, generation_id)
            if gen is None:
                raise RegistryError(f"no generation {generation_id}")
            gen.status = status

    def delete(self, generation_id: int) -> bool:
        """Remove a record and its media hashes; False when it did not exist."""
        with transaction(self.sessions) as s:
            gen = s.get(Generation, generation_id)
            if gen is None:
                return False
            s.delete(gen)
            return True

    def pending(self, *, created_before: datetime, limit: int = 1000) -> list[Generation]:
        """Records still ``pending`` that were created before ``created_before``, oldest first."""
        with self.sessions() as s:
            q = (
                select(Generation)
                .where(Generation.status == "pending", Generation.created_at < created_before)
                .order_by(Generation.id)
                .limit(limit)
            )
            return list(s.scalars(q))

    def delete_pending(self, generation_id: int) -> bool:
        """Remove a record and its media hashes only while it is still ``pending``; False
        otherwise. One conditional statement (media rows go by the foreign key's cascade), so a
        record completed meanwhile is never removed."""
        with transaction(self.sessions) as s:
            res = s.execute(
                delete(Generation).where(
                    Generation.id == generation_id, Generation.status == "pending"
                )
            )
            return bool(getattr(res, "rowcount", 0))

    def existing_marks(self, mark_ids: Iterable[int]) -> set[int]:
        """Which of these (unsigned) mark ids have a record."""
        signed = [to_signed64(m) for m in mark_ids]
        out: set[int] = set()
        with self.sessions() as s:
            for i in range(0, len(signed), 500):
                q = select(Generation.mark_id_signed).where(
                    Generation.mark_id_signed.in_(signed[i : i + 500])
                )
                out.update(int(v) & 0xFFFF_FFFF_FFFF_FFFF for v in s.scalars(q))
        return out

    def get(self, generation_id: int) -> Generation | None:
        """The record with this primary key."""
        with self.sessions() as s:
            return s.get(Generation, generation_id)

    def by_mark_id(self, mark_id: int) -> Generation | None:
        """The record a watermark payload points to."""
        with self.sessions() as s:
            return s.scalars(
                select(Generation).where(Generation.mark_id_signed == to_signed64(mark_id))
            ).one_or_none()

    def by_media_sha256(self, sha256: str) -> list[Generation]:
        """Records that produced a file with exactly this SHA-256."""
        with self.sessions() as s:
            q = select(Generation).join(Media).where(Media.sha256 == sha256.lower()).distinct()
            return list(s.scalars(q))

    def count(self) -> int:
        """Number of records."""
        from sqlalchemy import func

        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(Generation)) or 0)
