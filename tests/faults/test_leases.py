"""Trial leases in the store: a live lease is never taken, an expired one is, and the controller
that lost a lease cannot record a result for the trial."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nas.domain import TrialState
from nas.errors import DuplicateError, StateConflictError
from nas.storage.repository import CampaignStore

RESULT = {
    "per_image": {},
    "measurements": [],
    "artifacts": [],
    "feasible": True,
}


def _complete(store: CampaignStore, trial_id: int, owner: str, value: float):  # type: ignore[no-untyped-def]
    metrics = {"bpp": value}
    return store.complete_trial(
        trial_id, metrics=metrics, objectives=metrics, lease_owner=owner, **RESULT
    )


def test_a_lost_lease_refuses_the_late_result(any_database_url: str, tmp_path: Path) -> None:
    with CampaignStore(any_database_url, tmp_path / "artifacts") as store:
        campaign = store.create_campaign("leases", {"budget": {"trials": 2}})
        first = store.create_leased_trial(
            campaign.id, {"c": 1}, "h1", owner="a", lease_seconds=0.5, budget=2
        )
        assert first is not None and first.state == TrialState.RUNNING
        assert store.claim_next_trial(campaign.id, "b", 30) is None, "a live lease was taken"
        time.sleep(0.8)
        # Its own trial is still in a's executor: a never claims it again, even expired.
        assert store.claim_next_trial(campaign.id, "a", 30) is None
        taken = store.claim_next_trial(campaign.id, "b", 30)
        assert taken is not None and taken.id == first.id and taken.attempts == 2
        with pytest.raises(StateConflictError, match="leased by 'b', not by 'a'"):
            _complete(store, first.id, "a", 1.0)
        done = _complete(store, first.id, "b", 2.0)
        assert done.metrics == {"bpp": 2.0}
        # Repeating the call that succeeded (a retried commit) returns the stored trial.
        assert _complete(store, first.id, "b", 2.0) == done
        assert store.trial(first.id).metrics == {"bpp": 2.0}


def test_creation_respects_budget_and_config_uniqueness(
    any_database_url: str, tmp_path: Path
) -> None:
    with CampaignStore(any_database_url, tmp_path / "artifacts") as store:
        campaign = store.create_campaign("budget", {"budget": {"trials": 2}})
        args = {"lease_seconds": 30, "budget": 2}
        one = store.create_leased_trial(campaign.id, {"c": 1}, "h1", owner="a", **args)
        # The same call again (a retry after a lost commit) gets the same trial, not a second.
        assert store.create_leased_trial(campaign.id, {"c": 1}, "h1", owner="a", **args) == one
        with pytest.raises(DuplicateError, match="'h1' already has a trial"):
            store.create_leased_trial(campaign.id, {"c": 1}, "h1", owner="b", **args)
        assert store.create_leased_trial(campaign.id, {"c": 2}, "h2", owner="b", **args)
        assert store.create_leased_trial(campaign.id, {"c": 3}, "h3", owner="a", **args) is None
        assert len(store.trials(campaign.id)) == 2
        assert store.renew_leases("a", 30) == 1
        assert store.expire_leases(campaign.id, ["a"]) == 1
        assert store.lease_owners(campaign.id) == ["a", "b"]
        claimed = store.claim_next_trial(campaign.id, "b", 30)
        assert claimed is not None and claimed.number == 0
