"""complete_trial is all or nothing: a failure leaves the trial RUNNING with no result rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from nas.domain import ArtifactPayload, TrialRecord, TrialState
from nas.errors import InvalidValueError, StorageError
from nas.storage import CampaignStore
from tests.storage.test_trials import complete

RESULT_TABLES = ("trial_metrics", "image_metrics", "measurements", "artifacts")


@pytest.fixture
def raw_engine(store: CampaignStore) -> Iterator[Engine]:
    """A second, plain connection to the same database, to inject faults and count rows."""
    engine = create_engine(store.url)
    yield engine
    engine.dispose()


def row_counts(engine: Engine, trial_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE trial_id = :t"), {"t": trial_id}
            ).scalar_one()
            for table in RESULT_TABLES
        }


def test_integrity_error_rolls_back_every_row(
    store: CampaignStore, running_trial: TrialRecord, raw_engine: Engine
) -> None:
    # A metric row that complete_trial will collide with, after it has already updated the
    # trial and queued its other rows: a real primary-key violation inside the transaction.
    with raw_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO trial_metrics (trial_id, name, value) VALUES (:t, 'psnr', 1.0)"),
            {"t": running_trial.id},
        )

    with pytest.raises(StorageError, match=f"complete trial {running_trial.id}: integrity error"):
        complete(store, running_trial.id)

    after = store.trial(running_trial.id)
    assert after.state is TrialState.RUNNING and after.objectives is None and after.feasible is None
    assert after.worker == "worker-a"
    assert row_counts(raw_engine, running_trial.id) == {
        "trial_metrics": 1,  # only the injected row
        "image_metrics": 0,
        "measurements": 0,
        "artifacts": 0,
    }

    # The store is still usable, and the same trial can be completed once the fault is gone.
    with raw_engine.begin() as connection:
        connection.execute(
            text("DELETE FROM trial_metrics WHERE trial_id = :t"), {"t": running_trial.id}
        )
    assert complete(store, running_trial.id).state is TrialState.COMPLETE
    assert row_counts(raw_engine, running_trial.id) == {
        "trial_metrics": 3,
        "image_metrics": 3,
        "measurements": 2,
        "artifacts": 2,
    }


class Unbufferable:
    """Not bytes: a worker bug that must not leave half a result behind."""


def test_bad_payload_writes_nothing(
    store: CampaignStore, running_trial: TrialRecord, raw_engine: Engine
) -> None:
    good = ArtifactPayload("checkpoint", "model.pt", b"good bytes")
    bad = ArtifactPayload("onnx_decoder", "decoder.onnx", Unbufferable())  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="data of artifact 'decoder.onnx' must be bytes"):
        complete(store, running_trial.id, artifacts=[good, bad])

    assert store.trial(running_trial.id).state is TrialState.RUNNING
    assert row_counts(raw_engine, running_trial.id) == dict.fromkeys(RESULT_TABLES, 0)
    assert not any(path.is_file() for path in store.artifact_root.rglob("*"))


def test_duplicate_artifact_filenames_are_refused_up_front(
    store: CampaignStore, running_trial: TrialRecord
) -> None:
    twice = [ArtifactPayload("checkpoint", "model.pt", b"a")] * 2
    with pytest.raises(InvalidValueError, match="artifact filename 'model.pt' given twice"):
        complete(store, running_trial.id, artifacts=twice)
    assert store.trial(running_trial.id).state is TrialState.RUNNING
