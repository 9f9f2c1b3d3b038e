"""The storage fixtures (SQLite, and Postgres when CODECNAS_TEST_POSTGRES_URL is set)."""

from tests.storage.conftest import campaign, database_url, open_store, store  # noqa: F401
