"""Database engine, declarative base and the one-session-per-request unit of work.

Services call :func:`get_session` and commit once per use case; whatever a request leaves
uncommitted (because it failed) is rolled back when the application context ends, so a failed
request writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import OperationalError
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
            conn.exec_driver_sql("BEGIN")

        return engine
    # PostgreSQL's JIT compiles a plan whose estimated cost passes jit_above_cost: a search
    # over two common words (its joins estimated at hundreds of thousands of rows) spent
    # 1.2 s compiling to run for 0.1 s. A web request's statements are short: no JIT.
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions["harmony_db"] = Database(
        engine=engine, session_factory=sessionmaker(bind=engine, expire_on_commit=False)
    )
    app.teardown_appcontext(_close_session)


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
        session.close()  # discards anything a service did not commit (and keeps loaded objects)


@contextlib.contextmanager
def query_timeout(milliseconds: int | None = None) -> Iterator[Session]:
    """Cancel the statements run inside the block once they have taken ``milliseconds``
    altogether (default: the ``QUERY_TIMEOUT_MS`` setting), and answer 503 instead of keeping
    a worker busy: PostgreSQL's ``statement_timeout`` for the transaction, SQLite's progress
    handler. For reading use cases (search, statistics, export); the transaction is rolled back
    when the time is up.

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
        previous = session.execute(
            text(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', :value, true)"
            ),
            {"value": str(limit)},
        ).one()[0]
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
            session.execute(
                text("SELECT set_config('statement_timeout', :value, true)"), {"value": previous}
            )
    finally:
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
    with connection.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as tidy:
        tidy.exec_driver_sql(f"SET lock_timeout = {int(lock_timeout_ms)}")
        try:
            if full:  # the rewrite leaves the visibility map empty: a plain VACUUM sets it
                tidy.exec_driver_sql(f"VACUUM (FULL) {', '.join(tables)}")
            tidy.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
        except OperationalError:
            return False
    return True
