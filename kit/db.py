"""The database dependency every service declares once (``db = Database(Base.metadata)``).

It gives a worker one-transaction-per-state-change sessions, writes events into the
service's outbox in the same transaction, runs the relay that publishes them after
commit, and applies incoming events at most once (inbox), parking those that keep failing.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, sessionmaker

from kit import clock, logs, offload
from kit.config import settings
from kit.contracts import ActionAudited, Event, EventView, ViewersChanged

log = logging.getLogger(__name__)


class UtcDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def add_messaging_tables(metadata: sa.MetaData) -> None:
    """Outbox, inbox and parked events live in every service's own database."""
    sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("envelope", JsonType, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("published_at", UtcDateTime, nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
    )
    sa.Table(
        "inbox", metadata,
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("applied_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "parked_events", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handler", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("envelope", JsonType, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("parked_at", UtcDateTime, nullable=False),
        sa.Column("replayed_at", UtcDateTime, nullable=True),
    )


class BlobColumns:
    """A file stored by the hash of its content (its bytes in ``blob_chunks``, kit.files), for
    the services that own files: ``class Blob(BlobColumns, Base): __tablename__ = "blobs"``."""

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int] = mapped_column(sa.Integer)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    created_at = mapped_column(UtcDateTime, nullable=False)
    # who stored it (an account or a source address): for the storage quotas
    owner: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        # One connection per engine: greenthreads queue for it instead of spinning in
        # SQLite's busy handler, which would block the whole eventlet hub.
        engine = sa.create_engine(url, pool_size=1, max_overflow=0, pool_timeout=30,
                                  connect_args={"check_same_thread": False, "timeout": 30})

        @sa_event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    _green_postgres()
    # As many kept connections as a process runs workers (nameko's max_workers) and a few for
    # its relay and timers: a pool smaller than the workers opens and closes a PostgreSQL
    # connection (a backend forked, authenticated, torn down) for every request of a rush.
    workers = int(os.environ.get("GONGKAO_MAX_WORKERS") or 10)
    engine = sa.create_engine(url, pool_size=workers + 2, max_overflow=4)
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """SQLAlchemy's recipe for pessimistic disconnect handling, applied only to a connection
    that has rested: one that came back to the pool more than IDLE_PING_SECONDS ago is
    pinged before use, and a dead one is replaced (the pool retries the checkout) — a
    PostgreSQL restart while the service idles costs nobody a request. A connection in use
    during a rush is not pinged: ``pool_pre_ping`` would add a round trip to every request
    (a tenth of a read's cost); should the server go away mid-rush, the first failing query
    invalidates the pool (SQLAlchemy's disconnect detection) and the next requests reconnect."""

    @sa_event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn, record) -> None:
        record.info["checked_in"] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        rested = record.info.get("checked_in")
        if rested is None or time.monotonic() - rested < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()      # psycopg2 opened a transaction for the ping: none is left open
        except Exception as exc:
            raise sa.exc.DisconnectionError() from exc


def _green_postgres() -> None:
    """In a service process (eventlet): psycopg2 waits for PostgreSQL cooperatively
    (psycogreen), so one worker's query no longer stops every other worker of the process —
    the requests of a rush overlap their waits for the database."""
    if offload.patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def keep_calendar(session: Session, model, event):
    """A service's copy of identity's calendar (``identity.year_updated.v1``, R-Y3) in its
    own table ``model`` (year, calendar): created, or replaced unless the event is older than
    the copy (kit.windows.is_older). Returns the row when it changed, else None."""
    from kit.windows import is_older

    row = session.get(model, event.year, with_for_update=True)
    if row is None:
        row = model(year=event.year, calendar=event.calendar())
        session.add(row)
        return row
    if is_older(event, row.calendar):
        return None      # an older calendar arriving late changes nothing
    row.calendar = event.calendar()
    return row


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event as it travels. ``request_id``: the request whose work announced it (kit.logs;
    null for work no request started, a timer's), so its handlers log under the same id."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": clock.now().isoformat(),
        "request_id": logs.request_id(),
        "data": data,
    }


# --- what applicants' views are read from (issue 12) -------------------------------------
# A service whose tables an applicant's views are read from declares, once, which rows are
# whose (``track_viewers``) and which rows every view reads (``track_everyone``); every
# insert, update or delete of them through the ORM marks the session, and ``Db.tx`` announces
# the marked applicants in one ``viewers_event`` in the same transaction (the outbox). Core
# statements mark by hand (``viewers_changed``). An update that changed only what the form
# shows (``form_columns``) marks the applicant's form alone: their steps stay kept.
VIEWERS, FORMS, EVERYONE = "viewers_changed", "forms_changed", "everyone_changed"
VIEWERS_LATER = "viewers_found_before_commit"
VIEWERS_LISTED_MAX = 500        # more in one transaction: announced as everyone


def viewers_changed(session: Session, *keys: tuple[int, str], form_only: bool = False) -> None:
    """Marks the applicants (year, ID number) whose views this transaction changes
    (``form_only``: only their form and its check)."""
    session.info.setdefault(FORMS if form_only else VIEWERS, set()).update((int(y), str(n)) for y, n in keys)


def everyone_changed(session: Session) -> None:
    """Marks a change every applicant's view reads (a calendar, rules, reference data)."""
    session.info[EVERYONE] = True


def _on_write(model: type, mark: Callable[[Session, Any, str], None]) -> None:
    def listener(name):
        def on(mapper, connection, target):
            session = object_session(target)
            if session is not None:
                mark(session, target, name)
        return on
    for name in ("after_insert", "after_update", "after_delete"):
        sa_event.listen(model, name, listener(name))


def track_viewers(model: type, key: Callable[[Any], Any],
                  form_columns: frozenset[str] = frozenset()) -> None:
    """Every ORM write of a ``model`` row marks the applicant ``key(row)`` (None: nobody); an
    update that changed none but ``form_columns`` marks their form only. A row that does not
    carry its applicant returns a function of the session that finds them, called before
    commit (inside a flush no statement may run)."""
    def mark(session, row, name):
        who = key(row)
        if who is None:
            return
        if callable(who):
            session.info.setdefault(VIEWERS_LATER, []).append(who)
            return
        state = sa.inspect(row)
        form_only = bool(form_columns) and name == "after_update" and all(
            attr.key in form_columns for attr in state.attrs if attr.history.has_changes())
        viewers_changed(session, who, form_only=form_only)
    _on_write(model, mark)


def track_viewers_through(model: type, owner: type, by: str = "application_id") -> None:
    """Rows that do not carry their applicant (an order, a seat): marked as the ``owner`` row
    they belong to (whose primary key is their ``by``), which is looked up before commit."""
    def owner_of(row):
        value = getattr(row, by)

        def find(session: Session) -> tuple[int, str] | None:
            found = session.get(owner, value)
            return (found.year, found.id_number) if found is not None else None
        return find
    track_viewers(model, owner_of)


def track_everyone(*models: type) -> None:
    """Every ORM write of these rows marks every applicant's views."""
    for model in models:
        _on_write(model, lambda session, row, name: everyone_changed(session))


class Db:
    """What a worker gets: transactions, the outbox, the inbox."""

    def __init__(self, provider: Database):
        self._p = provider

    @property
    def engine(self) -> sa.Engine:
        return self._p.engine

    @property
    def files(self):
        """The service's file store (kit.files), when its models declare the file tables."""
        from kit.files import FileStore

        if self._p.file_store is None:
            self._p.file_store = FileStore(self._p.metadata)
        return self._p.file_store

    @contextlib.contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error."""
        session = self._p.sessionmaker()
        try:
            with session.begin():
                yield session
                if getattr(self._p, "viewers_event", None) is not None:
                    self._announce_viewers(session)
        finally:
            emitted = session.info.get("emitted", False)
            session.close()
        if emitted:
            self._p.wake_relay()

    def _announce_viewers(self, session: Session) -> None:
        """The applicants whose views this transaction changed, in its outbox (one event)."""
        session.flush()                           # the ORM's pending writes mark them
        for find in session.info.pop(VIEWERS_LATER, []):
            who = find(session)
            if who is not None:
                viewers_changed(session, who)
        keys, everyone = session.info.pop(VIEWERS, set()), session.info.pop(EVERYONE, False)
        forms = session.info.pop(FORMS, set()) - keys
        if everyone or len(keys) + len(forms) > VIEWERS_LISTED_MAX:
            self.emit(session, self._p.viewers_event(everyone=True))
        elif keys or forms:
            self.emit(session, self._p.viewers_event(applicants=sorted(keys), forms=sorted(forms)))

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read of the hot paths, outside any transaction (autocommit): each statement is one
        round trip, where ``tx`` costs BEGIN and COMMIT besides. Only for a single statement,
        or statements that need no common snapshot; nothing written here is kept."""
        if self._p.engine.dialect.name != "postgresql":
            session = self._p.read_sessionmaker()
            try:
                yield session
            finally:
                session.close()
            return
        # psycopg2's own autocommit switched on the checked-out connection, and off again before
        # it goes back: what SQLAlchemy's AUTOCOMMIT isolation level does, without its
        # isolation bookkeeping at each checkout and checkin (a tenth of a queue page's cost in
        # the service, issue 12). The connection comes out of the pool outside any transaction,
        # and nothing here opens one (psycopg2 refuses the switch inside one).
        with self._p.engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            if dbapi.get_transaction_status() != TRANSACTION_STATUS_IDLE:
                dbapi.rollback()       # whatever checked it out before left one open: not ours to keep
            dbapi.autocommit = True
            try:
                with Session(bind=conn, expire_on_commit=False) as session:
                    yield session
            finally:
                try:
                    dbapi.autocommit = False
                except Exception:            # it broke meanwhile: not put back in the pool
                    conn.invalidate()

    @staticmethod
    def lock(session: Session, name: str) -> None:
        """Serialises the transactions that take the same named lock until they end (a
        PostgreSQL advisory lock; SQLite has one writer anyway). For work that must run one
        at a time even when there is no row yet to lock (the first seat assignment)."""
        if session.get_bind().dialect.name == "postgresql":
            key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
            session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def emit(self, session: Session, event: Event) -> str:
        """Writes the event into the outbox, in the transaction of the change it reports;
        the relay publishes it after commit."""
        if not isinstance(event, Event) or not event.EVENT_TYPE:
            raise TypeError(f"emit takes an event model of the producer's schemas, not {type(event).__name__}")
        env = envelope(event.EVENT_TYPE, event.data())
        outbox = self._p.metadata.tables["outbox"]
        session.execute(outbox.insert().values(
            event_id=env["event_id"], event_type=event.EVENT_TYPE, envelope=env,
            created_at=clock.now(), published_at=None))
        session.info["emitted"] = True
        return env["event_id"]

    def emit_many(self, session: Session, events: list[Event]) -> int:
        """``emit`` for many events of one change (a seat assignment announcing thousands of
        tickets): one multi-row insert into the outbox, same transaction."""
        rows = []
        for event in events:
            if not isinstance(event, Event) or not event.EVENT_TYPE:
                raise TypeError(f"emit takes an event model of the producer's schemas, not {type(event).__name__}")
            env = envelope(event.EVENT_TYPE, event.data())
            rows.append({"event_id": env["event_id"], "event_type": event.EVENT_TYPE, "envelope": env,
                         "created_at": clock.now(), "published_at": None})
        if rows:
            session.execute(self._p.metadata.tables["outbox"].insert(), rows)
            session.info["emitted"] = True
        return len(rows)

    def audit(self, session: Session, event_model: type[ActionAudited], who, action: str,
              target: str | None, before: Any = None, after: Any = None) -> str:
        """Records an administrator's action (R-I11) for identity's audit log, in the same
        transaction as the action."""
        return self.emit(session, event_model(
            at=clock.now(), actor=who.username or str(who.id), actor_role=who.role, actor_scope=who.scope_code,
            action=action, target=target, before=before, after=after))

    def apply_event(self, handler: str, env: dict[str, Any],
                    fn: Callable[[Session, Any], None], attempts: int = 3,
                    view: type[EventView] | None = None) -> str:
        """Apply ``fn`` once per (handler, event_id), in one transaction with the inbox
        record. Retries a failing handler, then parks the event for an operator."""
        inbox = self._p.metadata.tables["inbox"]
        event_id = env.get("event_id")
        if not event_id:
            log.error("event without event_id for %s dropped into parking", handler)
            self._park(handler, env, "missing event_id", 0)
            return "parked"
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                with self.tx() as s:
                    seen = s.execute(sa.select(inbox.c.event_id).where(
                        inbox.c.handler == handler, inbox.c.event_id == event_id)).first()
                    if seen:
                        return "duplicate"
                    s.execute(inbox.insert().values(handler=handler, event_id=event_id,
                                                    applied_at=clock.now()))
                    data = env.get("data") or {}
                    fn(s, view.model_validate(data) if view is not None else data)
                return "applied"
            except Exception as exc:  # noqa: BLE001 - every failure is retried, then parked
                error = f"{type(exc).__name__}: {exc}"
                log.warning("handler %s failed on %s (attempt %d/%d): %s",
                            handler, event_id, attempt, attempts, error)
                time.sleep(0.05 * attempt)
        self._park(handler, env, error, attempts)
        return "parked"

    def _park(self, handler: str, env: dict[str, Any], error: str, attempts: int) -> None:
        parked = self._p.metadata.tables["parked_events"]
        with self.tx() as s:
            s.execute(parked.insert().values(
                handler=handler, event_type=env.get("event_type", "?"), envelope=env,
                error=error[:4000], attempts=attempts, parked_at=clock.now()))
        log.error("handler %s parked event %s", handler, env.get("event_id"))


class Database(DependencyProvider):
    """Declare once per service: ``db = Database(Base.metadata)``."""

    poll_seconds = 1.0
    relay_batch = 100

    def __init__(self, metadata: sa.MetaData, viewers_event: type[ViewersChanged] | None = None, **kwargs):
        """``viewers_event``: the service's ``ViewersChanged``, announced by every transaction
        that changed what an applicant's views are read from (``track_viewers``)."""
        self.metadata = metadata
        self.viewers_event = viewers_event
        self.file_store = None
        self.engine: sa.Engine | None = None
        self.sessionmaker: sessionmaker | None = None
        self.read_sessionmaker: sessionmaker | None = None
        self._wake = threading.Event()
        self._running = False
        super().__init__(**kwargs)

    def setup(self):
        service = self.container.service_name
        self.connect(self.container.config.get("DB_URIS", {}).get(service) or settings().db_url(service))
        self.exchange = get_event_exchange(service, self.container.config)
        self.publisher = Publisher(self.container.config["AMQP_URI"], declare=[self.exchange])

    def connect(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # reads outside a transaction: each statement is one round trip (no BEGIN, no COMMIT)
        self.read_sessionmaker = sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                              expire_on_commit=False)

    def start(self):
        self._running = True
        if settings().outbox_relay:
            self.container.spawn_managed_thread(self._relay_loop, identifier="outbox-relay")
            self.wake_relay()
        else:
            log.warning("outbox relay of %s is off: events wait in the outbox", self.container.service_name)

    def stop(self):
        self._running = False
        self._wake.set()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return Db(self)

    # --- the relay ---------------------------------------------------------------------
    def wake_relay(self) -> None:
        self._wake.set()

    def _relay_loop(self) -> None:
        logs.bind(service=self.container.service_name)
        backoff = 0.1
        while self._running:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if not self._running:
                break
            try:
                # a batch not full was everything committed before it was read; anything
                # committed since set the wake (tx), so the next wait returns at once
                while self._running and self.flush_outbox(self.relay_batch) >= self.relay_batch:
                    pass
                backoff = 0.1
            except Exception:  # noqa: BLE001 - the broker or database is away: try again
                log.exception("outbox relay of %s failed; retrying", self.container.service_name)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def flush_outbox(self, batch: int = 100) -> int:
        """Publish unpublished events in order; returns how many were published. They are
        marked published together, in the transaction that read them: if a publish fails,
        none of the batch is marked and all are published again (handlers are idempotent)."""
        outbox = self.metadata.tables["outbox"]
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(outbox.c.id, outbox.c.event_type, outbox.c.envelope)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id).limit(batch)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                # Confirmed publish: returns only once the broker has the message.
                self.publisher.publish(row.envelope, exchange=self.exchange,
                                       routing_key=row.event_type)
            if rows:
                conn.execute(outbox.update().where(outbox.c.id.in_([row.id for row in rows]))
                             .values(published_at=datetime.now(UTC)))
        return len(rows)
