"""Storage of codecnas: the SQL system of record (SQLite or Postgres) and the artifact files."""

from nas.storage.database import mask_url
from nas.storage.repository import CampaignStore

__all__ = ["CampaignStore", "mask_url"]
