"""The controller's orchestration against real storage, with an in-process executor.

The trial body here is a deterministic function of the config (the real one trains a codec and is
tested on Ray in tests/campaign); what is under test is the ask/tell loop, the bookkeeping,
failure handling and resume.
"""

from __future__ import annotations

from collections import Counter

import pytest

from nas.controller import Controller
from nas.domain import ArtifactPayload, CampaignStatus, TrialJob, TrialOutcome, TrialState
from nas.executor import InProcessExecutor
from nas.pareto import compute_front
from nas.spec import parse_spec
from search_spaces.macs import config_macs
from tests.conftest import tiny_spec


def _synthetic_outcome(job: TrialJob) -> TrialOutcome:
    macs = config_macs(job.space, job.config)
    cost = (macs.encoder + macs.decoder) / 20.0
    return TrialOutcome(
        trial_id=job.trial_id,
        ok=True,
        metrics={
            "quality_ratio_vs_jpeg": 3.0 / (1 + cost / 64),
            "decode_ms_12mp": 100.0 * cost,
            "bpp": 1.0,
        },
        artifacts=[ArtifactPayload("config", "config.json", job.config_hash.encode())],
    )


def _campaign(store, **overrides):
    spec = parse_spec(tiny_spec(**overrides))
    return store.create_campaign(spec.name, spec.to_json())


def test_campaign_runs_its_budget_and_stores_the_front(store):
    campaign = _campaign(
        store,
        budget={"trials": 8, "parallel": 2},
        sampler={"kind": "tpe", "seed": 1, "startup_trials": 3},
    )
    executor = InProcessExecutor(_synthetic_outcome, capacity=2)
    status = Controller(store, campaign.id, executor).run()
    assert status == CampaignStatus.FINISHED
    trials = store.trials(campaign.id)
    assert len(trials) == 8
    assert all(t.state == TrialState.COMPLETE and t.attempts == 1 for t in trials)
    assert len({t.config_hash for t in trials}) == 8, "a config was sampled twice"
    spec = parse_spec(campaign.spec)
    expected = compute_front(trials, spec.objectives)
    assert sorted(t.id for t in store.front(campaign.id)) == sorted(expected.trial_ids)
    history = store.hypervolume_history(campaign.id)
    assert [p.n_complete for p in history] == list(range(1, 9))
    assert history[-1].hypervolume == pytest.approx(expected.hypervolume)
    hv = [p.hypervolume for p in history]
    assert hv == sorted(hv), "hypervolume can only grow as trials are added"
    assert store.campaign(campaign.id).status == CampaignStatus.FINISHED


def test_a_failing_trial_is_recorded_with_its_reason_and_the_campaign_goes_on(store):
    def run(job: TrialJob) -> TrialOutcome:
        if job.number == 1:
            raise FloatingPointError("NaN loss at step 3")
        return _synthetic_outcome(job)

    campaign = _campaign(store, budget={"trials": 4, "parallel": 1})
    Controller(store, campaign.id, InProcessExecutor(run)).run()
    states = {t.number: t for t in store.trials(campaign.id)}
    assert len(states) == 4
    assert states[1].state == TrialState.FAILED
    assert "FloatingPointError: NaN loss at step 3" in states[1].error
    assert all(states[n].state == TrialState.COMPLETE for n in (0, 2, 3))
    assert 1 not in [t.number for t in store.front(campaign.id)]


def test_a_trial_missing_an_objective_fails_clearly(store):
    def run(job: TrialJob) -> TrialOutcome:
        outcome = _synthetic_outcome(job)
        del outcome.metrics["decode_ms_12mp"]
        return outcome

    campaign = _campaign(store, budget={"trials": 1, "parallel": 1})
    Controller(store, campaign.id, InProcessExecutor(run)).run()
    (trial,) = store.trials(campaign.id)
    assert trial.state == TrialState.FAILED
    assert "decode_ms_12mp" in trial.error


