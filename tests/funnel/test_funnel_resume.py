"""Resuming a funnel interrupted while it trains: stored stages are skipped, finished trials kept,
the trial that was running runs again; nothing is trained twice.

Orchestration only (instant trials, latency from MACs), so it runs in seconds; the real
components are exercised by test_funnel_basic.py and test_funnel_external_agent.py.
"""

from __future__ import annotations

import random

import pytest

from nas.domain import CampaignStatus, TrialJob, TrialOutcome, TrialState
from nas.executor import InProcessExecutor
from nas.funnel.runner import FunnelRunner
from nas.spec import parse_spec
from search_spaces import get_space
from search_spaces.vectorized import batch_from_configs, macs_batch
from tests.funnel.helpers import MacsLatencyModel, funnel_spec

SPACE = get_space("basic")


class MacsMeasurer:
    """Latency 300 ms per decoder kMAC/px: deterministic, so the funnel's path is too."""

    def __init__(self) -> None:
        self.measured: list[str] = []

    def measure(self, configs):
        _, decoder = macs_batch(SPACE, batch_from_configs(SPACE, configs))
        keys = [SPACE.hash(c) for c in configs]
        self.measured += keys
        return {k: 300.0 * float(d) for k, d in zip(keys, decoder, strict=True)}


def instant_trial(job: TrialJob) -> TrialOutcome:
    rng = random.Random(job.config_hash)
    metrics = {"quality_ratio_vs_jpeg": rng.uniform(1, 3), "decode_ms_12mp": 1.0}
    return TrialOutcome(trial_id=job.trial_id, ok=True, metrics=metrics)


class InterruptedExecutor(InProcessExecutor):
    """Raises KeyboardInterrupt in its `after`-th wait, as Ctrl-C would."""

    def __init__(self, after: int) -> None:
        super().__init__(instant_trial, capacity=2)
        self.after, self.waits = after, 0

    def wait(self, timeout=None):
        self.waits += 1
        if self.waits == self.after:
            raise KeyboardInterrupt
        return super().wait(timeout)


def _runner(store, campaign_id, measurer, executor):
    return FunnelRunner(
        store,
        campaign_id,
        latency_model=MacsLatencyModel(SPACE),
        measurer=measurer,
        executor=executor,
    )


def test_a_funnel_interrupted_in_proxy_training_resumes_without_training_twice(store):
    data = funnel_spec(1500.0, name="resume-funnel")
    data["funnel"]["measure"] = {"bootstrap": 4, "configs": 6, "batch": 3}
    data["funnel"]["proxy"] = {
        "configs": 3,
        "steps": 2,
        "keep": 2,
        "promote_by": ["quality_ratio_vs_jpeg"],
    }
    data["budget"]["trials"] = 5
    spec = parse_spec(data)
    campaign = store.create_campaign(spec.name, spec.to_json())
    measurer = MacsMeasurer()

    with pytest.raises(KeyboardInterrupt):
        _runner(store, campaign.id, measurer, InterruptedExecutor(after=2)).run()
    assert store.campaign(campaign.id).status == CampaignStatus.INTERRUPTED
    assert [s.stage for s in store.funnel_stages(campaign.id)] == ["screen", "predict", "measure"]
    first = {t.config_hash: t for t in store.trials(campaign.id)}
    assert sum(t.state == TrialState.COMPLETE for t in first.values()) == 1
    measured = len(measurer.measured)

    assert _runner(store, campaign.id, measurer, InProcessExecutor(instant_trial)).run() == (
        CampaignStatus.FINISHED
    )
    assert len(measurer.measured) == measured  # measured stages were not run again
    trials = store.trials(campaign.id)
    proxy = [t for t in trials if t.rung == 0]
    full = [t for t in trials if t.rung == 1]
    assert len(proxy) == 3 and len({t.config_hash for t in proxy}) == 3
    assert len(full) == 2 and {t.parent_trial_id for t in full} <= {t.id for t in proxy}
    for t in proxy:  # the finished trial kept its single attempt; the others ran once more
        if first[t.config_hash].state == TrialState.COMPLETE:
            assert t.attempts == 1
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # Promoted by quality alone (promote_by): the two best quality ratios of the proxy rung.
    best = sorted(proxy, key=lambda t: t.objectives["quality_ratio_vs_jpeg"])[:2]
    assert {t.config_hash for t in full} == {t.config_hash for t in best}
    stages = store.funnel_stages(campaign.id)
    assert [(s.stage, s.n_out) for s in stages][-2:] == [("proxy", 2), ("full", 2)]
