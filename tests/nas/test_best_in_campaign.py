"""Best-for-budget from the stored front gives the same answer as a scan of every trial."""

from __future__ import annotations

import random

import pytest

from nas.controller import Controller
from nas.domain import TrialJob, TrialOutcome
from nas.executor import InProcessExecutor
from nas.selection import best_for_budget, best_in_campaign
from nas.spec import parse_spec
from tests.conftest import tiny_spec


def _outcome(job: TrialJob) -> TrialOutcome:
    rng = random.Random(job.trial_id)
    metrics = {"quality_ratio_vs_jpeg": rng.uniform(0.5, 3), "decode_ms_12mp": rng.uniform(10, 900)}
    return TrialOutcome(trial_id=job.trial_id, ok=True, metrics=metrics)


@pytest.mark.parametrize("budget", [5, 50, 200, 450, 10_000])
def test_front_answer_equals_full_scan(store, budget):
    spec = parse_spec(tiny_spec(budget={"trials": 12, "parallel": 1}, constraints=[]))
    campaign = store.create_campaign(spec.name, spec.to_json())
    Controller(store, campaign.id, InProcessExecutor(_outcome)).run()
    fast = best_in_campaign(store, campaign.id, budget)
    slow = best_for_budget(store.trials(campaign.id), budget)
    assert fast.fits == slow.fits
    assert fast.trial is not None and slow.trial is not None
    assert fast.trial.id == slow.trial.id
    assert fast.message == slow.message
