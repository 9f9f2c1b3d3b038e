"""Schema migrations: bring a database to the newest Alembic revision.

The Alembic configuration is built in code, pointing at the ``migrations`` folder next to this
file, so migrations run the same from a source checkout, an installed wheel, or any working
directory. ``alembic.ini`` in this package is only for developers writing new revisions.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from nas.storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works: it only has to be the same for every codecnas process.
_POSTGRES_MIGRATION_LOCK = 0x636F6465636E6173  # "codecnas"
# The newest revision in migrations/versions (a test checks it against Alembic's head). Opening a
# current database compares with it and never loads Alembic, which takes a third of a second.
HEAD_REVISION = "0004"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for our migrations; with a connection, env.py migrates through it."""
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolates '%': escape it in paths.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration revisions found in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's Alembic revision, read with plain SQL; None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    rows = list(versions)
    return rows[0] if len(rows) == 1 else None


def upgrade_to_head(database: Database) -> None:
    """Create or upgrade the schema; a no-op if it is current. Safe with concurrent openers."""
    # Alembic logs every step at INFO; a store opening is not worth a log line per revision.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with database.write_connection("upgrade the schema") as conn:
        if database.dialect == "postgresql":
            # Serialise concurrent first openings; SQLite's BEGIN IMMEDIATE already does.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
            )
        if current_revision(conn) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(alembic_config(conn), "head")
