"""Database engine, declarative base and the one-session-per-request unit of work.

Services call :func:`get_session` and commit once per use case; whatever a request leaves
uncommitted (because it failed) is rolled back when the application context ends, so a failed
request writes nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def make_engine(url: str, echo: bool = False, foreign_keys: bool = True) -> Engine:
    """Create an engine; SQLite gets foreign keys and real transactional savepoints.

    Migrations turn SQLite's foreign keys off: batch mode rebuilds tables, and with them on a
    rebuild would cascade deletes into the rows that refer to the table.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide where transactions begin (needed for
            # SAVEPOINT), and enforce foreign keys like PostgreSQL does.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # SQLite's default page cache is 2 MB: a catalogue of a million variables then
            # reads its wide rows (descriptions, dictionaries) from the OS on every request.
            # 64 MB per connection (it grows only as pages are read) and memory-mapped reads.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes_now() else "BEGIN")

        return engine
    # PostgreSQL's JIT compiles a plan whose estimated cost passes jit_above_cost: a search
    # over two common words (its joins estimated at hundreds of thousands of rows) spent
    # 1.2 s compiling to run for 0.1 s. A web request's statements are short: no JIT.
    # psycopg prepares a statement run five times on a connection (parsed once; see
    # end_reading for why they now last beyond one request).
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


# --- writers side by side ------------------------------------------------------------------
#
# SQLite (WAL) has one writer at a time. A transaction that began as a reader and then writes
# fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked") when another connection has
# committed since it began: busy_timeout does not help, as its snapshot is already stale. So a
# transaction that is going to write takes the write lock when it begins (BEGIN IMMEDIATE) and
# waits its turn (busy_timeout) instead: every transaction of a POST/PUT/PATCH/DELETE request,
# of a block under :func:`writing` (CLI commands, jobs) and of :func:`write_in_passing`. Readers
# (GET) begin deferred and never wait for writers. PostgreSQL needs none of this: there a write
# that must not be lost takes a row lock (:func:`lock_revision`).

_WRITE_INTENT: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "harmony_write_intent", default=None
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger("harmony.db")


def writes_now() -> bool:
    """Whether a transaction begun now would be a writer (see above). Once a writing request
    has committed or rolled back its change, what follows (the answer's lazy loads, the access
    log) reads: it must not hold the write lock while the response is made."""
    intent = _WRITE_INTENT.get()
    if intent is not None:
        return intent
    return (
        has_request_context()
        and request.method not in SAFE_METHODS
        and not g.get("db_change_ended", False)
    )


def _after_rollback(session: Session, previous: Any) -> None:
    if previous.parent is None:  # the outermost transaction, not a savepoint
        _change_ended(session)


def _change_ended(_session: Session) -> None:
    if _WRITE_INTENT.get() is None and has_request_context():
        g.db_change_ended = True


@contextlib.contextmanager
def writing(intent: bool = True) -> Iterator[None]:
    """Transactions begun inside the block are writers (SQLite: ``BEGIN IMMEDIATE``), or
    readers with ``intent=False``. For work outside a web request: CLI commands and jobs."""
    token = _WRITE_INTENT.set(intent)
    try:
        yield
    finally:
        _WRITE_INTENT.reset(token)


def write_in_passing(write: Callable[[Session], Any], what: str) -> bool:
    """Make a small write that a reading request does in passing (a session's last use, figures
    kept for the next reader) in a transaction of its own that begins as a writer, so that it
    can neither fail because another worker committed after this request's reads began nor
    leave the read half-committed. It is bookkeeping: when the database stays busy beyond its
    timeout the write is skipped (and logged), never the request. Returns whether it was made.
    """
    if g.get("db_timed_read"):
        raise RuntimeError(f"{what}: a write in passing cannot happen inside query_timeout()")
    session = get_session()
    try:
        with writing():
            # end the reading transaction first: the write must not start from its snapshot
            session.commit()
            write(session)
            session.commit()
    except OperationalError as exc:
        session.rollback()
        log.warning("skipped %s: the database was busy (%s)", what, exc.orig)
        return False
    return True


def lock_revision(obj: Any, revision: str = "revision") -> None:
    """Hold ``obj``'s row until the transaction ends and make sure what the caller checks next
    (its revision for ``If-Match``, its state) is what is committed now, not what was read
    before. Without it two writers quoting the same ETag under PostgreSQL's READ COMMITTED both
    pass the check and the second silently overwrites the first (a lost update); with it the
    second waits for the first to commit, then sees the new revision and gets 412.

    PostgreSQL: ``SELECT … FOR UPDATE`` of the revision. SQLite: a writing request's
    transaction holds the database's write lock from its beginning (``BEGIN IMMEDIATE``), so
    only the revision is re-read. When it moved since ``obj`` was loaded, everything the session
    holds is expired, to be read again as it is now.

    :raises NotFound: when another writer deleted the row meanwhile.
    """
    session = get_session()
    mapper = type(obj)
    column = getattr(mapper, revision)
    identity = mapper.__mapper__.primary_key_from_instance(obj)
    where = [
        col == value for col, value in zip(mapper.__mapper__.primary_key, identity, strict=True)
    ]
    current = session.execute(select(column).where(*where).with_for_update()).scalar_one_or_none()
    if current is None:
        from core.errors import NotFound

        session.expire_all()
        raise NotFound("It was deleted a moment ago.")
    if current != getattr(obj, revision):
        session.expire_all()


def _database_error(exc: DBAPIError) -> Any:
    """Errors that come from writers meeting each other, not from a defect: a busy SQLite
    (503, try again), a PostgreSQL deadlock, serialization failure or lock timeout and a
    uniqueness race (409). Anything else is a defect and stays a logged 500."""
    from core.errors import render_error

    get_session().rollback()
    orig = exc.orig
    code = getattr(orig, "sqlstate", None)
    message = str(orig)
    if isinstance(exc, IntegrityError):
        return render_error(
            409,
            "This change conflicts with data saved at the same moment (a name or identifier "
            "that must be unique was just taken, or a record it refers to was just removed). "
            "Reload and try again.",
            slug="conflict",
        )
    if code in {"40001", "40P01", "55P03"}:
        return render_error(
            409,
            "This change met another one made at the same moment and was not saved. "
            "Reload and try again.",
            slug="conflict",
        )
    if isinstance(exc, OperationalError) and "database is locked" in message:
        return render_error(
            503,
            "The catalogue is busy saving other changes; nothing was saved. Try again in a "
            "few seconds.",
            headers={"Retry-After": "5"},
        )
    log.error("database error", exc_info=exc, extra={"request_id": g.get("request_id")})
    return render_error(500, "Something went wrong on our side. The error has been logged.")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["harmony_db"] = Database(engine=engine, session_factory=factory)
    event.listen(Session, "after_commit", _change_ended)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DBAPIError, _database_error)


