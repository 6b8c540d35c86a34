"""All persistence in one place: sessions, participants, codes, tokens and the event log."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from tabletop.engine.events import Event, NewEvent, from_json

from .models import Claim, EventRow, Facilitator, GameSession, JoinCode, Participant, Report, Token

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out across a room
TOKEN_LIFETIME = 7 * 24 * 3600


class Claimed(Exception):
    """The event's claim was taken already: what it stands for has happened."""


@dataclass(frozen=True)
class Appended:
    events: list[Event]
    duplicate: bool = False  # the client id was seen before: these are the events stored then


@dataclass(frozen=True)
class Identity:
    kind: str  # facilitator | player | observer
    id: int
    name: str
    session_id: str | None = None
    team: str | None = None
    position: str | None = None
    teams: tuple[str, ...] = ()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _table(model: Any) -> Table:
    """A model's table, for the Core statements of the hot path."""
    return cast(Table, model.__table__)


def _event(r: Any) -> Event:
    """The one place a stored row (an `EventRow`, or a Core row's mapping) becomes a typed event."""
    get = r.__getitem__ if isinstance(r, Mapping) else r.__getattribute__
    seq, kind = get("seq"), get("type")
    payload = from_json(kind, get("payload"), seq=seq)  # the mapper: upcast, check, type
    return Event(seq, kind, payload, tuple(get("audience")), get("t"), get("wall"), get("actor"), get("client_id"))


