from __future__ import annotations

import hashlib
import os

import pytest

from nas.domain import ArtifactPayload, CampaignRecord
from nas.errors import NotFoundError
from nas.storage import CampaignStore
from nas.storage.artifacts import ArtifactStore
from tests.storage.test_trials import complete


def test_identical_content_is_stored_once_and_reads_back_exactly(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    shared = os.urandom(4096)
    a, b = (store.create_trial(campaign.id, {"i": i}, f"h{i}") for i in range(2))
    for trial, own in ((a, b"only in a"), (b, b"only in b")):
        store.start_trial(trial.id)
        complete(
            store,
            trial.id,
            artifacts=[
                ArtifactPayload("checkpoint", "model.pt", shared),
                ArtifactPayload("config", "config.json", own),
            ],
        )

    [a_model, a_config], [b_model, b_config] = store.artifacts(a.id), store.artifacts(b.id)
    assert a_model.sha256 == b_model.sha256 == hashlib.sha256(shared).hexdigest()
    assert a_model.size == len(shared)
    assert a_config.sha256 != b_config.sha256
    assert store.artifact_path(a_model.sha256).read_bytes() == shared
    assert store.artifact_path(b_config.sha256).read_bytes() == b"only in b"
    stored_files = [p for p in store.artifact_root.rglob("*") if p.is_file()]
    assert len(stored_files) == 3  # shared once + two configs, no temporary leftovers


@pytest.mark.parametrize(
    "digest",
    [
        "../etc/passwd",
        "../../" + "a" * 58,
        "A" * 64,
        "g" * 64,
        "a" * 63,
        "a" * 65,
        "",
        "/" + "a" * 63,
    ],
)
def test_artifact_path_rejects_anything_but_a_hex_digest(store: CampaignStore, digest: str) -> None:
    with pytest.raises(ValueError, match="invalid artifact digest") as caught:
        store.artifact_path(digest)
    assert repr(digest) in str(caught.value)


def test_artifact_path_of_absent_content_is_not_found(store: CampaignStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(NotFoundError, match=f"artifact {missing} not found"):
        store.artifact_path(missing)


def test_store_repairs_a_truncated_copy(tmp_path: os.PathLike[str]) -> None:
    artifacts = ArtifactStore(tmp_path)  # type: ignore[arg-type]
    digest, size = artifacts.put(b"0123456789")
    artifacts.path(digest).write_bytes(b"0123")  # e.g. a crash of a tool that wrote in place
    assert artifacts.put(b"0123456789") == (digest, size)
    assert artifacts.path(digest).read_bytes() == b"0123456789"
    assert artifacts.path(digest).parent.parent == artifacts.root