def database() -> Database:
    db: Database = current_app.extensions["harmony_db"]
    return db


def get_session() -> Session:
    """The unit of work of the current request or CLI command."""
    if "db_session" not in g:
        g.db_session = database().session_factory()
    session: Session = g.db_session
    return session


F = TypeVar("F", bound=Callable[..., Any])


def transactional(func: F) -> F:
    """A use case that writes: whatever it leaves unfinished when it raises is rolled back at
    once, so that a page rendered after the error never shows half-made changes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BaseException:
            get_session().rollback()
            raise

    return wrapper  # type: ignore[return-value]


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is None:
            end_reading(session)
        session.close()  # discards anything a service did not commit (and keeps loaded objects)


def end_reading(session: Session) -> bool:
    """PostgreSQL: end the session's transaction with COMMIT when it wrote nothing (the
    server assigned it no transaction id: nothing to keep or discard), and say so; anything
    else is left to :meth:`Session.close`, which rolls it back. For the database the two are
    the same, but psycopg forgets every statement it prepared on the connection at each
    ROLLBACK: reading requests ended that way had every statement parsed and planned anew
    each time (a search's ten statements, ~5 ms of its 25)."""
    if session.new or session.dirty or session.deleted or not session.in_transaction():
        return False
    if session.get_bind().dialect.name != "postgresql":
        return False
    try:
        connection = session.connection()
        if connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None:
            return False
        session.commit()
    except DBAPIError:  # no connection (the database is down), or a broken transaction
        return False
    return True


@contextlib.contextmanager
def query_timeout(
    milliseconds: int | None = None, settings: Mapping[str, str] | None = None
) -> Iterator[Session]:
    """Cancel the statements run inside the block once they have taken ``milliseconds``
    altogether (default: the ``QUERY_TIMEOUT_MS`` setting), and answer 503 instead of keeping
    a worker busy: PostgreSQL's ``statement_timeout`` for the transaction, SQLite's progress
    handler. For reading use cases (search, statistics, export); the transaction is rolled back
    when the time is up. PostgreSQL: ``settings`` (name → value, code's own) are set for the
    transaction in the same round trip.

    :raises ServiceUnavailable: when the time is up.
    """
    from core.errors import ServiceUnavailable

    limit = milliseconds if milliseconds is not None else current_app.config["QUERY_TIMEOUT_MS"]
    session = get_session()
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    raw: Any = None
    if sqlite:
        raw = connection.connection.driver_connection
        deadline = time.monotonic() + limit / 1000

        def _interrupt() -> int:
            return 1 if time.monotonic() > deadline else 0

        raw.set_progress_handler(_interrupt, 10_000)
    else:
        # the setting as it was, and the new one for this transaction, in one round trip (a
        # select list is evaluated left to right)
        names = list(settings or {})
        if any(not re.fullmatch(r"[a-z_]+", name) for name in names):
            raise ValueError(f"not a setting's name: {names!r}")
        extra = "".join(f", set_config('{name}', :s{i}, true)" for i, name in enumerate(names))
        previous = session.execute(
            text(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', :value, true)" + extra
            ),
            {"value": str(limit), **{f"s{i}": v for i, v in enumerate((settings or {}).values())}},
        ).one()[0]
    g.db_timed_read = True  # the block must not commit: the limit is the transaction's
    try:
        yield session
    except OperationalError as exc:
        cancelled = "interrupted" in str(exc.orig) if sqlite else _is_cancel(exc)
        if not cancelled:
            raise
        session.rollback()
        raise ServiceUnavailable(
            f"The query took longer than {limit / 1000:g} s and was stopped; "
            "narrow it down (more words, a facet) or try again later."
        ) from exc
    else:
        if not sqlite:
            # a transaction that wrote nothing ends here (its settings with it: see
            # end_reading); another keeps the setting it had for what follows
            wrote = session.execute(
                text(
                    "SELECT txid_current_if_assigned(), "
                    "set_config('statement_timeout', :value, true)"
                ),
                {"value": previous},
            ).one()[0]
            if wrote is None:
                g.pop("db_timed_read", None)
                session.commit()
    finally:
        g.pop("db_timed_read", None)
        if raw is not None:
            raw.set_progress_handler(None, 0)


def _is_cancel(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "57014"  # query_canceled


def vacuum_analyze(tables: Iterable[str], lock_timeout_ms: int = 5000, full: bool = False) -> bool:
    """PostgreSQL, after a large write has committed: VACUUM (ANALYZE) ``tables`` so that
    their indexes answer alone (index-only scans need the visibility map VACUUM sets) from the
    first request on, not whenever autovacuum comes round. VACUUM cannot run inside a
    transaction, so it runs on a connection of its own, and it waits at most
    ``lock_timeout_ms`` for the tables: a transaction still open on them (another worker's,
    or the caller's own) would otherwise hold it until that transaction ends. Returns whether
    it ran; when it did not, autovacuum tidies later and queries stay right, only slower.
    ``full`` rewrites the tables compactly (``VACUUM FULL``: after every row was replaced, the
    old rows' space would otherwise double the pages each scan reads); it holds the tables
    exclusively for the few seconds the rewrite takes. A no-op (True) on other databases."""
    connection = get_session().connection()
    if connection.dialect.name != "postgresql":
        return True
    tables = list(tables)
    if _locked_by_this_transaction(connection, tables, ALL_LOCKS if full else VACUUM_CONFLICTS):
        # the vacuum would wait for this very transaction, which cannot end before it returns:
        # it would only wait out its timeout
        return False
    with connection.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as tidy:
        tidy.exec_driver_sql(f"SET lock_timeout = {int(lock_timeout_ms)}")
        try:
            if full:  # the rewrite leaves the visibility map empty: a plain VACUUM sets it
                tidy.exec_driver_sql(f"VACUUM (FULL) {', '.join(tables)}")
            tidy.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
        except OperationalError:
            return False
    return True


#: the table locks a plain VACUUM waits for (it takes SHARE UPDATE EXCLUSIVE), and every lock
#: (what VACUUM FULL's ACCESS EXCLUSIVE waits for: even a read's ACCESS SHARE)
VACUUM_CONFLICTS = (
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
ALL_LOCKS = (*VACUUM_CONFLICTS, "AccessShareLock", "RowShareLock", "RowExclusiveLock")


def _locked_by_this_transaction(connection: Any, tables: list[str], modes: Sequence[str]) -> bool:
    """Whether the transaction of ``connection`` holds one of the lock ``modes`` on any of
    ``tables`` (it read, wrote or locked them and has not ended)."""
    return bool(
        connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND locktype = 'relation' AND mode = ANY(CAST(:modes AS text[])) "
                "AND relation IN "
                "(SELECT to_regclass(name) FROM unnest(CAST(:tables AS text[])) AS name))"
            ),
            {"tables": tables, "modes": list(modes)},
        ).scalar()
    )


# --- bulk writing ---------------------------------------------------------------------------

#: rows a statement of the portable fallback of :func:`insert_rows` carries
INSERT_CHUNK = 5000


def insert_rows(
    target: Any,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    convert: bool = True,
    in_key_order: bool = False,
    session: Session | None = None,
    chunk: int = INSERT_CHUNK,
) -> int:
    """Insert value tuples for ``columns`` of ``target`` (a model or a table) in the session's
    transaction, and return how many were written. For loads of many thousand rows (the term
    store, data dictionaries, the search index): rows stream through, none is held in memory.

    Large loads spend most of their time here, so this goes below the ORM: values pass through
    the same SQLAlchemy bind processors as in an ORM insert (enums by value, booleans …) unless
    the caller already gives plain values (``convert=False``: strings, numbers, booleans, enums
    as their stored value), then PostgreSQL gets them through COPY and SQLite through the
    driver's ``executemany``, both on the session's own connection, so that a failed load still
    writes nothing. Other databases get SQLAlchemy's executemany, ``chunk`` rows at a time.

    ``in_key_order`` (SQLite): the rows arrive in no particular order of the table's primary
    key, and there are many; they go to a temporary table first and from there, sorted by
    SQLite's own external sorter, into the table: a B-tree filled in key order is written
    page after page instead of at random places (about three times faster for the closure of a
    200,000-term ontology), without holding the rows in memory.

    Nothing here fires ORM events or fills defaults: give every column the table needs.

    :raises sqlalchemy.exc.DBAPIError: as an ORM insert would (IntegrityError for a duplicate
        key …); the transaction is then to be rolled back.
    """
    session = session if session is not None else get_session()
    connection = session.connection()
    dialect = connection.dialect
    table = getattr(target, "__table__", target)
    processors = [table.c[c].type.bind_processor(dialect) for c in columns] if convert else []
    if any(processors):
        rows = (
            tuple(
                v if f is None or v is None else f(v) for f, v in zip(processors, row, strict=True)
            )
            for row in rows
        )
    count = 0

    def counted(items: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        nonlocal count
        for item in items:
            count += 1
            yield item

    raw = connection.connection.driver_connection
    # identifiers of our own tables and columns, quoted by the dialect
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    quoted_table = dialect.identifier_preparer.format_table(table)
    placeholders = ", ".join("?" * len(columns))
    if dialect.name in ("postgresql", "sqlite"):
        if dialect.name == "postgresql":
            sql = f"COPY {quoted_table} ({names}) FROM STDIN"
        else:
            sql = f"INSERT INTO {quoted_table} ({names}) VALUES ({placeholders})"  # noqa: S608
        try:
            if dialect.name == "postgresql":
                with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                    for row in counted(rows):
                        copy.write_row(row)
            elif in_key_order:
                key = ", ".join(
                    dialect.identifier_preparer.quote(c.name) for c in table.primary_key.columns
                )
                staging = "harmony_staging"
                cursor = raw.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(f"DROP TABLE IF EXISTS temp.{staging}")
                    cursor.execute(f"CREATE TEMP TABLE {staging} ({names})")
                    cursor.executemany(
                        f"INSERT INTO temp.{staging} VALUES ({placeholders})",  # noqa: S608
                        counted(rows),
                    )
                    cursor.execute(
                        f"INSERT INTO {quoted_table} ({names}) "  # noqa: S608 - our identifiers
                        f"SELECT {names} FROM temp.{staging} ORDER BY {key}"
                    )
                    cursor.execute(f"DROP TABLE temp.{staging}")
                finally:
                    cursor.close()
            else:
                cursor = raw.cursor()  # type: ignore[union-attr]
                try:
                    cursor.executemany(sql, counted(rows))
                finally:
                    cursor.close()
        except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it
            raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error) from exc
    else:  # any other database: SQLAlchemy's executemany, in chunks
        batch: list[dict[str, Any]] = []
        for row in counted(rows):
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) >= chunk:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
    return count
