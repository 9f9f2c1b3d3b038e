"""requeue_trial: a running trial whose worker was lost goes back to PENDING, attempts kept."""

from __future__ import annotations

import pytest

from nas.domain import TrialState
from nas.errors import StateConflictError


def test_requeue_keeps_attempts_and_the_next_start_counts_one_more(store, running_trial):
    requeued = store.requeue_trial(running_trial.id)
    assert requeued.state == TrialState.PENDING
    assert requeued.attempts == running_trial.attempts
    assert requeued.worker is None
    again = store.start_trial(running_trial.id, worker="worker-b")
    assert again.attempts == running_trial.attempts + 1


def test_only_running_trials_are_requeued(store, campaign, running_trial):
    pending = store.create_trial(campaign.id, {"channels": 8}, "hash-8")
    with pytest.raises(StateConflictError, match="cannot requeue trial .* it is pending"):
        store.requeue_trial(pending.id)
    store.fail_trial(running_trial.id, "diverged")
    with pytest.raises(StateConflictError, match="it is failed"):
        store.requeue_trial(running_trial.id)
    assert store.trial(running_trial.id).state == TrialState.FAILED
