"""ORM models of the generation registry (tables created by migration ``0001_foundation``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provenance.registry.db import Base


class Generation(Base):
    """One generation: the record a watermark payload (``mark_id``) points to."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: stored as a signed 64-bit integer (two's complement of the unsigned mark id)
    mark_id_signed: Mapped[int] = mapped_column("mark_id", BigInteger, unique=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    model: Mapped[str] = mapped_column(String(128))
    preset_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prompt_sha256: Mapped[str] = mapped_column(String(64))
    prompt_length: Mapped[int] = mapped_column(Integer)
    disclosure: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="complete")
    media: Mapped[list[Media]] = relationship(
        back_populates="generation", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def mark_id(self) -> int:
        """The unsigned 64-bit mark id carried by the watermark."""
        return self.mark_id_signed & 0xFFFF_FFFF_FFFF_FFFF

    @property
    def mark_hex(self) -> str:
        """``mark_id`` as 16 lowercase hex digits (the watermark payload)."""
        return f"{self.mark_id:016x}"


class Media(Base):
    """A media file produced by a generation, identified by its SHA-256."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generation: Mapped[Generation] = relationship(back_populates="media")
