"""Where codecnas keeps its database, artifacts and caches; every path is an environment setting."""

from __future__ import annotations

import os
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
