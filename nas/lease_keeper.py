"""A controller's identity and the heartbeat that keeps its trial leases alive.

The owner id is ``host:pid:random``: unique per controller, and it lets a controller starting on
the same host see that the owner of a lease is a dead process (a killed controller) and take its
trials at once instead of waiting for the lease to expire. Owners on other hosts are only taken
over when their lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from nas.errors import CodecnasError, InvalidValueError

log = logging.getLogger(__name__)

LEASE_SECONDS_VARIABLE = "CODECNAS_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 60.0


def default_lease_seconds() -> float:
    """The lease length from CODECNAS_LEASE_SECONDS (default 60 s)."""
    raw = os.environ.get(LEASE_SECONDS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise InvalidValueError(f"{LEASE_SECONDS_VARIABLE} must be seconds > 0, got {raw!r}")
    return value


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_local_owner(owner: str) -> bool:
    """True when ``owner`` names a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by another user
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process its parent has not reaped yet still answers signal 0."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (macOS): trust signal 0
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


class LeaseHeartbeat:
    """Calls ``renew()`` every ``interval`` seconds in a daemon thread until stopped.

    A thread, not the run loop: the loop may block for a whole trial (in-process executor) or
    on the database; leases must outlive both.
    """

    def __init__(self, renew: Callable[[], int], interval: float) -> None:
        self._renew = renew
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> LeaseHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self._interval))

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._renew()
            except CodecnasError as exc:  # the database is away; the next beat tries again
                log.warning("could not renew trial leases: %s", exc)
