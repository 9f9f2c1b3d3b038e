"""A content-addressed file store: each distinct byte string is stored once, under its SHA-256.

Layout: ``<root>/<first two hex digits>/<64 hex digits>``. Files are written to a temporary name
in the same directory, flushed to disk, then renamed into place, so a reader never sees a
partial file and concurrent writers of the same content simply replace one complete copy with
another.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from nas.errors import InvalidValueError, NotFoundError

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def validate_digest(sha256: object) -> str:
    """The digest itself if it is 64 lowercase hex digits; anything else is refused by name."""
    if not isinstance(sha256, str) or _SHA256_HEX.fullmatch(sha256) is None:
        raise InvalidValueError(
            f"invalid artifact digest {sha256!r}: expected 64 lowercase hexadecimal digits"
        )
    return sha256


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def location(self, sha256: str) -> Path:
        """Where the content with this digest lives (whether or not it is there)."""
        digest = validate_digest(sha256)
        return self.root / digest[:2] / digest

    def path(self, sha256: str) -> Path:
        """The path of stored content; NotFoundError if it is not in the store."""
        location = self.location(sha256)
        if not location.is_file():
            raise NotFoundError(f"artifact {sha256} not found in {self.root}")
        return location

    def put(self, data: bytes) -> tuple[str, int]:
        """Store ``data`` (once per distinct content); returns its SHA-256 and size."""
        digest = sha256_hex(data)
        target = self.location(digest)
        if target.is_file() and target.stat().st_size == len(data):
            return digest, len(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as temp_file:
                temp_file.write(data)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return digest, len(data)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
