"""All persistence in one place: sessions, participants, codes, tokens and the event log."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, delete, event, func, select, tuple_, update
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from tabletop.engine.events import Event, NewEvent, from_json

from .models import EventRow, Facilitator, GameSession, JoinCode, Outbox, Participant, Report, Token

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out across a room
TOKEN_LIFETIME = 7 * 24 * 3600
#: Seconds an event may wait in the outbox for its writer to publish it before another worker does.
OUTBOX_GRACE = 5.0
#: Published rows a writer lets wait for the scheduler loop's delete before deleting them itself.
OUTBOX_BACKLOG = 5000
#: Seconds a worker that claimed an outbox row has to publish it before another may claim it again.
OUTBOX_LEASE = 10.0


class Claimed(Exception):
    """The event's claim was taken already: what it stands for has happened."""


class Stale(Claimed):
    """The log moved on since the state the batch was decided on (another worker appended)."""


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
            kwargs.update(pool_size=10, max_overflow=20)  # pinged when idle a while: `_ping_when_idle`
        self.engine: Engine = create_engine(url, **kwargs)
        # Reads go through their own engine: on SQLite they must not take the write lock.
        self.reader: Engine = create_engine(url, **kwargs) if self.sqlite else self.engine
        if self.sqlite:
            _sqlite_setup(self.engine, immediate=True)
            _sqlite_setup(self.reader, immediate=False)
        else:
            _ping_when_idle(self.engine)
        self.sessions = sessionmaker(self.reader, expire_on_commit=False)
        self.writer = sessionmaker(self.engine, expire_on_commit=False)
        self._published: list[tuple[str, int]] = []  # outbox rows published, deleted by flush_published
        self._flushing = False
        self._published_lock = threading.Lock()
        self._dbapi: Any = self.engine.dialect.loaded_dbapi
        self._sql = _append_sql(self.sqlite)
        self._writer_lock = threading.Lock()
        self._writer_raw: Any = None  # SQLite: the connection appends keep (`_writing`)
        table = _table(GameSession)
        self._active = select(table.c.id, table.c.last_seq).where(table.c.status.in_(("running", "paused")))

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (on SQLite and PostgreSQL alike)."""
        config = alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        with self._writer_lock:
            if self._writer_raw is not None:
                self._writer_raw.close()
                self._writer_raw = None
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
        if not check_password_hash(row.password_hash, password) or row.disabled:
            return None
        return Identity("facilitator", row.id, row.username)

    def facilitator_active(self, facilitator_id: int) -> bool:
        """Whether the account exists and is not disabled (a page login renews its token only then)."""
        with self.sessions() as s:
            row = s.get(Facilitator, facilitator_id)
            return row is not None and not row.disabled

    def set_facilitator_disabled(self, username: str, disabled: bool) -> int | None:
        """Disable (every token revoked) or enable an account; its id, or None when there is none."""
        with self.tx() as s:
            row = s.scalar(select(Facilitator).where(Facilitator.username == username))
            if row is None:
                return None
            row.disabled = disabled
            if disabled:
                s.execute(delete(Token).where(Token.kind == "facilitator", Token.subject == row.id))
            return row.id

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
                return Identity("facilitator", fac.id, fac.username) if fac and not fac.disabled else None
            part = s.get(Participant, row.subject)
            if part is None or part.removed:
                return None
            return Identity(part.kind, part.id, part.name, part.session_id, part.team, part.position, tuple(part.teams))

    def token_expired(self, token: str) -> bool:
        """Whether this token exists but has expired (a revoked one no longer exists)."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return False
        with self.sessions() as s:
            row = s.get(Token, _digest(token))
            return row is not None and row.expires < time.time()

    def revoke_token(self, token: str) -> bool:
        """Revoke one token (a logout); whether it existed."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return False
        with self.tx() as s:
            found = s.get(Token, _digest(token)) is not None
            s.execute(delete(Token).where(Token.digest == _digest(token)))
            return found

    def live_digests(self, digests: list[str]) -> set[str]:
        """Which of these token digests are still valid (unexpired, their account or seat still there)."""
        if not digests:
            return set()
        found: set[str] = set()
        with self.sessions() as s:
            for start in range(0, len(digests), 500):
                chunk = digests[start : start + 500]
                rows = s.execute(
                    select(Token.digest, Token.kind)
                    .outerjoin(Facilitator, (Token.kind == "facilitator") & (Facilitator.id == Token.subject))
                    .outerjoin(Participant, (Token.kind == "participant") & (Participant.id == Token.subject))
                    .where(
                        Token.digest.in_(chunk),
                        Token.expires >= time.time(),
                        ((Token.kind == "facilitator") & Facilitator.id.is_not(None) & ~Facilitator.disabled)
                        | ((Token.kind == "participant") & Participant.id.is_not(None) & ~Participant.removed),
                    )
                )
                found.update(r[0] for r in rows)
        return found

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
        """(session, last seq) of the running and paused sessions: the scheduler asks 4 times a second."""
        with self.reader.connect() as conn:
            rows = conn.execute(self._active)
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

    def participants(self, session_id: str, removed: bool = True) -> list[Participant]:
        """The session's participants (without those removed or moved, when `removed` is False)."""
        with self.sessions() as s:
            query = select(Participant).where(Participant.session_id == session_id)
            if not removed:
                query = query.where(~Participant.removed)
            return list(s.scalars(query.order_by(Participant.id)))

    def get_participant(self, participant_id: int) -> Participant | None:
        with self.sessions() as s:
            return s.get(Participant, participant_id)

    def remove_participant(self, participant_id: int) -> None:
        """Remove a seat: its tokens stop working at once (the caller drops its open connections)."""
        with self.tx() as s:
            s.execute(update(Participant).where(Participant.id == participant_id).values(removed=True))
            s.execute(delete(Token).where(Token.kind == "participant", Token.subject == participant_id))

    def move_participant(self, participant_id: int, team: str, position: str) -> int:
        """Seat a participant elsewhere: a new participant row in the new seat takes over its tokens (the
        same link and cookie keep working, as the new seat); the old row is marked removed. The new id."""
        with self.tx() as s:
            old = s.get(Participant, participant_id)
            assert old is not None and not old.removed
            new = Participant(
                session_id=old.session_id, kind="player", name=old.name, team=team, position=position, teams=[]
            )
            s.add(new)
            s.flush()
            old.removed = True
            s.execute(
                update(Token).where(Token.kind == "participant", Token.subject == participant_id).values(subject=new.id)
            )
            return new.id

    def tokens_of(self, kind: str, subject: int) -> list[str]:
        """The digests of the tokens of a facilitator or a participant (to drop their connections)."""
        with self.sessions() as s:
            return list(s.scalars(select(Token.digest).where(Token.kind == kind, Token.subject == subject)))

    # -------------------------------------------------------------- event log
    def append(
        self, session_id: str, batch: list[NewEvent], wall: float, outbox: bool = False, expected: int | None = None
    ) -> Appended:
        """Append a batch atomically with the next sequence numbers.

        Raises Claimed when a claim of the batch is taken; returns the stored events of an
        earlier send when the first event's client id was seen before from the same actor. With
        `outbox` (several workers), the events also go into the outbox in the same transaction:
        whoever publishes them then says so with `published`. With `expected` (several workers), the
        batch is appended only if the log still ends at that seq, else Stale is raised (a Claimed: the
        caller catches up with the log and decides again), so a worker need not read the log first.
        """
        return self.retry(lambda: self._append(session_id, batch, wall, outbox, expected))

    def _append(
        self, session_id: str, batch: list[NewEvent], wall: float, outbox: bool = False, expected: int | None = None
    ) -> Appended:
        # The hot path of every command and release: plain SQL on the driver's own connection (no
        # statement building, compiling or result objects: those cost more CPU than the database).
        first = batch[0]
        sql = self._sql
        try:
            with self._writing() as raw:
                cursor = raw.cursor()
                try:
                    if self.sqlite:
                        cursor.execute("BEGIN IMMEDIATE")
                    if first.client_id is not None and first.actor is None:
                        # Facilitators have no participant id, so the unique constraint cannot see their resends.
                        cursor.execute(sql["by_client"], (session_id, first.client_id))
                        found = cursor.fetchone()
                        if found is not None:
                            _rollback(raw, self.sqlite)
                            return Appended(self.events_at(session_id, [found[0]]), duplicate=True)
                    if expected is None:
                        cursor.execute(sql["seq"], (len(batch), session_id))
                    else:
                        cursor.execute(sql["seq_if"], (len(batch), session_id, expected))
                    found = cursor.fetchone()
                    if found is None:
                        if expected is None:
                            raise LookupError(f"unknown session {session_id!r}")
                        raise Stale(f"the log of {session_id} moved past seq {expected}")
                    last = found[0]
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
                        (session_id, new.claim, event.seq)
                        for new, event in zip(batch, events, strict=True)
                        if new.claim is not None
                    ]
                    if claims:
                        cursor.executemany(sql["claim"], claims)
                    rows = [
                        (
                            session_id,
                            e.seq,
                            e.type,
                            e.t,
                            wall,
                            e.actor,
                            e.client_id,
                            json.dumps(list(e.audience)),
                            json.dumps(e.payload_json),
                        )
                        for e in events
                    ]
                    if len(rows) == 1:
                        cursor.execute(sql["event"], rows[0])
                    else:
                        cursor.executemany(sql["event"], rows)
                    if outbox:
                        due = time.time() + OUTBOX_GRACE
                        cursor.executemany(sql["outbox"], [(session_id, e.seq, due) for e in events])
                    if self.sqlite:
                        cursor.execute("COMMIT")
                    else:
                        raw.commit()
                except BaseException:
                    _rollback(raw, self.sqlite)
                    raise
                finally:
                    cursor.close()
        except self._dbapi.IntegrityError as exc:
            text = str(exc)
            if "claim" in text or "uq_event_client" in text or "client_id" in text:
                if first.client_id is not None:
                    again = self.events_by_client(session_id, first.actor, first.client_id)
                    if again is not None:
                        return Appended([again], duplicate=True)
                raise Claimed(", ".join(n.claim for n in batch if n.claim)) from None
            raise
        except self._dbapi.OperationalError as exc:  # busy or locked: `retry` runs it again
            raise OperationalError(None, None, exc) from exc
        return Appended(events)

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """The driver connection an append writes on. SQLite writes one at a time anyway: one connection
        is kept for them (a pool check-out and check-in per append cost as much as the INSERT); on
        PostgreSQL, one from the pool."""
        if not self.sqlite:
            raw = self.engine.raw_connection()
            try:
                yield raw
            finally:
                raw.close()
            return
        with self._writer_lock:
            raw, self._writer_raw = self._writer_raw or self.engine.raw_connection(), None
            try:
                yield raw
            except (self._dbapi.IntegrityError, Claimed):
                self._writer_raw = raw  # refused, rolled back: the connection is fine
                raise
            except BaseException:
                raw.close()  # back to the pool (busy, or broken: the pool checks it)
                raise
            self._writer_raw = raw

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
        return self._events(session_id, _table(EventRow).c.seq > seq, limit)

    def events_at(self, session_id: str, seqs: list[int]) -> list[Event]:
        """These events of the session, in order."""
        return self._events(session_id, _table(EventRow).c.seq.in_(seqs))

    def _events(self, session_id: str, which: Any, limit: int | None = None) -> list[Event]:
        # Core, not the ORM: with several workers the log is read whenever another worker appended.
        table = _table(EventRow)
        query = select(table).where(table.c.session_id == session_id, which).order_by(table.c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self.reader.connect() as conn:
            return [_event(r._mapping) for r in conn.execute(query)]

    # ------------------------------------------------------------------ outbox
    # Only with several workers (Live.shared): see Outbox in models.py and docs/architecture.md.
    def published(self, session_id: str, seqs: list[int]) -> None:
        """These events were published: their outbox rows are deleted later, in one statement with the
        others, by the scheduler loop's next pass (`Live.outbox_pass`, at least every quarter second,
        and before it claims anything), not here: `Live` calls this under the session's lock, where a
        DELETE made every command of the session wait for it. A row that outlives its writer is only
        published twice. Should the loop not run, the writer deletes them itself past OUTBOX_BACKLOG."""
        with self._published_lock:
            self._published.extend((session_id, seq) for seq in seqs)
            due = not self._flushing and len(self._published) >= OUTBOX_BACKLOG
            if due:
                self._flushing = True
        if due:
            try:
                self.flush_published()
            finally:
                self._flushing = False

    def flush_published(self) -> int:
        """Delete the outbox rows of the events published since the last flush; how many."""
        with self._published_lock:
            done, self._published = self._published, []
        if not done:
            return 0
        table = _table(Outbox)
        for start in range(0, len(done), 500):
            chunk = done[start : start + 500]
            self.retry(partial(self._delete_outbox, table, chunk))
        return len(done)

    def _delete_outbox(self, table: Table, keys: list[tuple[str, int]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(tuple_(table.c.session_id, table.c.seq).in_(keys)))

    def claim_unpublished(
        self, now: float | None = None, lease: float = OUTBOX_LEASE, limit: int = 500
    ) -> list[tuple[str, int]]:
        """Claim the outbox rows due by `now` (their writer did not publish them in time): each row is
        claimed by one worker only (its `due` moves on by `lease` in the same statement; on PostgreSQL
        rows another worker is claiming are skipped, not waited for). The (session, seq) claimed."""
        now = time.time() if now is None else now
        table = _table(Outbox)
        keys = tuple_(table.c.session_id, table.c.seq)
        due = (
            select(table.c.session_id, table.c.seq)
            .where(table.c.due <= now)
            .order_by(table.c.due)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(table).where(keys.in_(due)).values(due=now + lease).returning(table.c.session_id, table.c.seq)
        )

        def work() -> list[tuple[str, int]]:
            with self.engine.begin() as conn:
                return sorted((r[0], r[1]) for r in conn.execute(statement))

        return self.retry(work)

    def unpublished(self) -> list[tuple[str, int, float]]:
        """Every outbox row: (session, seq, due). For tests and the operator."""
        with self.reader.connect() as conn:
            table = _table(Outbox)
            rows = conn.execute(select(table.c.session_id, table.c.seq, table.c.due).order_by(table.c.due))
            return [(r[0], r[1], r[2]) for r in rows]

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


def _append_sql(sqlite: bool) -> dict[str, str]:
    """The statements of `Store._append` in the driver's own parameter style (qmark or format)."""
    statements = {
        "seq": "UPDATE game_session SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq",
        "seq_if": "UPDATE game_session SET last_seq = last_seq + ? WHERE id = ? AND last_seq = ? RETURNING last_seq",
        "claim": 'INSERT INTO claim (session_id, "key", seq) VALUES (?, ?, ?)',
        "event": "INSERT INTO event (session_id, seq, type, t, wall, actor, client_id, audience, payload) "
        + (
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            if sqlite
            else "VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS JSON), CAST(? AS JSON))"
        ),
        "outbox": "INSERT INTO outbox (session_id, seq, due) VALUES (?, ?, ?)",
        "by_client": "SELECT seq FROM event WHERE session_id = ? AND actor IS NULL AND client_id = ?",
    }
    return statements if sqlite else {k: v.replace("?", "%s") for k, v in statements.items()}


def _rollback(raw: Any, sqlite: bool) -> None:
    """Roll back a raw connection's transaction, if it is still open (never raises)."""
    try:
        if sqlite:
            if raw.driver_connection.in_transaction:
                raw.driver_connection.execute("ROLLBACK")
        else:
            raw.rollback()
    except Exception:  # noqa: BLE001 - the connection is broken: the pool discards it
        raw.invalidate()


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


#: Seconds a pooled PostgreSQL connection may have been idle and still be used without a ping first.
PING_IDLE = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection (SELECT 1) before use only when it was idle PING_IDLE seconds or more: a
    dead one (the server restarted) is replaced then. `pool_pre_ping` pinged at every check-out: one more
    round trip for every append and every read of the log, under load as well."""

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection is dead: {exc}") from exc


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
