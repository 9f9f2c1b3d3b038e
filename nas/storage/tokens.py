"""Storage of API tokens: made with a role, looked up by the digest of their secret, revoked."""

from __future__ import annotations

from sqlalchemy import select, update

from nas.errors import InvalidValueError, NotFoundError
from nas.storage import guards, validation
from nas.storage.access import Role, TokenRecord, new_secret, secret_digest
from nas.storage.database import Database
from nas.storage.schema import ApiToken, utc_now


def _record(row: ApiToken) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class TokenStore:
    """Token methods of CampaignStore."""

    _db: Database

    def create_token(self, name: str, role: Role | str) -> tuple[TokenRecord, str]:
        """A new token; returns its record and its secret, which is stored only as a digest."""
        name = validation.name(name, "token name", 200)
        try:
            role = Role(role)
        except ValueError:
            raise InvalidValueError(
                f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}"
            ) from None
        secret = new_secret()
        with self._db.session(f"create a {role.value} token {name!r}", write=True) as session:
            row = ApiToken(
                name=name, role=role, secret_sha256=secret_digest(secret), created_at=utc_now()
            )
            session.add(row)
            session.flush()
            return _record(row), secret

    def ensure_token(self, name: str, role: Role | str, secret: str) -> TokenRecord:
        """Store a token whose secret was chosen outside (a deployment's .env), once.

        Starting again with the same secret returns the stored token; a secret already stored
        with another role is refused rather than silently given a second role.
        """
        name = validation.name(name, "token name", 200)
        role = Role(role)
        if not isinstance(secret, str) or len(secret) < 16:
            raise InvalidValueError(f"the secret of token {name!r} must be at least 16 characters")
        digest = secret_digest(secret)
        with self._db.session(f"ensure the {role.value} token {name!r}", write=True) as session:
            row = session.scalars(
                select(ApiToken).where(ApiToken.secret_sha256 == digest)
            ).one_or_none()
            if row is None:
                row = ApiToken(name=name, role=role, secret_sha256=digest, created_at=utc_now())
                session.add(row)
                session.flush()
            elif Role(row.role) != role or row.revoked_at is not None:
                raise InvalidValueError(
                    f"the secret of token {name!r} is stored already as token {row.id} "
                    f"({Role(row.role).value}{', revoked' if row.revoked_at else ''})"
                )
            return _record(row)

    def authenticate(self, secret: str) -> TokenRecord | None:
        """The active token whose secret this is, or None (unknown or revoked)."""
        if not isinstance(secret, str) or not secret:
            return None
        with self._db.session("authenticate a token") as session:
            row = session.scalars(
                select(ApiToken).where(
                    ApiToken.secret_sha256 == secret_digest(secret),
                    ApiToken.revoked_at.is_(None),
                )
            ).one_or_none()
            return None if row is None else _record(row)

    def tokens(self) -> list[TokenRecord]:
        with self._db.session("list tokens") as session:
            return [_record(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]

    def revoke_token(self, token_id: int) -> None:
        """Revoke a token for good; revoking it again changes nothing."""
        with self._db.session(f"revoke token {token_id}", write=True) as session:
            changed = guards.rowcount(
                session,
                update(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utc_now()),
            )
            if changed == 0 and session.get(ApiToken, token_id) is None:
                raise NotFoundError(f"token {token_id!r} not found")
