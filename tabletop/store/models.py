"""The database tables (SQLAlchemy 2.0, typed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Facilitator(Base):
    __tablename__ = "facilitator"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # `flask facilitator disable NAME`: no login, every token revoked (its open connections dropped).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Token(Base):
    """A bearer token, stored hashed: a facilitator's login or a participant's seat."""

    __tablename__ = "token"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # facilitator | participant
    subject: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires: Mapped[float] = mapped_column(Float)


class GameSession(Base):
    """One run of an exercise script."""

    __tablename__ = "game_session"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    script: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot of the loaded exercise
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | running | paused | ended
    created_by: Mapped[int | None] = mapped_column(ForeignKey("facilitator.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class JoinCode(Base):
    __tablename__ = "join_code"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("game_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # player | observer
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)  # what an observer may see


class Participant(Base):
    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("game_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # player | observer
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    position: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(80))
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Removed by a facilitator, or moved to another seat (a new participant row took its token).
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class EventRow(Base):
    """The append-only log: one row per event, numbered per session."""

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", name="uq_event_seq"),
        UniqueConstraint("session_id", "actor", "client_id", name="uq_event_client"),
        Index("ix_event_session_seq", "session_id", "seq"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("game_session.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    t: Mapped[float] = mapped_column(Float)
    wall: Mapped[float] = mapped_column(Float)
    actor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    audience: Mapped[list[str]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Claim(Base):
    """Things that may happen once only (an inject's release, a delivery): the key is claimed with the event."""

    __tablename__ = "claim"
    session_id: Mapped[str] = mapped_column(ForeignKey("game_session.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)


class Outbox(Base):
    """Events committed but not yet known to be published, with several workers only (docs/architecture.md).

    Written in the append's transaction and deleted once its writer has published the event; a row
    still here at `due` (its writer died between the commit and the publish, or the queue was down)
    is claimed by one worker, which pushes `due` on by a lease and publishes the event.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "due"),)
    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due: Mapped[float] = mapped_column(Float)  # Unix time from which any worker may publish it


class Report(Base):
    __tablename__ = "report"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("game_session.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | building | done | failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
