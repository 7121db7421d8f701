"""ORM models of the fingerprint store (tables created by migration ``0002_fingerprints``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from provenance.registry.db import Base


class FingerprintVideo(Base):
    """A registered video: its external id and how many frame hashes it has."""

    __tablename__ = "fingerprint_videos"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    video_id: Mapped[str] = mapped_column(String(255), unique=True)
    duration_s: Mapped[float] = mapped_column(Float)
    n_frames: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FingerprintFrame(Base):
    """One frame hash of a registered video (the source of truth for the FAISS index)."""

    __tablename__ = "fingerprint_frames"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    video_pk: Mapped[int] = mapped_column(
        ForeignKey("fingerprint_videos.id", ondelete="CASCADE"), index=True
    )
    t_s: Mapped[float] = mapped_column(Float)
    quality: Mapped[int] = mapped_column(SmallInteger)
    #: 0: the whole frame; 1: its central region (see ``provenance.fingerprint.video.CROP``)
    variant: Mapped[int] = mapped_column(SmallInteger, default=0)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))


class FingerprintChange(Base):
    """One entry of the change feed: a video's frame hashes were added (``op = 1``) or removed
    (``op = -1``).

    Append-only, written in the transaction of the change itself (a rolled-back write leaves no
    entry). Ids grow in commit order (see :mod:`provenance.fingerprint.feed`), so a worker that
    has applied every entry up to id ``c`` brings its index up to date by reading ``id > c``.
    """

    __tablename__ = "fingerprint_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    #: the video's key (no foreign key: a removal outlives its video)
    video_pk: Mapped[int] = mapped_column(Integer)
    op: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