class Store:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url = database_url(url)
        self.sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(url, **kwargs)
        # Reads go through their own engine: on SQLite they must not take the write lock.
        self.reader: Engine = create_engine(url, **kwargs) if self.sqlite else self.engine
        if self.sqlite:
            _sqlite_setup(self.engine, immediate=True)
            _sqlite_setup(self.reader, immediate=False)
        self.sessions = sessionmaker(self.reader, expire_on_commit=False)
        self.writer = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (on SQLite and PostgreSQL alike)."""
        config = alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
        self.reader.dispose()

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, so that writers queue instead of failing)."""
        with self.writer.begin() as session:
            yield session

    def retry(self, work: Callable[[], T], attempts: int = 8) -> T:
        """Run work again when SQLite is busy or locked (never lose the event)."""
        for attempt in range(attempts):
            try:
                return work()
            except OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == attempts - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ facilitators
    def create_facilitator(self, username: str, password: str) -> int:
        with self.tx() as s:
            row = Facilitator(username=username, password_hash=generate_password_hash(password))
            s.add(row)
            s.flush()
            return row.id

    def facilitator_exists(self, username: str) -> bool:
        with self.sessions() as s:
            return (s.scalar(select(func.count()).where(Facilitator.username == username)) or 0) > 0

    def facilitator_count(self) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(Facilitator)) or 0

    def check_facilitator(self, username: str, password: str) -> Identity | None:
        with self.sessions() as s:
            row = s.scalar(select(Facilitator).where(Facilitator.username == username))
        if row is None:
            check_password_hash(generate_password_hash("x"), password)  # same time either way
            return None
        if not check_password_hash(row.password_hash, password):
            return None
        return Identity("facilitator", row.id, row.username)

    # ------------------------------------------------------------------ tokens
    def issue_token(self, kind: str, subject: int, lifetime: float = TOKEN_LIFETIME) -> str:
        token = secrets.token_urlsafe(32)
        with self.tx() as s:
            s.add(Token(digest=_digest(token), kind=kind, subject=subject, expires=time.time() + lifetime))
        return token

    def identify(self, token: str) -> Identity | None:
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return None
        with self.sessions() as s:
            row = s.get(Token, _digest(token))
            if row is None or row.expires < time.time():
                return None
            if row.kind == "facilitator":
                fac = s.get(Facilitator, row.subject)
                return Identity("facilitator", fac.id, fac.username) if fac else None
            part = s.get(Participant, row.subject)
            if part is None:
                return None
            return Identity(part.kind, part.id, part.name, part.session_id, part.team, part.position, tuple(part.teams))

    # ---------------------------------------------------------------- sessions
    def create_session(
        self, exercise_id: str, title: str, script: dict[str, Any], teams: list[str], created_by: int | None
    ) -> str:
        session_id = secrets.token_hex(5)
        with self.tx() as s:
            s.add(
                GameSession(id=session_id, exercise_id=exercise_id, title=title, script=script, created_by=created_by)
            )
            s.flush()
            for team in teams:
                s.add(JoinCode(code=new_code(), session_id=session_id, kind="player", team=team, teams=[]))
            s.add(JoinCode(code=new_code(), session_id=session_id, kind="observer", team=None, teams=list(teams)))
        return session_id

    def get_session(self, session_id: str) -> GameSession | None:
        with self.sessions() as s:
            return s.get(GameSession, session_id)

    def list_sessions(self) -> list[GameSession]:
        with self.sessions() as s:
            return list(s.scalars(select(GameSession).order_by(GameSession.created_at.desc())))

    def active_sessions_seq(self) -> list[tuple[str, int]]:
        with self.sessions() as s:
            rows = s.execute(
                select(GameSession.id, GameSession.last_seq).where(GameSession.status.in_(("running", "paused")))
            )
            return [(r[0], r[1]) for r in rows]

    def set_status(self, session_id: str, status: str) -> None:
        with self.tx() as s:
            s.execute(update(GameSession).where(GameSession.id == session_id).values(status=status))

    def codes(self, session_id: str) -> list[JoinCode]:
        with self.sessions() as s:
            return list(s.scalars(select(JoinCode).where(JoinCode.session_id == session_id).order_by(JoinCode.kind)))

    def find_code(self, code: str) -> JoinCode | None:
        with self.sessions() as s:
            return s.get(JoinCode, normalise_code(code)[:16])

    def set_observer_teams(self, session_id: str, teams: list[str]) -> None:
        with self.tx() as s:
            s.execute(
                update(JoinCode)
                .where(JoinCode.session_id == session_id, JoinCode.kind == "observer")
                .values(teams=teams)
            )

    # ------------------------------------------------------------ participants
    def add_participant(
        self, session_id: str, kind: str, name: str, team: str | None, position: str | None, teams: list[str]
    ) -> int:
        with self.tx() as s:
            row = Participant(session_id=session_id, kind=kind, name=name, team=team, position=position, teams=teams)
            s.add(row)
            s.flush()
            return row.id

    def participants(self, session_id: str) -> list[Participant]:
        with self.sessions() as s:
            return list(s.scalars(select(Participant).where(Participant.session_id == session_id)))

    # -------------------------------------------------------------- event log
    def append(self, session_id: str, batch: list[NewEvent], wall: float) -> Appended:
        """Append a batch atomically with the next sequence numbers.

        Raises Claimed when a claim of the batch is taken; returns the stored events of an
        earlier send when the first event's client id was seen before from the same actor.
        """
        return self.retry(lambda: self._append(session_id, batch, wall))

    def _append(self, session_id: str, batch: list[NewEvent], wall: float) -> Appended:
        # Plain Core statements: this is the hot path of every command and release.
        first = batch[0]
        events_table, claims_table, sessions_table = _table(EventRow), _table(Claim), _table(GameSession)
        try:
            with self.engine.begin() as conn:
                if first.client_id is not None and first.actor is None:
                    # Facilitators have no participant id, so the unique constraint cannot see their resends.
                    earlier = self._by_client(conn, session_id, None, first.client_id)
                    if earlier is not None:
                        return Appended([earlier], duplicate=True)
                last = conn.execute(
                    update(sessions_table)
                    .where(sessions_table.c.id == session_id)
                    .values(last_seq=sessions_table.c.last_seq + len(batch))
                    .returning(sessions_table.c.last_seq)
                ).scalar_one()
                events = [
                    Event(
                        last - len(batch) + n,
                        new.type,
                        new.payload,
                        tuple(new.audience),
                        new.t,
                        wall,
                        new.actor,
                        new.client_id,
                    )
                    for n, new in enumerate(batch, start=1)
                ]
                claims = [
                    {"session_id": session_id, "key": new.claim, "seq": event.seq}
                    for new, event in zip(batch, events, strict=True)
                    if new.claim is not None
                ]
                if claims:
                    conn.execute(insert(claims_table), claims)
                conn.execute(
                    insert(events_table),
                    [
                        {
                            "session_id": session_id,
                            "seq": e.seq,
                            "type": e.type,
                            "t": e.t,
                            "wall": wall,
                            "actor": e.actor,
                            "client_id": e.client_id,
                            "audience": list(e.audience),
                            "payload": e.payload_json,
                        }
                        for e in events
                    ],
                )
                return Appended(events)
        except IntegrityError as exc:
            text = str(exc.orig)
            if "claim" in text or "uq_event_client" in text or "client_id" in text:
                if first.client_id is not None:
                    again = self.events_by_client(session_id, first.actor, first.client_id)
                    if again is not None:
                        return Appended([again], duplicate=True)
                raise Claimed(", ".join(n.claim for n in batch if n.claim)) from None
            raise

    @staticmethod
    def _by_client(conn: Any, session_id: str, actor: int | None, client_id: str) -> Event | None:
        table = _table(EventRow)
        actor_match = table.c.actor.is_(None) if actor is None else table.c.actor == actor
        row = conn.execute(
            select(table).where(table.c.session_id == session_id, actor_match, table.c.client_id == client_id)
        ).first()
        return None if row is None else _event(row._mapping)

    def events_by_client(self, session_id: str, actor: int | None, client_id: str) -> Event | None:
        with self.reader.connect() as conn:
            return self._by_client(conn, session_id, actor, client_id)

    def events_after(self, session_id: str, seq: int = 0, limit: int | None = None) -> list[Event]:
        with self.sessions() as s:
            query = select(EventRow).where(EventRow.session_id == session_id, EventRow.seq > seq).order_by(EventRow.seq)
            if limit is not None:
                query = query.limit(limit)
            return [_event(r) for r in s.scalars(query)]

    def last_seq(self, session_id: str) -> int:
        with self.sessions() as s:
            return s.scalar(select(GameSession.last_seq).where(GameSession.id == session_id)) or 0

    # ------------------------------------------------------------------ reports
    # (after-action reports: rows written by tabletop/report/worker.py while it builds)
    def create_report(self, session_id: str) -> int:
        with self.tx() as s:
            row = Report(session_id=session_id, status="queued", progress=0)
            s.add(row)
            s.flush()
            return row.id

    def update_report(self, report_id: int, **values: Any) -> None:
        """Set status (queued|building|done|failed), progress (0-100), path or error."""
        allowed = {"status", "progress", "path", "error"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"update_report: unknown fields {sorted(unknown)}")
        self.retry(lambda: self._update_report(Report, report_id, values))

    def _update_report(self, model: Any, report_id: int, values: dict[str, Any]) -> None:
        with self.tx() as s:
            s.execute(update(model).where(model.id == report_id).values(**values))

    def get_report(self, report_id: int) -> Any:
        with self.sessions() as s:
            return s.get(Report, report_id)

    def latest_report(self, session_id: str) -> Report | None:
        """The session's most recent report row (whatever its status), or None."""
        with self.sessions() as s:
            return s.scalar(select(Report).where(Report.session_id == session_id).order_by(Report.id.desc()).limit(1))

    def list_reports(self, session_id: str | None = None) -> list[Any]:
        with self.sessions() as s:
            query = select(Report).order_by(Report.created_at.desc(), Report.id.desc())
            if session_id is not None:
                query = query.where(Report.session_id == session_id)
            return list(s.scalars(query))


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def database_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_setup(engine: Engine, immediate: bool) -> None:
    """WAL, a busy timeout, foreign keys; writers BEGIN IMMEDIATE so that they queue instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
