"""Where codecnas keeps its database, artifacts and caches; every path is an environment setting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    artifact_root: Path
    anchor_cache: Path

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        home = Path(os.environ.get("CODECNAS_HOME", Path.cwd() / ".codecnas")).resolve()
        url = (
            database_url
            or os.environ.get("CODECNAS_DATABASE_URL")
            or (f"sqlite:///{home / 'codecnas.sqlite'}")
        )
        artifacts = Path(os.environ.get("CODECNAS_ARTIFACTS", home / "artifacts"))
        anchors = Path(os.environ.get("CODECNAS_ANCHOR_CACHE", home / "cache" / "anchors"))
        return cls(home=home, database_url=url, artifact_root=artifacts, anchor_cache=anchors)

    def prepare(self) -> None:
        for folder in (self.home, self.artifact_root, self.anchor_cache):
            folder.mkdir(parents=True, exist_ok=True)
        # Ray workers inherit the environment: share one anchor cache across all of them.
        os.environ["CODECNAS_ANCHOR_CACHE"] = str(self.anchor_cache)


PROFILE_VARIABLE = "CODECNAS_PROFILE"
PROFILES = ("local", "production")
# Secrets that .env.example ships as placeholders; a production server must not start with them.
SECRET_VARIABLES = (
    "CODECNAS_ADMIN_TOKEN",
    "CODECNAS_AGENT_TOKEN",
    "POSTGRES_PASSWORD",
    "RAY_AUTH_TOKEN",
)
_PLACEHOLDERS = ("change_me", "changeme")


class UnsafeSettingsError(ValueError):
    """A setting that must not be used in this profile (a placeholder secret in production)."""


def is_placeholder(value: str) -> bool:
    flat = value.strip().lower()
    return any(p in flat for p in _PLACEHOLDERS)


def refuse_placeholder_secrets(environ: Mapping[str, str], database_url: str) -> str:
    """The profile; UnsafeSettingsError naming every placeholder secret outside "local".

    "local" (the default: the embedded SQLite setup on one machine) allows anything; any other
    profile refuses a placeholder token or password, in the environment or the database URL.
    """
    profile = environ.get(PROFILE_VARIABLE, "local").strip() or "local"
    if profile not in PROFILES:
        raise UnsafeSettingsError(f"{PROFILE_VARIABLE} must be one of {PROFILES}, got {profile!r}")
    if profile == "local":
        return profile
    bad = [name for name in SECRET_VARIABLES if is_placeholder(environ.get(name, ""))]
    password = _url_password(database_url)
    if password is not None and is_placeholder(password):
        bad.append("the password of CODECNAS_DATABASE_URL")
    if bad:
        raise UnsafeSettingsError(
            f"refusing to start with placeholder secrets in the {profile!r} profile: "
            f"{', '.join(bad)} (set real values in .env; generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`, '
            f"or set {PROFILE_VARIABLE}=local on a single machine)"
        )
    return profile


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None
