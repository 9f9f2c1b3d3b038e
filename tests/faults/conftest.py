"""Fault tests run on SQLite, and on Postgres when CODECNAS_TEST_POSTGRES_URL names a server
(`scripts/with-postgres.sh` gives one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.conftest import BACKENDS, POSTGRES_SERVER_URL, _postgres_database


@pytest.fixture(params=BACKENDS)
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'codecnas.sqlite'}"
        return
    yield from _postgres_database(POSTGRES_SERVER_URL)
