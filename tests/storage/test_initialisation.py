"""A trial's initialisation (what its weights started from) and the campaign's stored weights."""

from __future__ import annotations

import pytest

from nas.domain import ArtifactPayload, CampaignRecord
from nas.errors import InvalidValueError
from nas.storage import CampaignStore
from tests.storage.test_trials import complete

FROM_TRIAL = {"kind": "trial", "trial_number": 0, "config_hash": "ab" * 32, "fraction": 0.87}


def test_the_initialisation_is_stored_and_read_back(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    trial = store.create_trial(campaign.id, {"c": 1}, "h1")
    assert trial.initialisation is None
    store.start_trial(trial.id)
    done = complete(store, trial.id, initialisation=FROM_TRIAL)
    assert done.initialisation == FROM_TRIAL
    assert store.trial(trial.id).initialisation == FROM_TRIAL
    assert store.trials(campaign.id)[0].initialisation == FROM_TRIAL


def test_a_trial_completed_without_an_initialisation_has_none(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    trial = store.start_trial(store.create_trial(campaign.id, {"c": 1}, "h1").id)
    assert complete(store, trial.id).initialisation is None


def test_an_initialisation_that_is_not_json_is_refused(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    trial = store.start_trial(store.create_trial(campaign.id, {"c": 1}, "h1").id)
    with pytest.raises(InvalidValueError, match="initialisation"):
        complete(store, trial.id, initialisation={"fraction": float("nan")})


def test_checkpoints_lists_completed_trials_with_weights_in_trial_order(
    store: CampaignStore, campaign: CampaignRecord
) -> None:
    other = store.create_campaign("other", {})
    ids = []
    for number in range(4):
        trial = store.start_trial(store.create_trial(campaign.id, {"c": number}, f"h{number}").id)
        ids.append(trial.id)
    weights = [ArtifactPayload("checkpoint", "model.pt", b"w0")]
    complete(store, ids[2], artifacts=[ArtifactPayload("checkpoint", "model.pt", b"w2")])
    complete(store, ids[0], artifacts=weights)
    complete(store, ids[1], artifacts=[ArtifactPayload("config", "config.json", b"{}")])
    store.fail_trial(ids[3], "diverged")
    store.start_trial(store.create_trial(other.id, {"c": 0}, "h0").id)
    found = store.checkpoints(campaign.id)
    assert [(c.trial_number, c.config, c.config_hash) for c in found] == [
        (0, {"c": 0}, "h0"),
        (2, {"c": 2}, "h2"),
    ]
    assert store.artifact_path(found[1].sha256).read_bytes() == b"w2"
    assert store.checkpoints(other.id) == []
