"""Service tables (migration ``0004_service``): screening decisions for audit, background jobs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from provenance.registry.db import Base


class ScreeningDecisionRow(Base):
    """One screening decision: the prompt's hash and length (not its text), action and why."""

    __tablename__ = "screening_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tier: Mapped[str] = mapped_column(String(16))
    prompt_sha256: Mapped[str] = mapped_column(String(64))
    prompt_length: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of reason codes
    matched: Mapped[str] = mapped_column(Text)  # JSON list of matched registry ids
    policy_version: Mapped[str] = mapped_column(String(64))
    generation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class JobRow(Base):
    """A background job (long verifications): status and JSON result."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    owner_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
