"""Opening runs the Alembic migrations; reopening is idempotent and sees everything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from nas.domain import ArtifactPayload, CampaignStatus, TrialState
from nas.errors import StorageError
from nas.storage import CampaignStore, mask_url
from nas.storage.migrate import HEAD_REVISION, current_revision, head_revision
from nas.storage.schema import Base
from tests.storage.conftest import StoreFactory
from tests.storage.test_trials import complete

REPO = Path(__file__).resolve().parents[2]


def test_reopening_sees_everything(open_store: StoreFactory) -> None:
    first = open_store()
    campaign = first.create_campaign("persisted", {"k": [1, 2]})
    first.set_campaign_status(campaign.id, CampaignStatus.INTERRUPTED)
    trial = first.create_trial(campaign.id, {"c": 1}, "h", {"rng": [1, 2, 3]})
    first.start_trial(trial.id, "w")
    done = complete(first, trial.id, artifacts=[ArtifactPayload("config", "c.json", b"{}")])
    first.replace_front(campaign.id, [trial.id], 0.75, 1)
    pending = first.create_trial(campaign.id, {"c": 2}, "h2")
    first.close()

    again = open_store()
    assert again.campaign("persisted").status is CampaignStatus.INTERRUPTED
    assert again.trials(campaign.id) == [done, pending]
    assert again.sampler_state(trial.id) == {"rng": [1, 2, 3]}
    assert [t.id for t in again.front(campaign.id)] == [trial.id]
    assert again.hypervolume_history(campaign.id)[0].hypervolume == 0.75
    [artifact] = again.artifacts(trial.id)
    assert again.artifact_path(artifact.sha256).read_bytes() == b"{}"
    assert again.count_trials(campaign.id)[TrialState.PENDING] == 1


def test_migrated_schema_matches_the_models(store: CampaignStore) -> None:
    engine = create_engine(store.url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    # Opening a current database compares with HEAD_REVISION instead of loading Alembic.
    assert HEAD_REVISION == head_revision()


def test_migrations_run_from_any_working_directory(tmp_path: Path) -> None:
    # As from an installed package: another cwd, only the import path pointing at the code.
    script = (
        "import sys; from pathlib import Path; from nas.storage import CampaignStore; "
        "s = CampaignStore(sys.argv[1], Path(sys.argv[2])); "
        "print(s.create_campaign('x', {}).id); s.close()"
    )
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'db.sqlite'}"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script, url, str(tmp_path / "artifacts")],
        check=False,
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_unreachable_database_is_a_storage_error_with_the_password_masked(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://codecnas:s3cret@127.0.0.1:1/codecnas"
    with pytest.raises(StorageError) as caught:
        CampaignStore(url, tmp_path / "artifacts")
    message = str(caught.value)
    assert "postgresql+psycopg://codecnas:***@127.0.0.1:1/codecnas" in message
    assert "s3cret" not in message


def test_sqlite_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create the folder .*a-file"):
        CampaignStore(f"sqlite:///{blocker / 'db.sqlite'}", tmp_path / "artifacts")


def test_mask_url_hides_passwords_even_in_unparseable_urls() -> None:
    assert mask_url("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
    assert "pw" not in mask_url("not a url://u:pw@h")
