"""The storage contract suite runs once per backend: SQLite always, Postgres when
CODECNAS_TEST_POSTGRES_URL names a server (e.g. postgresql+psycopg://user:pw@localhost:5432/postgres).

For Postgres each test gets a fresh database, created on that server and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from nas.domain import CampaignRecord, TrialRecord
from nas.storage import CampaignStore

POSTGRES_URL_VARIABLE = "CODECNAS_TEST_POSTGRES_URL"
POSTGRES_SERVER_URL = os.environ.get(POSTGRES_URL_VARIABLE, "")
# Without a server the Postgres variant of every test is skipped, reported once by
# test_postgres_backend.py rather than once per test.
BACKENDS = ["sqlite", "postgres"] if POSTGRES_SERVER_URL else ["sqlite"]

StoreFactory = Callable[[], CampaignStore]


def _postgres_database(server_url: str) -> Iterator[str]:
    name = f"codecnas_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'codecnas.sqlite'}"
        return
    yield from _postgres_database(POSTGRES_SERVER_URL)


@pytest.fixture
def open_store(database_url: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens any number of stores on the test's database; all closed at the end."""
    opened: list[CampaignStore] = []

    def open_one() -> CampaignStore:
        store = CampaignStore(database_url, tmp_path / "artifacts")
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> CampaignStore:
    return open_store()


@pytest.fixture
def campaign(store: CampaignStore) -> CampaignRecord:
    return store.create_campaign("kodak-search", {"space": "hyperprior", "budget": {"trials": 4}})


@pytest.fixture
def running_trial(store: CampaignStore, campaign: CampaignRecord) -> TrialRecord:
    trial = store.create_trial(campaign.id, {"channels": 64}, "hash-64")
    return store.start_trial(trial.id, worker="worker-a")
