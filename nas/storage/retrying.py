"""Riding out a database restart: store operations retried while the connection is lost.

``Database.session`` raises ``TransientStorageError`` when the server is unreachable or drops the
connection (refused, terminated, "server closed the connection"); ``retry_transient`` re-runs the
whole store operation (a new session, a new transaction) until it succeeds or the database has
been unavailable for ``Database.retry_seconds``, then raises ``DatabaseUnavailable`` naming the
URL with its password masked. The pool's pre-ping replaces dead connections on checkout.

Why a whole operation is safe to re-run: a transaction cut before its COMMIT was rolled back by
the server, so running it again is the first time it takes effect. Only a connection lost during
the COMMIT itself leaves the outcome unknown; the operations the controller retries are written
so that a second run after a successful first one is harmless (conditional state changes that
recognise their own earlier success, creation keyed by config hash and lease owner, leases and
fronts that are overwritten, reads).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from nas.errors import StorageError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class TransientStorageError(StorageError):
    """The connection to the database was refused or lost; the operation may be retried."""


class DatabaseUnavailable(StorageError):
    """The database stayed unreachable for longer than the retry budget."""


class _HasRetryBudget(Protocol):
    display_url: str
    retry_seconds: float


_inside = threading.local()


def _log_retry(url: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "database %s unavailable (try %d, waiting %.1f s): %s",
            url,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
            error,
        )

    return before_sleep


def call_with_retry(db: _HasRetryBudget, operation: Callable[[], R]) -> R:
    """Run ``operation``, again on TransientStorageError, for up to ``db.retry_seconds``."""
    if getattr(_inside, "active", False):
        return operation()  # an outer store call already retries; do not multiply the waits
    retrying = Retrying(
        retry=retry_if_exception_type(TransientStorageError),
        stop=stop_after_delay(db.retry_seconds),
        wait=wait_exponential(multiplier=0.2, max=5.0),
        before_sleep=_log_retry(db.display_url),
        reraise=False,
    )
    _inside.active = True
    try:
        return retrying(operation)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise DatabaseUnavailable(
            f"database {db.display_url} unavailable for more than {db.retry_seconds:g} s "
            f"(CODECNAS_DB_RETRY_SECONDS): {last}"
        ) from last
    finally:
        _inside.active = False


def retry_transient(method: Callable[P, R]) -> Callable[P, R]:
    """Decorate a store method (``self._db`` is its Database) to ride out connection loss."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store: Any = args[0]
        return call_with_retry(store._db, lambda: method(*args, **kwargs))

    return wrapper
