"""Reports whether the contract suite also ran against Postgres."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.storage.conftest import POSTGRES_SERVER_URL, POSTGRES_URL_VARIABLE


def test_postgres_server_is_reachable() -> None:
    if not POSTGRES_SERVER_URL:
        pytest.skip(
            f"Postgres variants of the storage contract suite not run: set {POSTGRES_URL_VARIABLE}"
            " to a server URL, e.g. postgresql+psycopg://postgres:pw@127.0.0.1:5432/postgres"
        )
    engine = create_engine(POSTGRES_SERVER_URL)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version_num")).scalar_one()
        assert int(version) >= 150000, f"PostgreSQL 15 or newer expected, server is {version}"
    finally:
        engine.dispose()
