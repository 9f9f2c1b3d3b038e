"""Fixtures of the agent tests: the storage contract fixtures (SQLite always, Postgres when
CODECNAS_TEST_POSTGRES_URL is set), reused from tests/storage, plus a tiny stored model."""

from __future__ import annotations

import pytest

from nas.storage import CampaignStore
from tests.storage.conftest import database_url, open_store, store

__all__ = ["database_url", "model_sha256", "open_store", "store"]


@pytest.fixture
def model_sha256(store: CampaignStore) -> str:
    """A stored model artifact (bytes only: the queue never opens it)."""
    return store.put_model_artifact(b"not really onnx, but content-addressed all the same")