def test_constraint_violations_make_trials_infeasible(store):
    campaign = _campaign(
        store,
        budget={"trials": 5, "parallel": 1},
        constraints=[{"metric": "decode_ms_12mp", "max": 3000}],
    )
    Controller(store, campaign.id, InProcessExecutor(_synthetic_outcome)).run()
    for t in store.trials(campaign.id):
        assert t.feasible == (t.metrics["decode_ms_12mp"] <= 3000)
    assert all(t.feasible for t in store.front(campaign.id))


def test_interrupted_campaign_resumes_without_losing_or_repeating_trials(store):
    calls: Counter[int] = Counter()

    def interrupting(job: TrialJob) -> TrialOutcome:
        calls[job.trial_id] += 1
        if sum(calls.values()) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the third trial
        return _synthetic_outcome(job)

    campaign = _campaign(store, budget={"trials": 5, "parallel": 1})
    with pytest.raises(KeyboardInterrupt):
        Controller(store, campaign.id, InProcessExecutor(interrupting)).run()
    assert store.campaign(campaign.id).status == CampaignStatus.INTERRUPTED
    before = {t.id: t for t in store.trials(campaign.id)}
    finished_before = {i for i, t in before.items() if t.state == TrialState.COMPLETE}
    assert len(finished_before) == 2
    (interrupted,) = [t for t in before.values() if t.state == TrialState.RUNNING]

    def counting(job: TrialJob) -> TrialOutcome:
        calls[job.trial_id] += 1
        return _synthetic_outcome(job)

    Controller(store, campaign.id, InProcessExecutor(counting)).run()
    after = {t.id: t for t in store.trials(campaign.id)}
    assert len(after) == 5 and all(t.state == TrialState.COMPLETE for t in after.values())
    for trial_id in finished_before:
        assert calls[trial_id] == 1, "a finished trial ran again"
        assert after[trial_id] == before[trial_id], "a finished trial changed"
    assert after[interrupted.id].attempts == 2
    assert store.campaign(campaign.id).status == CampaignStatus.FINISHED


def test_small_space_exhaustion_ends_the_campaign(store):
    # Asking for more trials than the sampler can find new configs for must end, not spin.
    campaign = _campaign(store, budget={"trials": 3, "parallel": 3})
    Controller(store, campaign.id, InProcessExecutor(_synthetic_outcome, capacity=3)).run()
    assert len(store.trials(campaign.id)) == 3


def test_a_trial_whose_worker_was_lost_runs_again_with_its_attempt_recorded(store):
    def flaky(job: TrialJob) -> TrialOutcome:
        if job.number == 1 and job.attempt == 1:
            return TrialOutcome(
                trial_id=job.trial_id,
                ok=False,
                retryable=True,
                error="worker lost in attempt 1: WorkerCrashedError",
            )
        return _synthetic_outcome(job)

    campaign = _campaign(store, budget={"trials": 3, "parallel": 1, "max_attempts": 2})
    Controller(store, campaign.id, InProcessExecutor(flaky)).run()
    trials = {t.number: t for t in store.trials(campaign.id)}
    assert len(trials) == 3 and all(t.state == TrialState.COMPLETE for t in trials.values())
    assert [trials[n].attempts for n in range(3)] == [1, 2, 1]


def test_a_trial_that_keeps_losing_its_worker_fails_after_max_attempts(store):
    def lost(job: TrialJob) -> TrialOutcome:
        return TrialOutcome(
            trial_id=job.trial_id,
            ok=False,
            retryable=True,
            error=f"worker lost in attempt {job.attempt}: NodeDiedError",
        )

    campaign = _campaign(store, budget={"trials": 1, "parallel": 1, "max_attempts": 3})
    Controller(store, campaign.id, InProcessExecutor(lost)).run()
    (trial,) = store.trials(campaign.id)
    assert trial.state == TrialState.FAILED and trial.attempts == 3
    assert "worker lost in attempt 3" in trial.error
