"""The project's errors: callers catch these, never a driver's or SQLAlchemy's own exceptions.

Every message names the thing at fault (the campaign, the trial number, the database URL with its
password masked), so that a log line alone is enough to act on.
"""

from __future__ import annotations


class CodecnasError(Exception):
    """Base of every error codecnas raises on purpose."""


class StorageError(CodecnasError):
    """The database is unreachable, locked, or refused a write (integrity, data too long...)."""


class NotFoundError(CodecnasError):
    """A campaign, trial or artifact that was asked for does not exist."""


class DuplicateError(CodecnasError):
    """Something that must be unique (a campaign name) already exists."""


class StateConflictError(CodecnasError):
    """A trial is not in a state that allows the requested transition.

    Raised, for example, when two controllers race to start the same trial (the loser gets this),
    or when a finished trial would be completed, failed or started again.
    """


class InvalidValueError(CodecnasError, ValueError):
    """A value handed to codecnas is malformed: a NaN metric, a bad digest, a non-JSON config.

    It is also a ``ValueError`` so that generic validation code can catch it as one.
    """


class SpecError(CodecnasError):
    """A campaign spec is invalid (raised by the spec loader)."""


class ResourceError(CodecnasError, ValueError):
    """The cluster lacks what a spec asks for (more CPUs or GPUs per trial than it has)."""
