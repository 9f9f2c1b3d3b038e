"""Engines, sessions, and the one place where database errors become codecnas errors.

SQLite gets WAL (readers never block the writer), foreign keys, and a busy timeout. Python's
``sqlite3`` (3.11) does not BEGIN before SELECTs, so reads are not isolated and a transaction that
reads before it writes can fail at once with "database is locked" instead of waiting. We
therefore take over BEGIN (SQLAlchemy's documented recipe): read sessions use ``BEGIN DEFERRED``
(a consistent snapshot), write sessions ``BEGIN IMMEDIATE`` (take the write lock up front and wait
up to the busy timeout for it), so that read-check-write operations are serialised.
Postgres runs at READ COMMITTED; the repository's state changes are conditional UPDATEs, which
are atomic there too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from nas.errors import CodecnasError, StorageError
from nas.storage.retrying import TransientStorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long store operations wait for a lost database to come back (see retrying.py).
RETRY_SECONDS_VARIABLE = "CODECNAS_DB_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 120.0
# Driver messages of a refused or lost connection (psycopg 3 / libpq), as opposed to an error in
# the statement; "database is locked" is not among them (SQLite's busy timeout handles that).
_LOST_CONNECTION = re.compile(
    r"connection refused|could not connect|connection failed|server closed the connection"
    r"|terminating connection|connection is closed|connection already closed|consuming input"
    r"|the database system is (starting up|shutting down|in recovery mode)|connection reset"
    r"|ssl syscall|no connection to the server|server conn crashed",
    re.IGNORECASE,
)
# Execution option that marks a connection as "will write": SQLite then begins IMMEDIATE.
_WRITE_OPTION = "codecnas_write"

IntegrityErrorHandler = Callable[[IntegrityError], CodecnasError]


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _driver_message(exc: SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's echo of the statement and its parameters
    # (which can be long JSON and is not what an operator needs first).
    orig = getattr(exc, "orig", None)
    if orig is not None:
        return f"{type(orig).__name__}: {str(orig).strip()}"
    return f"{type(exc).__name__}: {exc}"


def is_lost_connection(exc: SQLAlchemyError) -> bool:
    """True when ``exc`` says the server is unreachable or dropped the connection."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return bool(_LOST_CONNECTION.search(str(getattr(exc, "orig", None) or exc)))


def retry_seconds_from_environment() -> float:
    raw = os.environ.get(RETRY_SECONDS_VARIABLE, "")
    if not raw.strip():
        return DEFAULT_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise StorageError(
            f"{RETRY_SECONDS_VARIABLE} must be a number of seconds >= 0, got {raw!r}"
        )
    return value


def _is_in_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode, and much faster than FULL.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN DEFERRED")


def _create_engine(url: str) -> Engine:
    shown = mask_url(url)
    try:
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False}
            if _is_in_memory_sqlite(parsed):
                # One shared connection, or every session would see its own empty database.
                # Only safe when access is serialised (tests, one-shot scripts).
                kwargs["poolclass"] = StaticPool
            else:
                folder = Path(str(parsed.database)).expanduser().parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(
                        f"cannot create the folder {str(folder)!r} of database {shown!r}: {exc}"
                    ) from exc
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(
            f"cannot create a database engine for {shown!r}: {exc} "
            "(for Postgres use a 'postgresql+psycopg://' URL)"
        ) from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


class Database:
    """An engine plus session factories whose errors are translated to codecnas errors."""

    def __init__(self, url: str, retry_seconds: float | None = None) -> None:
        self.url = url
        self.display_url = mask_url(url)
        self.retry_seconds = (
            retry_seconds_from_environment() if retry_seconds is None else retry_seconds
        )
        self.engine = _create_engine(url)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE_OPTION: True}),
            expire_on_commit=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def translate_errors(
        self, operation: str, on_integrity_error: IntegrityErrorHandler | None = None
    ) -> Iterator[None]:
        """Turn SQLAlchemy/DBAPI errors raised inside the block into codecnas errors."""
        try:
            yield
        except IntegrityError as exc:
            if on_integrity_error is not None:
                raise on_integrity_error(exc) from exc
            raise StorageError(
                f"{operation}: integrity error on {self.display_url}: {_driver_message(exc)}"
            ) from exc
        except SQLAlchemyError as exc:
            if is_lost_connection(exc):
                raise TransientStorageError(
                    f"{operation}: lost the connection to database {self.display_url}: "
                    f"{_driver_message(exc)}"
                ) from exc
            if not isinstance(exc, OperationalError):
                raise StorageError(
                    f"{operation}: database error on {self.display_url}: {_driver_message(exc)}"
                ) from exc
            raise StorageError(
                f"{operation}: database {self.display_url} unreachable or locked: "
                f"{_driver_message(exc)}"
            ) from exc

    @contextmanager
    def session(
        self,
        operation: str,
        *,
        write: bool = False,
        on_integrity_error: IntegrityErrorHandler | None = None,
    ) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back on any exception.

        ``write=True`` declares that the block writes; on SQLite it takes the write lock at BEGIN.
        """
        factory = self._write_sessions if write else self._read_sessions
        with self.translate_errors(operation, on_integrity_error):
            session = factory()
            try:
                yield session
                session.commit()
            except BaseException:
                _rollback_quietly(session)
                raise
            finally:
                session.close()

    @contextmanager
    def write_connection(self, operation: str) -> Iterator[Connection]:
        """A Core connection inside one write transaction (used by the migrations)."""
        with self.translate_errors(operation):
            engine = self.engine.execution_options(**{_WRITE_OPTION: True})
            with engine.connect() as connection, connection.begin():
                yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def _rollback_quietly(session: Session) -> None:
    # After a lost connection the rollback fails too; the original error is the useful one.
    try:
        session.rollback()
    except SQLAlchemyError:
        pass
