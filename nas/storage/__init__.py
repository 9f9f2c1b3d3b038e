"""Storage of codecnas: the SQL system of record (SQLite or Postgres) and the artifact files."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas.storage.database import mask_url
    from nas.storage.repository import CampaignStore

# Loaded on first use: SQLAlchemy and Alembic take most of a second, and importing a light
# submodule (nas.storage.access) must not pay for them.
_HOMES = {"CampaignStore": "nas.storage.repository", "mask_url": "nas.storage.database"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'nas.storage' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = ["CampaignStore", "mask_url"]
