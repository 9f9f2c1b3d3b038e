"""API tokens: roles, random secrets, and the digest under which a secret is stored.

A token is 32 random bytes (URL-safe base64, 43 characters) shown once when it is made. Only its
SHA-256 is stored: with a secret of that entropy no salt or slow hash adds anything (guessing
2^256 values is the attack either way), and a plain digest lets a request be authenticated with
one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "cnas_"
_SECRET_BYTES = 32


class Role(enum.StrEnum):
    """What a token may do. Every role may read; only some may change things."""

    ADMIN = "admin"  # create, launch, stop and resume campaigns; apply rating scores
    VIEWER = "viewer"  # read, and rate reconstructions on the blind rating page
    AGENT = "agent"  # device agents: register, lease jobs, report results


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    role: Role
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_secret() -> str:
    """A fresh random token, recognisable by its prefix (secret scanners, logs)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 in hexadecimal."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
